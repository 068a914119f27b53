/* admin_keys.c - placeholder until its helper lands it. */
