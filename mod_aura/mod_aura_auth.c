/* mod_aura_auth.c - placeholder until its helper lands it. */
