/* aura_anthropic_dec.c - placeholder; its implementation lands with issue 4. */
typedef int aura_placeholder_anthropic_dec;
