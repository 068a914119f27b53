/*
 * aura_vkey.c - virtual key generation, parsing and verification.
 */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <apr_strings.h>

#include "aura_vkey.h"

static const char id_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
static const char secret_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* n characters drawn uniformly from alphabet (rejection sampling: no
 * modulo bias). */
static int random_chars(char *out, size_t n, const char *alphabet)
{
    size_t k = strlen(alphabet), have = 0, i;
    unsigned limit = 256 - (256 % k);
    unsigned char buf[64];

    while (have < n) {
        if (RAND_bytes(buf, sizeof(buf)) != 1)
            return -1;
        for (i = 0; i < sizeof(buf) && have < n; i++)
            if (buf[i] < limit)
                out[have++] = alphabet[buf[i] % k];
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    return 0;
}

const char *aura_vkey_generate(apr_pool_t *p, const char **key_id)
{
    char *key = apr_palloc(p, AURA_VKEY_LEN + 1);
    char *id = key + 8;

    memcpy(key, AURA_VKEY_PREFIX, 8);
    if (random_chars(id, AURA_VKEY_ID_LEN, id_chars) ||
        random_chars(id + AURA_VKEY_ID_LEN + 1, AURA_VKEY_SECRET_LEN,
                     secret_chars))
        return NULL;
    id[AURA_VKEY_ID_LEN] = '-';
    key[AURA_VKEY_LEN] = '\0';
    if (key_id)
        *key_id = apr_pstrmemdup(p, id, AURA_VKEY_ID_LEN);
    return key;
}

static int all_in(const char *s, size_t n, const char *alphabet)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!s[i] || !strchr(alphabet, s[i]))
            return 0;
    return 1;
}

int aura_vkey_parse(apr_pool_t *p, const char *key, const char **key_id)
{
    const char *id;

    if (!key || strlen(key) != AURA_VKEY_LEN ||
        strncmp(key, AURA_VKEY_PREFIX, 8))
        return 0;
    id = key + 8;
    if (!all_in(id, AURA_VKEY_ID_LEN, id_chars) ||
        id[AURA_VKEY_ID_LEN] != '-' ||
        !all_in(id + AURA_VKEY_ID_LEN + 1, AURA_VKEY_SECRET_LEN,
                secret_chars))
        return 0;
    if (key_id)
        *key_id = apr_pstrmemdup(p, id, AURA_VKEY_ID_LEN);
    return 1;
}

void aura_vkey_hash(const char *key, unsigned char out[AURA_VKEY_HASH_LEN])
{
    SHA256((const unsigned char *)key, strlen(key), out);
}

int aura_vkey_verify(const char *key,
                     const unsigned char hash[AURA_VKEY_HASH_LEN])
{
    unsigned char h[AURA_VKEY_HASH_LEN];
    aura_vkey_hash(key, h);
    return CRYPTO_memcmp(h, hash, AURA_VKEY_HASH_LEN) == 0;
}
