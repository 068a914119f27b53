/* admin_tenants.c - placeholder until its helper lands it. */
