/* mod_aura_db.h - placeholder */
