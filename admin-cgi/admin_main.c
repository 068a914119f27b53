/* admin_main.c - placeholder until its helper lands it. */
int main(void) { return 0; }
