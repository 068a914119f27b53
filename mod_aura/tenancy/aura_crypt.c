/*
 * aura_crypt.c - AES-256-GCM envelope encryption (see aura_crypt.h).
 */
#include <string.h>
#include <stdio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "aura_crypt.h"
#include "aura_vkey.h"

#define NONCE_LEN 12
#define TAG_LEN 16

/* ------------------------------------------------------------ base64url */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *b64url(apr_pool_t *p, const unsigned char *in, size_t n)
{
    char *out = apr_palloc(p, (n + 2) / 3 * 4 + 1), *o = out;
    size_t i;

    for (i = 0; i + 2 < n; i += 3) {
        *o++ = b64[in[i] >> 2];
        *o++ = b64[(in[i] & 3) << 4 | in[i + 1] >> 4];
        *o++ = b64[(in[i + 1] & 15) << 2 | in[i + 2] >> 6];
        *o++ = b64[in[i + 2] & 63];
    }
    if (i < n) {
        *o++ = b64[in[i] >> 2];
        if (i + 1 < n) {
            *o++ = b64[(in[i] & 3) << 4 | in[i + 1] >> 4];
            *o++ = b64[(in[i + 1] & 15) << 2];
        } else {
            *o++ = b64[(in[i] & 3) << 4];
        }
    }
    *o = '\0';
    return out;
}

static int b64val(char c)
{
    const char *at = c ? strchr(b64, c) : NULL;
    return at ? (int)(at - b64) : -1;
}

/* Decodes [s, s+n) (no padding); returns the length or -1. */
static long unb64url(const char *s, size_t n, unsigned char *out, size_t cap)
{
    size_t i, len = 0;
    unsigned acc = 0;
    int bits = 0, v;

    if (n % 4 == 1)
        return -1;
    for (i = 0; i < n; i++) {
        if ((v = b64val(s[i])) < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (len >= cap)
                return -1;
            out[len++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return (long)len;
}

/* ------------------------------------------------------------ AES-GCM */

static int gcm(int enc, const unsigned char *key, const unsigned char *nonce,
               const char *aad, const unsigned char *in, int n,
               unsigned char *out, unsigned char *tag)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0, ok;

    ok = c && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) &&
         EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) &&
         EVP_CipherUpdate(c, NULL, &len, (const unsigned char *)aad,
                          (int)strlen(aad)) &&
         EVP_CipherUpdate(c, out, &len, in, n);
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag);
    ok = ok && EVP_CipherFinal_ex(c, out + len, &len);
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag);
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

const char *aura_seal(apr_pool_t *p, const unsigned char *master,
                      const char *aad, const char *plaintext,
                      const char **out)
{
    unsigned char dek[AURA_MASTER_KEY_LEN], nk[NONCE_LEN], ns[NONCE_LEN];
    unsigned char wdek[AURA_MASTER_KEY_LEN + TAG_LEN];
    size_t n = strlen(plaintext);
    unsigned char *ct = apr_palloc(p, n + TAG_LEN + 1);
    const char *err = NULL;

    if (RAND_bytes(dek, sizeof(dek)) != 1 || RAND_bytes(nk, NONCE_LEN) != 1 ||
        RAND_bytes(ns, NONCE_LEN) != 1)
        err = "no randomness";
    else if (gcm(1, master, nk, aad, dek, sizeof(dek), wdek,
                 wdek + AURA_MASTER_KEY_LEN) ||
             gcm(1, dek, ns, aad, (const unsigned char *)plaintext, (int)n,
                 ct, ct + n))
        err = "encryption failed";
    else
        *out = apr_pstrcat(p, "v1.", b64url(p, nk, NONCE_LEN), ".",
                           b64url(p, wdek, sizeof(wdek)), ".",
                           b64url(p, ns, NONCE_LEN), ".",
                           b64url(p, ct, n + TAG_LEN), NULL);
    OPENSSL_cleanse(dek, sizeof(dek));
    return err;
}

/* The next dot-separated field of *s, decoded; -1 when malformed. */
static long field(const char **s, unsigned char *out, size_t cap)
{
    const char *dot = strchr(*s, '.');
    size_t n = dot ? (size_t)(dot - *s) : strlen(*s);
    long len = unb64url(*s, n, out, cap);
    *s += n + (dot ? 1 : 0);
    return len;
}

const char *aura_open(apr_pool_t *p, const unsigned char *master,
                      const char *aad, const char *sealed,
                      const char **plaintext)
{
    unsigned char dek[AURA_MASTER_KEY_LEN], nk[NONCE_LEN], ns[NONCE_LEN];
    unsigned char wdek[AURA_MASTER_KEY_LEN + TAG_LEN];
    size_t cap = sealed ? strlen(sealed) : 0;
    unsigned char *ct = apr_palloc(p, cap + 1);
    char *pt = apr_palloc(p, cap + 1);
    const char *s = sealed;
    long n;
    int bad;

    if (!sealed || strncmp(sealed, "v1.", 3))
        return "malformed sealed value";
    s += 3;
    if (field(&s, nk, NONCE_LEN) != NONCE_LEN ||
        field(&s, wdek, sizeof(wdek)) != (long)sizeof(wdek) ||
        field(&s, ns, NONCE_LEN) != NONCE_LEN ||
        (n = field(&s, ct, cap)) < TAG_LEN || s[-1] == '.')
        return "malformed sealed value";
    n -= TAG_LEN;
    bad = gcm(0, master, nk, aad, wdek, AURA_MASTER_KEY_LEN, dek,
              wdek + AURA_MASTER_KEY_LEN) ||
          gcm(0, dek, ns, aad, ct, (int)n, (unsigned char *)pt, ct + n);
    OPENSSL_cleanse(dek, sizeof(dek));
    if (bad)
        return "authentication failed (wrong master key, wrong row, "
               "or tampered)";
    pt[n] = '\0';
    if (strlen(pt) != (size_t)n)
        return "sealed value holds a NUL byte";
    *plaintext = pt;
    return NULL;
}

const char *aura_master_key_load(apr_pool_t *p, const char *path,
                                 unsigned char key[AURA_MASTER_KEY_LEN])
{
    char buf[128];
    apr_file_t *f;
    apr_size_t n = sizeof(buf) - 1;
    apr_status_t rv;

    if ((rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                            0, p)) != APR_SUCCESS)
        return apr_psprintf(p, "cannot open master key file %s", path);
    rv = apr_file_read(f, buf, &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF)
        return apr_psprintf(p, "cannot read master key file %s", path);
    if (n == AURA_MASTER_KEY_LEN) {
        memcpy(key, buf, n);
        OPENSSL_cleanse(buf, sizeof(buf));
        return NULL;
    }
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    if (!(n == 64 && aura_unhex(buf, key, AURA_MASTER_KEY_LEN) == 0)) {
        /* 44 characters of standard base64 with one '=' of padding. */
        size_t i;
        for (i = 0; i < n; i++)
            buf[i] = buf[i] == '+' ? '-' : buf[i] == '/' ? '_' : buf[i];
        if (!(n == 44 && buf[43] == '=' &&
              unb64url(buf, 43, key, AURA_MASTER_KEY_LEN) ==
                  AURA_MASTER_KEY_LEN)) {
            OPENSSL_cleanse(buf, sizeof(buf));
            return apr_psprintf(p, "master key file %s must hold 32 bytes "
                                "(raw, 64 hex digits or base64)", path);
        }
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    return NULL;
}

const char *aura_cred_aad(apr_pool_t *p, long long org_id,
                          const char *provider)
{
    return org_id ? apr_psprintf(p, "aura-cred/%" APR_INT64_T_FMT "/%s",
                                 (apr_int64_t)org_id, provider)
                  : apr_pstrcat(p, "aura-cred/*/", provider, NULL);
}
