/* aura_bedrock_dec.c - placeholder; its implementation lands with issue 4. */
typedef int aura_placeholder_bedrock_dec;
