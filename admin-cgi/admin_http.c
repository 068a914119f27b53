/* admin_http.c - placeholder until its helper lands it. */
