/* aura_sigv4.c - placeholder; its implementation lands with issue 4. */
typedef int aura_placeholder_sigv4;
