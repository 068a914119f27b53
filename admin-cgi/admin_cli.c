/* admin_cli.c - placeholder until its helper lands it. */
