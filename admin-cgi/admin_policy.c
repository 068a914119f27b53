/* admin_policy.c - placeholder until its helper lands it. */
