/* test_vault.c - placeholder */
#include "aura_test.h"
int main(void) { return 0; }
