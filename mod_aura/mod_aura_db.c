/* mod_aura_db.c - placeholder until its helper lands it. */
