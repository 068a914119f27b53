/* admin_migrate.c - placeholder until its helper lands it. */
