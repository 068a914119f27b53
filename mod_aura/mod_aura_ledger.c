/* mod_aura_ledger.c - placeholder until its helper lands it. */
