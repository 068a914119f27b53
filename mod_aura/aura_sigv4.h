/* aura_sigv4.h - placeholder; its interface lands with issue 4. */
#ifndef AURA_SIGV4_H
#define AURA_SIGV4_H
#endif
