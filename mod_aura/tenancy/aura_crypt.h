/*
 * aura_crypt.h - AES-256-GCM envelope encryption of provider credentials.
 *
 * Each secret gets its own random 256-bit data key; the data key is
 * sealed under the master key, the secret under the data key, both with
 * AES-256-GCM and a random 96-bit nonce. The associated data (for a
 * credential: "<org id or *>/<provider>") is authenticated by both layers,
 * so a sealed value copied onto another row fails to open. Rotating the
 * master key re-seals only the 32-byte data keys.
 *
 * Text form, ASCII, one line:
 *   v1.<base64url nonce_k>.<base64url sealed data key + tag>
 *     .<base64url nonce_s>.<base64url ciphertext + tag>
 */
#ifndef AURA_CRYPT_H
#define AURA_CRYPT_H

#include <apr_pools.h>

#define AURA_MASTER_KEY_LEN 32

/* Read a master key file: 32 raw bytes, or 64 hex digits, or 44 base64
 * characters, each optionally followed by a newline. Returns NULL or an
 * error message (never the file's content). */
const char *aura_master_key_load(apr_pool_t *p, const char *path,
                                 unsigned char key[AURA_MASTER_KEY_LEN]);

/* Seal plaintext; *out is the text form in p. Returns NULL or an error. */
const char *aura_seal(apr_pool_t *p, const unsigned char *master,
                      const char *aad, const char *plaintext,
                      const char **out);

/* Open the text form; *plaintext (NUL-terminated, in p). Returns NULL or an
 * error message ("malformed", "authentication failed": wrong key, wrong
 * aad, or tampered). */
const char *aura_open(apr_pool_t *p, const unsigned char *master,
                      const char *aad, const char *sealed,
                      const char **plaintext);

/* The associated data of a credential row. org_id 0 = every org. */
const char *aura_cred_aad(apr_pool_t *p, long long org_id,
                          const char *provider);

#endif /* AURA_CRYPT_H */
