/* admin_db.c - placeholder until its helper lands it. */
