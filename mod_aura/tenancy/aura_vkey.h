/*
 * aura_vkey.h - virtual keys: "sk-aura-<key_id>-<secret>".
 *
 * key_id is 12 characters [a-z0-9], public (lists, logs, the ledger, the
 * socache index); secret is 40 characters [A-Za-z0-9] from the OS's CSPRNG
 * (~238 bits). Only SHA-256 of the whole key is stored: a secret of that
 * entropy needs no slow hash, and a fast one keeps verification in the
 * microseconds. The "sk-" prefix makes the gateway's log redaction and
 * common secret scanners recognise the key.
 */
#ifndef AURA_VKEY_H
#define AURA_VKEY_H

#include "aura.h"   /* aura_hex, aura_unhex */

#include <apr_pools.h>

#define AURA_VKEY_PREFIX "sk-aura-"
#define AURA_VKEY_ID_LEN 12
#define AURA_VKEY_SECRET_LEN 40
#define AURA_VKEY_LEN (8 + AURA_VKEY_ID_LEN + 1 + AURA_VKEY_SECRET_LEN)
#define AURA_VKEY_HASH_LEN 32

/* A new key; *key_id points into the key's copy of the id (NUL-terminated,
 * in p). Returns NULL when the CSPRNG fails. */
const char *aura_vkey_generate(apr_pool_t *p, const char **key_id);

/* Split a presented key: 1 and *key_id (in p) when it has the shape of a
 * virtual key, 0 otherwise. Says nothing about whether it is valid. */
int aura_vkey_parse(apr_pool_t *p, const char *key, const char **key_id);

/* SHA-256 of the whole key. */
void aura_vkey_hash(const char *key, unsigned char out[AURA_VKEY_HASH_LEN]);

/* Constant-time: 1 when key hashes to `hash`. */
int aura_vkey_verify(const char *key,
                     const unsigned char hash[AURA_VKEY_HASH_LEN]);

#endif /* AURA_VKEY_H */
