/* admin_reports.c - placeholder until its helper lands it. */
