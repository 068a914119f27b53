/*
 * test_vault.c - virtual keys (aura_vkey) and the credential envelope
 * (aura_crypt): shapes, uniqueness, verification, and every way a sealed
 * value can be wrong (other key, other row, tampered, truncated, junk).
 */
#include <stdio.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include <openssl/sha.h>

#include "aura_test.h"
#include "aura_vkey.h"
#include "aura_crypt.h"

static void test_keys(apr_pool_t *p)
{
    const char *id = NULL, *id2 = NULL, *key, *parsed = NULL;
    unsigned char h[AURA_VKEY_HASH_LEN], want[AURA_VKEY_HASH_LEN];
    apr_hash_t *seen = apr_hash_make(p);
    char *bad;
    int i, unique = 1;

    key = aura_vkey_generate(p, &id);
    AT_OK(key != NULL, "a key is generated");
    AT_INTEQ(strlen(key), AURA_VKEY_LEN, "key length");
    AT_OK(!strncmp(key, "sk-aura-", 8), "key prefix sk-aura-");
    AT_INTEQ(strlen(id), AURA_VKEY_ID_LEN, "key id length");
    AT_OK(!strncmp(key + 8, id, AURA_VKEY_ID_LEN), "key id is in the key");
    AT_OK(key[8 + AURA_VKEY_ID_LEN] == '-', "id and secret separated by -");
    AT_OK(aura_vkey_parse(p, key, &parsed), "a generated key parses");
    AT_STREQ(parsed, id, "parse gives the key id back");

    for (i = 0; i < 2000; i++) {
        const char *k = aura_vkey_generate(p, &id2);
        if (apr_hash_get(seen, id2, APR_HASH_KEY_STRING))
            unique = 0;
        apr_hash_set(seen, id2, APR_HASH_KEY_STRING, k);
    }
    AT_OK(unique, "2000 key ids are all different");

    SHA256((const unsigned char *)key, strlen(key), want);
    aura_vkey_hash(key, h);
    AT_OK(!memcmp(h, want, sizeof(h)), "hash is SHA-256 of the whole key");
    AT_OK(aura_vkey_verify(key, h), "the key verifies against its hash");
    bad = apr_pstrdup(p, key);
    bad[AURA_VKEY_LEN - 1] = bad[AURA_VKEY_LEN - 1] == 'a' ? 'b' : 'a';
    AT_OK(!aura_vkey_verify(bad, h), "one changed character fails");
    AT_OK(aura_vkey_parse(p, bad, NULL), "...though its shape is fine");

    AT_OK(!aura_vkey_parse(p, NULL, NULL), "NULL is not a key");
    AT_OK(!aura_vkey_parse(p, "", NULL), "empty is not a key");
    AT_OK(!aura_vkey_parse(p, "sk-proj-abcdef", NULL), "an OpenAI key is not");
    AT_OK(!aura_vkey_parse(p, apr_pstrcat(p, key, "x", NULL), NULL),
          "one character too long");
    AT_OK(!aura_vkey_parse(p, apr_pstrndup(p, key, AURA_VKEY_LEN - 1), NULL),
          "one character too short");
    bad = apr_pstrdup(p, key);
    bad[8] = 'A';
    AT_OK(!aura_vkey_parse(p, bad, NULL), "upper case in the id");
    bad = apr_pstrdup(p, key);
    bad[8 + AURA_VKEY_ID_LEN] = '_';
    AT_OK(!aura_vkey_parse(p, bad, NULL), "wrong separator");
    bad = apr_pstrdup(p, key);
    bad[AURA_VKEY_LEN - 3] = '/';
    AT_OK(!aura_vkey_parse(p, bad, NULL), "a non-alphanumeric secret");
}

static void test_hex(apr_pool_t *p)
{
    const unsigned char b[4] = {0x00, 0x7f, 0xa5, 0xff};
    unsigned char out[4];

    AT_STREQ(aura_hex(p, b, 4), "007fa5ff", "hex");
    AT_INTEQ(aura_unhex("007FA5ff", out, 4), 0, "unhex either case");
    AT_OK(!memcmp(out, b, 4), "unhex round trip");
    AT_INTEQ(aura_unhex("007fa5f", out, 4), -1, "odd length");
    AT_INTEQ(aura_unhex("007fa5fg", out, 4), -1, "not a hex digit");
}

static const char *seal(apr_pool_t *p, const unsigned char *k,
                        const char *aad, const char *text)
{
    const char *out = NULL, *err = aura_seal(p, k, aad, text, &out);
    return err ? NULL : out;
}

static void test_envelope(apr_pool_t *p)
{
    unsigned char k1[32], k2[32];
    const char *aad = aura_cred_aad(p, 7, "openai"), *s, *s2, *pt = NULL;
    const char *secret = "sk-proj-0123456789abcdefghijklmnopqrstuvwxyz";
    char *t;
    size_t n;
    int i;

    for (i = 0; i < 32; i++) {
        k1[i] = (unsigned char)i;
        k2[i] = (unsigned char)(i + 1);
    }
    AT_STREQ(aad, "aura-cred/7/openai", "org credential aad");
    AT_STREQ(aura_cred_aad(p, 0, "anthropic"), "aura-cred/*/anthropic",
             "every-org credential aad");

    s = seal(p, k1, aad, secret);
    AT_OK(s && !strncmp(s, "v1.", 3), "sealed text form starts with v1.");
    AT_OK(s && !strstr(s, "sk-proj"), "the secret is not in the sealed text");
    AT_OK(s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789-_.") == strlen(s), "sealed text is URL-safe");
    AT_OK(aura_open(p, k1, aad, s, &pt) == NULL, "opens with the same key");
    AT_STREQ(pt, secret, "round trip");
    s2 = seal(p, k1, aad, secret);
    AT_OK(s2 && strcmp(s, s2), "sealing twice gives different text (nonces)");

    AT_OK(aura_open(p, k2, aad, s, &pt) != NULL, "another master key fails");
    AT_OK(aura_open(p, k1, aura_cred_aad(p, 8, "openai"), s, &pt) != NULL,
          "another org's row fails");
    AT_OK(aura_open(p, k1, aura_cred_aad(p, 7, "mistral"), s, &pt) != NULL,
          "another provider's row fails");

    n = strlen(s);
    t = apr_pstrdup(p, s);
    t[n - 5] = t[n - 5] == 'A' ? 'B' : 'A';
    AT_OK(aura_open(p, k1, aad, t, &pt) != NULL, "tampered ciphertext fails");
    t = apr_pstrdup(p, s);
    t[5] = t[5] == 'A' ? 'B' : 'A';
    AT_OK(aura_open(p, k1, aad, t, &pt) != NULL, "tampered nonce fails");
    AT_OK(aura_open(p, k1, aad, apr_pstrndup(p, s, n - 4), &pt) != NULL,
          "truncated fails");
    AT_OK(aura_open(p, k1, aad, apr_pstrcat(p, s, ".AAAA", NULL), &pt) != NULL,
          "an extra field fails");
    AT_OK(aura_open(p, k1, aad, "v2.a.b.c.d", &pt) != NULL, "unknown version");
    AT_OK(aura_open(p, k1, aad, "v1....", &pt) != NULL, "empty fields");
    AT_OK(aura_open(p, k1, aad, "v1.!!!!.b.c.d", &pt) != NULL, "not base64");
    AT_OK(aura_open(p, k1, aad, NULL, &pt) != NULL, "NULL");

    s = seal(p, k1, aad, "");
    AT_OK(s && aura_open(p, k1, aad, s, &pt) == NULL && !strcmp(pt, ""),
          "an empty secret round trips");
    t = apr_palloc(p, 8193);
    memset(t, 'x', 8192);
    t[8192] = '\0';
    s = seal(p, k1, aad, t);
    AT_OK(s && aura_open(p, k1, aad, s, &pt) == NULL && !strcmp(pt, t),
          "an 8 KiB secret round trips");
}

static const char *write_file(apr_pool_t *p, const char *name,
                              const void *data, size_t n)
{
    const char *path = apr_psprintf(p, "/tmp/aura-test-vault-%ld-%s",
                                    (long)getpid(), name);
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
    return path;
}

static void test_master_key(apr_pool_t *p)
{
    unsigned char raw[32], k[32];
    const char *hex, *path;
    int i;

    for (i = 0; i < 32; i++)
        raw[i] = (unsigned char)(0xf0 ^ i);
    hex = aura_hex(p, raw, 32);

    path = write_file(p, "raw", raw, 32);
    AT_OK(aura_master_key_load(p, path, k) == NULL && !memcmp(k, raw, 32),
          "32 raw bytes");
    unlink(path);
    path = write_file(p, "hex", apr_pstrcat(p, hex, "\n", NULL), 65);
    memset(k, 0, 32);
    AT_OK(aura_master_key_load(p, path, k) == NULL && !memcmp(k, raw, 32),
          "64 hex digits and a newline");
    unlink(path);
    /* base64 of bytes f0 f1 ... : computed by the test, not copied. */
    {
        static const char b64[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char enc[45];
        int o = 0;
        for (i = 0; i + 2 < 32; i += 3) {
            enc[o++] = b64[raw[i] >> 2];
            enc[o++] = b64[(raw[i] & 3) << 4 | raw[i + 1] >> 4];
            enc[o++] = b64[(raw[i + 1] & 15) << 2 | raw[i + 2] >> 6];
            enc[o++] = b64[raw[i + 2] & 63];
        }
        enc[o++] = b64[raw[30] >> 2];
        enc[o++] = b64[(raw[30] & 3) << 4 | raw[31] >> 4];
        enc[o++] = b64[(raw[31] & 15) << 2];
        enc[o++] = '=';
        path = write_file(p, "b64", enc, (size_t)o);
        memset(k, 0, 32);
        AT_OK(aura_master_key_load(p, path, k) == NULL && !memcmp(k, raw, 32),
              "44 characters of base64");
        unlink(path);
    }
    path = write_file(p, "short", "abc", 3);
    AT_OK(aura_master_key_load(p, path, k) != NULL, "3 bytes are refused");
    unlink(path);
    path = write_file(p, "badhex", apr_pstrcat(p, "zz", hex + 2, NULL), 64);
    AT_OK(aura_master_key_load(p, path, k) != NULL, "bad hex is refused");
    unlink(path);
    AT_OK(aura_master_key_load(p, "/nonexistent/aura.key", k) != NULL,
          "a missing file is an error");
    {
        const char *err = aura_master_key_load(p, path, k);
        AT_OK(err && !strstr(err, hex + 2), "the error never holds the key");
    }
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_keys(p);
    test_hex(p);
    test_envelope(p);
    test_master_key(p);
    apr_pool_destroy(p);
    apr_terminate();
    return AT_DONE();
}
