/*
 * test_bedrock.c - the Bedrock adapter: SigV4 against AWS's published
 * test vectors, the event stream parser against the real recorded frames,
 * the Converse/ConverseStream decoder against every transcript in
 * tests/fixtures/bedrock (whole, 1-byte, 7-byte feeds, and for the binary
 * capture a split at every byte), and the Converse encoder (exact JSON).
 *
 * SigV4 vectors (credentials AKIDEXAMPLE /
 * wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 2015-08-30T12:36:00Z,
 * us-east-1):
 *   - AWS Signature Version 4 test suite (formerly in the AWS General
 *     Reference, https://docs.aws.amazon.com/general/latest/gr/
 *     signature-v4-test-suite.html; kept by awslabs/aws-c-auth under
 *     tests/aws-signing-test-suite/v4/<case>/header-signed-request.txt):
 *     get-vanilla, post-vanilla, get-vanilla-with-session-token, get-utf8,
 *     get-vanilla-query-order-key-case, get-header-value-trim.
 *   - The worked example of the IAM User Guide, "Create a signed AWS API
 *     request" (GET iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08;
 *     hashed canonical request f536975d..., signature 5d672d79...).
 * The two Bedrock vectors (a model id with ':') were computed by the
 * simulator's independent Python implementation (tests/sim/providers/
 * bedrock.py, hmac + hashlib), which reproduces the AWS vectors above.
 */
#include <openssl/evp.h>

#define DEC_CHECK_DECODER aura_bedrock_decoder
#include "aura_bedrock.h"
#include "aura_eventstream.h"
#include "aura_sigv4.h"
#include "dec_check.h"

static const aura_aws_cred_t EXAMPLE = {
    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL
};
static const aura_aws_cred_t EXAMPLE_TOKEN = {
    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
};
/* 2015-08-30T12:36:00Z */
#define T_EXAMPLE (apr_time_from_sec(1440938160))

/* ---- fixtures ---------------------------------------------------------- */

static const char *fxb(apr_pool_t *p, const char *name, apr_size_t *len)
{
    return fx_read_in(p, "bedrock", name, len);
}

/* The recorded binary capture (one base64 line). */
static const char *cache_frames(apr_pool_t *p, apr_size_t *len)
{
    apr_size_t n;
    const char *b64 = fxb(p, "bedrock__converse_stream_prompt_cache_read."
                             "eventstream.b64", &n);
    unsigned char *out = apr_palloc(p, n);
    int k;

    while (n && (b64[n - 1] == '\n' || b64[n - 1] == '\r'))
        n--;
    k = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
    *len = k < 0 ? 0 : (apr_size_t)k;
    while (n && b64[--n] == '=')   /* DecodeBlock counts padding as data */
        (*len)--;
    return (const char *)out;
}

static const char *frame_of(apr_pool_t *p, const char *type,
                            const char *payload, apr_size_t *len)
{
    const char *h[] = { ":event-type", type, ":content-type",
                        "application/json", ":message-type", "event", NULL };
    return aura_es_encode(p, h, payload, strlen(payload), len);
}

/* Fidelity-C fixtures ({"eventType": payload} per line) framed again, as
 * the simulator frames them. */
static const char *reframe(apr_pool_t *p, const char *lines, apr_size_t *len)
{
    char *copy = apr_pstrdup(p, lines), *save = NULL, *l;
    const char *out = "";
    apr_size_t n = 0;

    for (l = apr_strtok(copy, "\n", &save); l; l = apr_strtok(NULL, "\n",
                                                            &save)) {
        json_object *o = aura_json_pool(p, json_tokener_parse(l));
        apr_size_t fl;
        const char *f;
        char *joined;
        json_object_object_foreach(o, type, payload) {
            f = frame_of(p, type, aura_json_str(p, payload, NULL), &fl);
            joined = apr_palloc(p, n + fl);
            memcpy(joined, out, n);
            memcpy(joined + n, f, fl);
            out = joined;
            n += fl;
        }
    }
    *len = n;
    return out;
}

static const char *cat(apr_pool_t *p, const char *a, apr_size_t an,
                       const char *b, apr_size_t bn, apr_size_t *len)
{
    char *o = apr_palloc(p, an + bn + 1);
    memcpy(o, a, an);
    memcpy(o + an, b, bn);
    *len = an + bn;
    return o;
}

/* ---- SigV4 ------------------------------------------------------------- */

static const char *sign_one(apr_pool_t *p, const char *method,
                            const char *host, const char *path,
                            const char *query, const aura_aws_cred_t *cred,
                            const char *service, apr_array_header_t *hdrs,
                            aura_sigv4_out_t *o)
{
    aura_sigv4_req_t r;

    memset(&r, 0, sizeof(r));
    r.method = method;
    r.host = host;
    r.path = path;
    r.query = query;
    r.service = service;
    r.region = "us-east-1";
    r.cred = cred;
    r.now = T_EXAMPLE;
    r.headers = hdrs;
    if (aura_sigv4_sign(p, &r, o))
        return "(error)";
    return o->authorization;
}

#define SUITE_AUTH(signed, sig) \
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/" \
    "aws4_request, SignedHeaders=" signed ", Signature=" sig

static void sigv4_suite(apr_pool_t *p)
{
    aura_sigv4_out_t o;
    apr_array_header_t *h;

    AT_STREQ(sign_one(p, "GET", "example.amazonaws.com", "/", NULL, &EXAMPLE,
                      "service", NULL, &o),
             SUITE_AUTH("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e"
                        "8372ff2a2260956d9b8aae1d763fbf31"),
             "sigv4 suite: get-vanilla");
    AT_STREQ(o.canonical_request, "GET\n/\n\nhost:example.amazonaws.com\n"
             "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
             "sigv4 suite: get-vanilla canonical request");
    AT_STREQ(o.amz_date, "20150830T123600Z", "sigv4: x-amz-date");
    AT_STREQ(sign_one(p, "POST", "example.amazonaws.com", "/", NULL,
                      &EXAMPLE, "service", NULL, &o),
             SUITE_AUTH("host;x-amz-date", "5da7c1a2acd57cee7505fc6676e4e544"
                        "621c30862966e37dddb68e92efbe5d6b"),
             "sigv4 suite: post-vanilla");
    AT_STREQ(sign_one(p, "GET", "example.amazonaws.com", "/", NULL,
                      &EXAMPLE_TOKEN, "service", NULL, &o),
             SUITE_AUTH("host;x-amz-date;x-amz-security-token",
                        "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c"
                        "66dd9f74e7f8"),
             "sigv4 suite: get-vanilla-with-session-token");
    AT_STREQ(o.token, EXAMPLE_TOKEN.session_token, "sigv4: token header");
    AT_STREQ(sign_one(p, "GET", "example.amazonaws.com", "/\xe1\x88\xb4",
                      NULL, &EXAMPLE, "service", NULL, &o),
             SUITE_AUTH("host;x-amz-date", "8318018e0b0f223aa2bbf98705b62bb7"
                        "87dc9c0e678f255a891fd03141be5d85"),
             "sigv4 suite: get-utf8");
    AT_STREQ(sign_one(p, "GET", "example.amazonaws.com", "/",
                      "Param2=value2&Param1=value1", &EXAMPLE, "service",
                      NULL, &o),
             SUITE_AUTH("host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f45"
                        "8b799221646efd99d3219ec94cdf2500"),
             "sigv4 suite: get-vanilla-query-order-key-case");
    h = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(h, const char *) = "My-Header1: value1";
    APR_ARRAY_PUSH(h, const char *) = "My-Header2: \"a   b   c\"";
    AT_STREQ(sign_one(p, "GET", "example.amazonaws.com", "/", NULL, &EXAMPLE,
                      "service", h, &o),
             SUITE_AUTH("host;my-header1;my-header2;x-amz-date",
                        "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee"
                        "359757a9c736"),
             "sigv4 suite: get-header-value-trim");
}

static void sigv4_iam_example(apr_pool_t *p)
{
    aura_sigv4_out_t o;
    apr_array_header_t *h = apr_array_make(p, 1, sizeof(const char *));

    APR_ARRAY_PUSH(h, const char *) =
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8";
    AT_STREQ(sign_one(p, "GET", "iam.amazonaws.com", "/",
                      "Action=ListUsers&Version=2010-05-08", &EXAMPLE, "iam",
                      h, &o),
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/"
             "aws4_request, SignedHeaders=content-type;host;x-amz-date, "
             "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b"
             "5924a6f2b5d7", "sigv4: IAM User Guide example");
    AT_STREQ(aura_sha256_hex(p, o.canonical_request,
                             strlen(o.canonical_request)),
             "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
             "sigv4: IAM example hashed canonical request");
    AT_STREQ(o.string_to_sign, "AWS4-HMAC-SHA256\n20150830T123600Z\n"
             "20150830/us-east-1/iam/aws4_request\n"
             "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
             "sigv4: IAM example string to sign");
    AT_STREQ(aura_sigv4_uri_encode(p, "a b/c:d~", 8, 1), "a%20b/c%3Ad~",
             "uri encode keeps unreserved and /");
    AT_STREQ(aura_sigv4_uri_encode(p, "a/b", 3, 0), "a%2Fb",
             "uri encode without /");
}

/* ---- the adapter's request() -------------------------------------------- */

static const char *hdr(aura_wire_t *w, const char *name)
{
    int i;
    apr_size_t n = strlen(name);
    for (i = 0; w->headers && i < w->headers->nelts; i++) {
        const char *h = APR_ARRAY_IDX(w->headers, i, const char *);
        if (!strncasecmp(h, name, n) && h[n] == ':')
            return h + n + 2;
    }
    return NULL;
}

#define BODY_HI "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Hi\"}]}]}"

static void request_signing(apr_pool_t *p)
{
    aura_target_t t;
    aura_wire_t w;
    aura_error_t *e;

    memset(&t, 0, sizeof(t));
    t.provider = "aws";
    t.upstream_model = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    t.region = "us-east-1";
    t.aws = &EXAMPLE;
    t.now = T_EXAMPLE;
    memset(&w, 0, sizeof(w));
    w.body = BODY_HI;
    w.len = strlen(BODY_HI);
    e = aura_adapter_bedrock.request(p, &t, 0, &w);
    AT_OK(!e, "request: signs");
    AT_STREQ(w.url, "https://bedrock-runtime.us-east-1.amazonaws.com/model/"
             "us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse",
             "request: default endpoint of the region, model id encoded");
    AT_STREQ(hdr(&w, "Host"), "bedrock-runtime.us-east-1.amazonaws.com",
             "request: Host");
    AT_STREQ(hdr(&w, "X-Amz-Date"), "20150830T123600Z", "request: date");
    AT_STREQ(hdr(&w, "Authorization"),
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
             "bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature="
             "dfa8df43101266313a6d3ea6e2ad940c03a892543708b495e0cae178e275507c",
             "request: SigV4 with the ':' signed as %253A");
    AT_OK(!hdr(&w, "X-Amz-Security-Token"), "request: no token header");

    t.aws = &EXAMPLE_TOKEN;
    memset(&w, 0, sizeof(w));
    w.body = BODY_HI;
    w.len = strlen(BODY_HI);
    aura_adapter_bedrock.request(p, &t, 1, &w);
    AT_OK(w.url && strstr(w.url, "%3A0/converse-stream"), "request: stream");
    AT_STREQ(hdr(&w, "X-Amz-Security-Token"), EXAMPLE_TOKEN.session_token,
             "request: session token sent");
    AT_OK(strstr(hdr(&w, "Authorization"), "SignedHeaders=host;x-amz-date;"
                 "x-amz-security-token, Signature=883149e2ed3c251d1feb918df49c"
                 "222578f805a7b227b50e16aa2eaf81c17739") != NULL,
          "request: session token signed");
    AT_OK(!strstr(apr_array_pstrcat(p, w.headers, '|'),
                  EXAMPLE.secret_access_key), "request: no secret in headers");

    t.base_url = "http://127.0.0.1:8080/bedrock";
    memset(&w, 0, sizeof(w));
    aura_adapter_bedrock.request(p, &t, 0, &w);
    AT_STREQ(hdr(&w, "Host"), "127.0.0.1:8080", "request: Host with port");
    t.base_url = "https://example.com:443";
    memset(&w, 0, sizeof(w));
    aura_adapter_bedrock.request(p, &t, 0, &w);
    AT_STREQ(hdr(&w, "Host"), "example.com", "request: default port dropped");

    t.aws = NULL;
    t.key = "bedrock-api-key-test";
    memset(&w, 0, sizeof(w));
    aura_adapter_bedrock.request(p, &t, 0, &w);
    AT_STREQ(hdr(&w, "Authorization"), "Bearer bedrock-api-key-test",
             "request: Bedrock API key as bearer");
    AT_OK(!hdr(&w, "X-Amz-Date"), "request: API key: not signed");
    t.key = NULL;
    memset(&w, 0, sizeof(w));
    e = aura_adapter_bedrock.request(p, &t, 0, &w);
    AT_OK(e && e->status == 500, "request: no credentials -> error");
}

/* ---- the event stream parser -------------------------------------------- */

typedef struct seen {
    apr_pool_t *p;
    const char *types;          /* "messageStart,contentBlockDelta,..." */
    const char *payloads;
    int n;
} seen_t;

static apr_status_t on_msg(void *baton, const aura_es_msg_t *m)
{
    seen_t *s = baton;
    s->types = apr_pstrcat(s->p, s->types, s->n ? "," : "",
                           m->event_type ? m->event_type
                           : m->exception_type ? m->exception_type : "?",
                           NULL);
    s->payloads = apr_pstrcat(s->p, s->payloads,
                              apr_pstrmemdup(s->p, m->payload, m->len), NULL);
    s->n++;
    return APR_SUCCESS;
}

static apr_status_t es_run(apr_pool_t *p, const char *buf, apr_size_t len,
                           apr_size_t split, apr_size_t max, seen_t *s,
                           aura_es_t **out)
{
    aura_es_t *es;
    apr_status_t rv;

    memset(s, 0, sizeof(*s));
    s->p = p;
    s->types = s->payloads = "";
    es = aura_es_create(p, max, on_msg, s);
    if (out)
        *out = es;
    if (split == 0 || split >= len)
        return aura_es_feed(es, buf, len);
    rv = aura_es_feed(es, buf, split);
    return rv != APR_SUCCESS ? rv : aura_es_feed(es, buf + split, len - split);
}

#define CACHE_TYPES "messageStart,contentBlockDelta,contentBlockDelta," \
    "contentBlockDelta,contentBlockStop,messageStop,metadata"

static void es_recorded(apr_pool_t *p)
{
    apr_size_t len, k;
    const char *buf = cache_frames(p, &len);
    const char *want;
    seen_t s;
    aura_es_t *es;
    int bad = 0;

    AT_INTEQ(len, 1395, "eventstream: the capture is 1395 bytes");
    AT_OK(es_run(p, buf, len, 0, 0, &s, &es) == APR_SUCCESS && s.n == 7,
          "eventstream: 7 frames, both CRCs good");
    AT_STREQ(s.types, CACHE_TYPES, "eventstream: event types in order");
    AT_INTEQ(aura_es_pending(es), 0, "eventstream: nothing left over");
    want = s.payloads;
    AT_OK(strstr(want, "\"cacheReadInputTokens\":4508") != NULL,
          "eventstream: metadata payload intact");
    for (k = 1; k < len; k++) {             /* every byte boundary */
        if (es_run(p, buf, len, k, 0, &s, NULL) != APR_SUCCESS
            || strcmp(s.types, CACHE_TYPES) || strcmp(s.payloads, want))
            bad++;
    }
    AT_INTEQ(bad, 0, "eventstream: same 7 messages split at every byte");
    {                                       /* and one byte at a time */
        aura_es_t *one;
        seen_t s1;
        memset(&s1, 0, sizeof(s1));
        s1.p = p;
        s1.types = s1.payloads = "";
        one = aura_es_create(p, 0, on_msg, &s1);
        for (k = 0; k < len; k++)
            aura_es_feed(one, buf + k, 1);
        AT_STREQ(s1.payloads, want, "eventstream: 1-byte feeds");
    }
}

static void es_corrupt(apr_pool_t *p)
{
    apr_size_t len;
    const char *orig = cache_frames(p, &len);
    char *buf = apr_pmemdup(p, orig, len);
    seen_t s;
    aura_es_t *es;

    buf[200] ^= 0x01;           /* inside frame 2's payload */
    AT_INTEQ(es_run(p, buf, len, 0, 0, &s, &es), APR_EGENERAL,
             "corrupt payload: refused");
    AT_INTEQ(s.n, 1, "corrupt payload: frame 1 delivered, not frame 2");
    AT_STREQ(aura_es_error(es), "event stream message CRC mismatch",
             "corrupt payload: message CRC");
    AT_INTEQ(aura_es_feed(es, orig, len), APR_EGENERAL, "errors are sticky");

    buf = apr_pmemdup(p, orig, len);
    buf[2] ^= 0x01;             /* frame 1's total length */
    AT_INTEQ(es_run(p, buf, len, 5, 0, &s, &es), APR_EGENERAL,
             "corrupt length: refused");
    AT_STREQ(aura_es_error(es), "event stream prelude CRC mismatch",
             "corrupt length: caught by the prelude CRC");
    AT_INTEQ(s.n, 0, "corrupt length: nothing delivered");

    AT_INTEQ(es_run(p, orig, len, 7, 100, &s, &es), APR_EGENERAL,
             "frame above the bound: refused");
    AT_OK(strstr(aura_es_error(es), "exceeds the limit of 100") != NULL,
          "frame above the bound: said so");

    es_run(p, orig, len - 10, 0, 0, &s, &es);
    AT_INTEQ(s.n, 6, "cut stream: 6 whole frames");
    AT_INTEQ(aura_es_pending(es), 0x171 - 10, "cut stream: the rest pending");
}

/* A frame with every header value type: only the strings are read, the
 * others stepped over by their size. */
static void es_header_types(apr_pool_t *p)
{
    static const unsigned char hdrs[] = {
        2, 'b', 't', 0,                     /* bool true */
        2, 'b', 'f', 1,                     /* bool false */
        1, 'y', 2, 0x7f,                    /* byte */
        1, 's', 3, 0, 1,                    /* short */
        1, 'i', 4, 0, 0, 0, 1,              /* int */
        1, 'l', 5, 0, 0, 0, 0, 0, 0, 0, 1,  /* long */
        1, 'a', 6, 0, 2, 0xde, 0xad,        /* byte array */
        1, 't', 8, 0, 0, 0, 0, 0, 0, 0, 1,  /* timestamp */
        1, 'u', 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
        11, ':', 'e', 'v', 'e', 'n', 't', '-', 't', 'y', 'p', 'e', 7, 0, 4,
        'p', 'i', 'n', 'g',
    };
    char f[256];
    apr_size_t hl = sizeof(hdrs), total = 16 + hl + 2;
    uint32_t crc;
    seen_t s;
    aura_es_t *es;

    f[0] = f[1] = 0;
    f[2] = (char)(total >> 8);
    f[3] = (char)total;
    f[4] = f[5] = f[6] = 0;
    f[7] = (char)hl;
    crc = aura_crc32(0, f, 8);
    f[8] = (char)(crc >> 24); f[9] = (char)(crc >> 16);
    f[10] = (char)(crc >> 8); f[11] = (char)crc;
    memcpy(f + 12, hdrs, hl);
    memcpy(f + 12 + hl, "{}", 2);
    crc = aura_crc32(0, f, total - 4);
    f[total - 4] = (char)(crc >> 24); f[total - 3] = (char)(crc >> 16);
    f[total - 2] = (char)(crc >> 8); f[total - 1] = (char)crc;
    AT_OK(es_run(p, f, total, 3, 0, &s, NULL) == APR_SUCCESS
          && !strcmp(s.types, "ping") && !strcmp(s.payloads, "{}"),
          "eventstream: all header types, string read, others skipped");
    f[12 + 3] = 10;             /* an unknown value type */
    crc = aura_crc32(0, f, total - 4);
    f[total - 4] = (char)(crc >> 24); f[total - 3] = (char)(crc >> 16);
    f[total - 2] = (char)(crc >> 8); f[total - 1] = (char)crc;
    AT_INTEQ(es_run(p, f, total, 0, 0, &s, &es), APR_EGENERAL,
             "eventstream: unknown header type refused");
    AT_INTEQ(aura_crc32(0, "123456789", 9), 0xCBF43926u,
             "crc32 check value (IEEE)");
}

/* Every byte of frame 1's headers replaced by every value, both CRCs made
 * good again: the header walk must refuse or accept, never read past the
 * frame (ASan/UBSan run this too). */
static void es_header_garbage(apr_pool_t *p)
{
    apr_size_t len, total, i;
    const char *orig = cache_frames(p, &len);
    char *f;
    int v, bad = 0;

    total = (apr_size_t)(unsigned char)orig[3];     /* frame 1: 0x91 */
    f = apr_palloc(p, total);
    for (i = 12; i < 12 + 0x52; i++)
        for (v = 0; v < 256; v += 7) {
            seen_t s;
            uint32_t crc;
            apr_status_t rv;
            memcpy(f, orig, total);
            f[i] = (char)v;
            crc = aura_crc32(0, f, total - 4);
            f[total - 4] = (char)(crc >> 24); f[total - 3] = (char)(crc >> 16);
            f[total - 2] = (char)(crc >> 8); f[total - 1] = (char)crc;
            rv = es_run(p, f, total, 0, 0, &s, NULL);
            if (rv != APR_SUCCESS && rv != APR_EGENERAL)
                bad++;
        }
    AT_INTEQ(bad, 0, "eventstream: garbage headers refused or read safely");
}

/* ---- the decoder on every transcript --------------------------------- */

/* Whole, 1-byte and 7-byte feeds of a binary stream: the event rules hold
 * and the three agree. Returns the whole-feed resource. */
static json_object *es_all_ways(apr_pool_t *p, const char *name,
                                const char *buf, apr_size_t len)
{
    const char *first = NULL;
    json_object *res0 = NULL;
    int k;

    for (k = 0; k < 3; k++) {
        rec r;
        aura_rb_t *rb = decode(p, buf, len, feed_pieces[k], 1, &r);
        const char *bad = check_events(p, &r, 1);
        AT_OK(!bad, apr_psprintf(p, "%s [%d]: stream rules%s%s", name,
                                 (int)feed_pieces[k], bad ? ": " : "",
                                 bad ? bad : ""));
        same_as_first(p, name, k, aura_rb_resource(rb), &first, &res0);
    }
    return res0;
}

static void dec_stream_fixtures(apr_pool_t *p)
{
    apr_size_t n, len, k;
    const char *buf, *d0;
    json_object *res;
    int bad = 0;

    buf = reframe(p, fxb(p, "bedrock__converse_stream_text_events.txt", &n),
                  &len);
    res = es_all_ways(p, "stream text", buf, len);
    AT_STREQ(sat(res, "status"), "completed", "stream text: completed");
    AT_INTEQ(json_object_array_length(aura_json_get(res, "output")), 1,
             "stream text: one item");
    AT_STREQ(sat(res, "output.0.content.0.text"),
             "Let me count the \"r\"s in \"strawberry\":\n\ns-t-**r**-a-w-b-e-"
             "**r**-**r**-y\n\nThere are **3** r's in \"strawberry.\"",
             "stream text: every delta");
    usage_is(res, 22, 0, 55, 0, "stream text");

    buf = reframe(p, fxb(p, "bedrock__converse_stream_reasoning_events.txt",
                         &n), &len);
    res = es_all_ways(p, "stream reasoning", buf, len);
    AT_STREQ(sat(res, "output.0.type"), "reasoning", "reasoning: item 0");
    AT_STREQ(sat(res, "output.0.content.0.text"),
             "Let me count the r's in \"strawberry\":\n\ns-t-r-a-w-b-e-r-r-y"
             "\n\nr appears at positions 3, 8, and 9.\n\nSo there are 3 r's.",
             "reasoning: the thinking text");
    AT_STREQ(sat(res, "output.0.encrypted_content"), "aura:bedrock:"
             "Ep0CCkgICxABGAIqQOWPB6/PmA5SW9jC6FvaNq3E+U9ev4FMWcFWuAho+VGLCta"
             "zKc5WDjQ5i0MuxsY0o5pKDSVWVKii8KJDusXH4eASDK7jyzuk8iij7fJNihoMxH"
             "O9haYzt48R36HVIjCb/EmIFrJLIXShqN6DN//T6vZBtO9qj1QhNWJa3CGm8VZoq"
             "80S2/Ok4U0aVaIDiZcqggHC2b8BHuv8BHZrmsR0wjU1ynansBGMdfjnG+iIv8R5"
             "lPpRmYGhSVwNybwP3aQZ6o8Dr48Rau8TJfdsArW+r7bvL7bPs4f5nnlp2vG7WkM"
             "zWwABHK3fdM44zZ1GZQaWyECNWR2GfY6dXiklo94vgpFTPuZ97mfiN3LY6uYyBw"
             "L8RkDaGAE=", "reasoning: signature as aura:bedrock:<sig>");
    AT_STREQ(sat(res, "output.1.content.0.text"),
             "There are **3** r's in \"strawberry\":\n\n1. st**r**awbe**r****"
             "r**y", "reasoning: then the answer");
    usage_is(res, 51, 0, 94, 0, "stream reasoning");

    buf = cache_frames(p, &len);
    res = es_all_ways(p, "stream cache", buf, len);
    AT_STREQ(sat(res, "output.0.content.0.text"), "Hello there!",
             "cache: text");
    usage_is(res, 9 + 4508, 4508, 6, 0, "cache: input = 9 + cache reads");
    d0 = digest(p, res);
    for (k = 1; k < len; k++) {             /* every byte boundary */
        rec r;
        aura_rb_t *rb = aura_rb_create(p, req_new(p), NULL, "m");
        aura_decoder_t *d;
        r.p = p;
        r.ev = apr_array_make(p, 16, sizeof(json_object *));
        aura_rb_set_sink(rb, sink, &r);
        d = aura_bedrock_decoder(p, rb, 1);
        aura_decoder_feed(d, buf, k);
        aura_decoder_feed(d, buf + k, len - k);
        aura_decoder_end(d);
        if (strcmp(digest(p, aura_rb_resource(rb)), d0)
            || check_events(p, &r, 1))
            bad++;
    }
    AT_INTEQ(bad, 0, "cache: same answer split at every byte");
}

static void dec_body_fixtures(apr_pool_t *p)
{
    apr_size_t n;
    json_object *res;

    res = body_all_ways(p, "body text",
                        fx_read_in(p, "openai", "../bedrock/bedrock__converse_text.json",
                                &n));
    AT_STREQ(sat(res, "output.0.content.0.text"),
             "Let me count the \"r\"s in \"strawberry\":\n\ns-t-**r**-a-w-b-e-"
             "**r**-**r**-y\n\nThere are **3** \"r\"s in \"strawberry.\"",
             "body text: text");
    AT_STREQ(sat(res, "status"), "completed", "body text: completed");
    usage_is(res, 22, 0, 57, 0, "body text");

    res = body_all_ways(p, "body reasoning",
        fx_read_in(p, "openai", "../bedrock/bedrock__converse_reasoning.json", &n));
    AT_STREQ(sat(res, "output.0.type"), "reasoning", "body reasoning: item");
    AT_STREQ(sat(res, "output.0.content.0.text"),
             "Let me count the r's in \"strawberry\":\n\ns-t-r-a-w-b-e-r-r-y\n"
             "\nThere are 3 r's.", "body reasoning: text");
    AT_OK(!strncmp(sat(res, "output.0.encrypted_content"),
                   "aura:bedrock:EvYBCkgICxABGAIqQA9E9VC377Un", 41),
          "body reasoning: signature kept");
    AT_STREQ(sat(res, "output.1.content.0.text"),
             "There are **3** r's in \"strawberry\":\n\n1. st**r**awbe**r****r"
             "**y", "body reasoning: answer");
    usage_is(res, 51, 0, 78, 0, "body reasoning");
}

/* ---- the decoder: synthetic streams ------------------------------------ */

/* Frames from "type|payload" strings. */
static const char *frames(apr_pool_t *p, const char *const *ev,
                          apr_size_t *len)
{
    const char *out = "";
    apr_size_t n = 0, fl;
    int i;

    for (i = 0; ev[i]; i++) {
        const char *bar = strchr(ev[i], '|');
        const char *f = frame_of(p, apr_pstrmemdup(p, ev[i],
                                                   (apr_size_t)(bar - ev[i])),
                                 bar + 1, &fl);
        out = cat(p, out, n, f, fl, &n);
    }
    *len = n;
    return out;
}

#define META "metadata|{\"usage\":{\"inputTokens\":5,\"outputTokens\":7," \
    "\"totalTokens\":12},\"metrics\":{\"latencyMs\":10}}"

static void dec_tools(apr_pool_t *p)
{
    static const char *const ev[] = {
        "messageStart|{\"role\":\"assistant\"}",
        "contentBlockDelta|{\"contentBlockIndex\":0,\"delta\":{\"text\":"
            "\"Checking.\"}}",
        "contentBlockStop|{\"contentBlockIndex\":0}",
        "contentBlockStart|{\"contentBlockIndex\":1,\"start\":{\"toolUse\":"
            "{\"toolUseId\":\"tooluse_a\",\"name\":\"weather\"}}}",
        "contentBlockDelta|{\"contentBlockIndex\":1,\"delta\":{\"toolUse\":"
            "{\"input\":\"{\\\"city\\\":\"}}}",
        "contentBlockDelta|{\"contentBlockIndex\":1,\"delta\":{\"toolUse\":"
            "{\"input\":\"\\\"Paris\\\"}\"}}}",
        "contentBlockStop|{\"contentBlockIndex\":1}",
        "contentBlockStart|{\"contentBlockIndex\":2,\"start\":{\"toolUse\":"
            "{\"toolUseId\":\"tooluse_b\",\"name\":\"now\"}}}",
        "contentBlockStop|{\"contentBlockIndex\":2}",
        "messageStop|{\"stopReason\":\"tool_use\"}", META, NULL
    };
    apr_size_t len;
    const char *buf = frames(p, ev, &len);
    json_object *res = es_all_ways(p, "tools", buf, len);

    AT_STREQ(sat(res, "status"), "completed", "tools: tool_use -> completed");
    AT_STREQ(sat(res, "output.0.content.0.text"), "Checking.", "tools: text");
    AT_STREQ(sat(res, "output.1.call_id"), "tooluse_a", "tools: call 1 id");
    AT_STREQ(sat(res, "output.1.name"), "weather", "tools: call 1 name");
    AT_STREQ(sat(res, "output.1.arguments"), "{\"city\":\"Paris\"}",
             "tools: call 1 fragments joined");
    AT_STREQ(sat(res, "output.2.name"), "now", "tools: call 2");
    AT_STREQ(sat(res, "output.2.arguments"), "{}",
             "tools: a call without input gets {}");
    usage_is(res, 5, 0, 7, 0, "tools");
}

static aura_rb_t *run(apr_pool_t *p, const char *const *ev, rec *r)
{
    apr_size_t len;
    const char *buf = frames(p, ev, &len);
    return decode(p, buf, len, 3, 1, r);
}

static void dec_endings(apr_pool_t *p)
{
    static const char *const length[] = {
        "contentBlockDelta|{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hi\"}}",
        "messageStop|{\"stopReason\":\"max_tokens\"}", META, NULL };
    static const char *const cut[] = {     /* as Bedrock orders it */
        "contentBlockDelta|{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hi\"}}",
        "contentBlockStop|{\"contentBlockIndex\":0}",
        "messageStop|{\"stopReason\":\"max_tokens\"}", META, NULL };
    static const char *const guard[] = {
        "contentBlockDelta|{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hi\"}}",
        "messageStop|{\"stopReason\":\"guardrail_intervened\"}", NULL };
    static const char *const nostop[] = {
        "contentBlockDelta|{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hi\"}}",
        NULL };
    static const char *const cache[] = {
        "contentBlockDelta|{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hi\"}}",
        "messageStop|{\"stopReason\":\"end_turn\"}",
        "metadata|{\"usage\":{\"inputTokens\":5,\"cacheReadInputTokens\":20,"
        "\"cacheWriteInputTokens\":100,\"outputTokens\":3}}", NULL };
    static const char *const redacted[] = {
        "contentBlockDelta|{\"contentBlockIndex\":0,\"delta\":{"
        "\"reasoningContent\":{\"redactedContent\":\"c2VjcmV0\"}}}",
        "contentBlockStop|{\"contentBlockIndex\":0}",
        "messageStop|{\"stopReason\":\"end_turn\"}", NULL };
    rec r;
    aura_rb_t *rb;
    json_object *res;

    res = aura_rb_resource(run(p, length, &r));
    AT_STREQ(sat(res, "status"), "incomplete", "max_tokens: incomplete");
    AT_STREQ(sat(res, "incomplete_details.reason"), "max_output_tokens",
             "max_tokens: reason");
    AT_STREQ(sat(res, "output.0.status"), "incomplete", "max_tokens: item");
    AT_OK(!check_events(p, &r, 1), "max_tokens: stream rules");
    res = aura_rb_resource(run(p, cut, &r));
    AT_STREQ(sat(res, "output.0.status"), "incomplete",
             "max_tokens after contentBlockStop: the item is incomplete");
    AT_OK(!check_events(p, &r, 1), "max_tokens after stop: stream rules");
    res = aura_rb_resource(run(p, guard, &r));
    AT_STREQ(sat(res, "incomplete_details.reason"), "content_filter",
             "guardrail: content_filter");
    AT_OK(!at(res, "usage"), "no metadata: usage null, still finished");
    rb = run(p, nostop, &r);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"),
             "upstream_stream_truncated", "no messageStop: truncated");
    AT_OK(!check_events(p, &r, 1), "no messageStop: error + failed");
    rb = run(p, cache, &r);
    usage_is(aura_rb_resource(rb), 125, 20, 3, 0, "cache write in input");
    AT_INTEQ(aura_rb_get_cache_write(rb), 100, "cache write reported");
    res = aura_rb_resource(run(p, redacted, &r));
    AT_STREQ(sat(res, "output.0.type"), "reasoning", "redacted: reasoning");
    AT_STREQ(sat(res, "output.0.encrypted_content"),
             "aura:bedrock-redacted:c2VjcmV0", "redacted: kept as marker");
}

static void dec_failures(apr_pool_t *p)
{
    static const char *const text[] = {
        "messageStart|{\"role\":\"assistant\"}",
        "contentBlockDelta|{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hi\"}}",
        NULL };
    static const char *const exc[] = {
        ":exception-type", "throttlingException", ":content-type",
        "application/json", ":message-type", "exception", NULL };
    static const char *const err[] = {
        ":message-type", "error", ":error-code", "InternalFailure",
        ":error-message", "boom key=abc123", NULL };
    const char *buf, *ex, *msg;
    apr_size_t len, xl;
    aura_rb_t *rb;
    rec r;

    buf = frames(p, text, &len);
    msg = "{\"message\":\"Too many tokens, please wait before trying "
          "again.\"}";
    ex = aura_es_encode(p, exc, msg, strlen(msg), &xl);
    buf = cat(p, buf, len, ex, xl, &len);
    rb = decode(p, buf, len, 5, 1, &r);
    msg = sat(aura_rb_resource(rb), "error.message");
    AT_OK(aura_rb_failed(rb), "exception frame: failed");
    AT_STREQ(msg, "upstream error: throttlingException: Too many tokens, "
             "please wait before trying again.", "exception: message");
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"), "rate_limit_exceeded",
             "exception: throttling code");
    AT_STREQ(sat(aura_rb_resource(rb), "output.0.content.0.text"), "Hi",
             "exception: text before it kept");
    AT_OK(!check_events(p, &r, 1), "exception: error + response.failed");

    buf = frames(p, text, &len);
    ex = aura_es_encode(p, err, "", 0, &xl);
    buf = cat(p, buf, len, ex, xl, &len);
    rb = decode(p, buf, len, 0, 1, &r);
    AT_STREQ(sat(aura_rb_resource(rb), "error.message"),
             "upstream error: InternalFailure: boom key=[redacted]",
             "error frame: headers, redacted");

    buf = frames(p, text, &len);
    rb = decode(p, buf, len - 3, 0, 1, &r);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"),
             "upstream_stream_truncated", "cut inside a frame: truncated");
    {
        char *bad = apr_pmemdup(p, buf, len);
        bad[len - 6] ^= 0x40;
        rb = decode(p, bad, len, 1, 1, &r);
        AT_STREQ(sat(aura_rb_resource(rb), "error.code"),
                 "upstream_bad_response", "bad CRC: upstream_bad_response");
        AT_OK(strstr(sat(aura_rb_resource(rb), "error.message"), "CRC")
              != NULL, "bad CRC: said so");
        AT_OK(!check_events(p, &r, 1), "bad CRC: error + failed");
    }
    {
        static const char *const notjson[] = {
            "contentBlockDelta|{\"contentBlockIndex\":0,\"delta\":", NULL };
        rb = run(p, notjson, &r);
        AT_STREQ(sat(aura_rb_resource(rb), "error.code"),
                 "upstream_bad_response", "payload not JSON: bad response");
    }
}

static void dec_bodies(apr_pool_t *p)
{
    const char *b;
    aura_rb_t *rb;
    json_object *res;
    rec r;

    b = "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":["
        "{\"text\":\"Let me check.\"},{\"toolUse\":{\"toolUseId\":\"tooluse_1\","
        "\"name\":\"weather\",\"input\":{\"city\":\"Paris\",\"days\":[1,2]}}}]}},"
        "\"stopReason\":\"tool_use\",\"usage\":{\"inputTokens\":10,"
        "\"outputTokens\":20,\"totalTokens\":30}}";
    res = body_all_ways(p, "body tool", b);
    AT_STREQ(sat(res, "output.1.arguments"),
             "{\"city\":\"Paris\",\"days\":[1,2]}", "body tool: input as JSON");
    AT_STREQ(sat(res, "output.1.call_id"), "tooluse_1", "body tool: id");
    AT_STREQ(sat(res, "status"), "completed", "body tool: completed");

    b = "{\"message\":\"The security token included in the request is "
        "invalid.\"}";
    rb = decode(p, b, strlen(b), 0, 0, &r);
    AT_OK(aura_rb_failed(rb), "body: bare {message} -> failed");
    b = "{\"output\":{\"message\":{\"content\":[{\"text\":\"x\"}]}},"
        "\"stopReason\":\"max_tokens\"}";
    rb = decode(p, b, strlen(b), 0, 0, &r);
    res = aura_rb_resource(rb);
    AT_STREQ(sat(res, "incomplete_details.reason"), "max_output_tokens",
             "body: max_tokens -> incomplete");
}

/* ---- the encoder ------------------------------------------------------- */

/* Encodes a /v1/responses body for `model`; the body, or "ERR <param>". */
static const char *enc(apr_pool_t *p, const char *model, const char *json,
                       long budget)
{
    aura_request_t *req;
    aura_target_t t;
    aura_error_t *e;
    const char *body;

    if ((e = aura_request_parse(p, json, strlen(json), &req)))
        return apr_pstrcat(p, "PARSE ", e->message, NULL);
    memset(&t, 0, sizeof(t));
    t.provider = "aws";
    t.upstream_model = model;
    t.max_output_default = 64000;
    t.reasoning_budget = budget;
    if ((e = aura_adapter_bedrock.encode(p, req, &t, &body, NULL)))
        return apr_pstrcat(p, "ERR ", e->param ? e->param : "-", NULL);
    return body;
}

#define LLAMA "meta.llama3-3-70b-instruct-v1:0"
#define CLAUDE "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
#define TOOLS "\"tools\":[{\"type\":\"function\",\"name\":\"weather\"," \
    "\"description\":\"Weather\",\"parameters\":{\"type\":\"object\"," \
    "\"properties\":{\"city\":{\"type\":\"string\"}}}},{\"type\":" \
    "\"function\",\"name\":\"now\"}]"
#define SPEC_W "{\"toolSpec\":{\"name\":\"weather\",\"description\":" \
    "\"Weather\",\"inputSchema\":{\"json\":{\"type\":\"object\"," \
    "\"properties\":{\"city\":{\"type\":\"string\"}}}}}}"
#define SPEC_N "{\"toolSpec\":{\"name\":\"now\",\"inputSchema\":{\"json\":" \
    "{\"type\":\"object\",\"properties\":{}}}}}"
#define HI "\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Hi\"}]}]"

static void enc_basic(apr_pool_t *p)
{
    AT_STREQ(enc(p, LLAMA, "{\"instructions\":\"Be brief.\",\"input\":["
                 "{\"role\":\"developer\",\"content\":\"Use metric.\"},"
                 "{\"role\":\"user\",\"content\":\"Hi\"},"
                 "{\"role\":\"assistant\",\"content\":\"Hello!\"},"
                 "{\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
                 "\"text\":\"Weather?\"},{\"type\":\"input_image\","
                 "\"image_url\":\"data:image/png;base64,iVBORw0KGgo=\"},"
                 "{\"type\":\"input_file\",\"filename\":\"q3 report.pdf\","
                 "\"file_data\":\"data:application/pdf;base64,JVBERi0=\"}]}],"
                 "\"temperature\":0.7,\"top_p\":0.9,\"max_output_tokens\":256}",
                 0),
             "{\"system\":[{\"text\":\"Be brief.\"},{\"text\":\"Use metric.\"}],"
             "\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Hi\"}]},"
             "{\"role\":\"assistant\",\"content\":[{\"text\":\"Hello!\"}]},"
             "{\"role\":\"user\",\"content\":[{\"text\":\"Weather?\"},"
             "{\"image\":{\"format\":\"png\",\"source\":{\"bytes\":"
             "\"iVBORw0KGgo=\"}}},{\"document\":{\"format\":\"pdf\",\"name\":"
             "\"q3 report\",\"source\":{\"bytes\":\"JVBERi0=\"}}}]}],"
             "\"inferenceConfig\":{\"maxTokens\":256,\"temperature\":0.7,"
             "\"topP\":0.9}}", "encode: messages, system, image, document, "
             "inference");
    AT_STREQ(enc(p, "mistral.mistral-7b-instruct-v0:2", "{\"instructions\":"
                 "\"Be brief.\",\"input\":\"Hi\"}", 0),
             "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":"
             "\"Be brief.\"},{\"text\":\"Hi\"}]}]}",
             "encode: no system prompts (Mistral 7B): folded into the turn");
    AT_STREQ(enc(p, LLAMA, "{\"input\":[{\"role\":\"assistant\",\"content\":"
                 "\"Hi\"}]}", 0), "ERR input",
             "encode: must start with a user turn (400, not upstream)");
    AT_STREQ(enc(p, LLAMA, "{\"input\":[{\"role\":\"user\",\"content\":[{"
                 "\"type\":\"input_image\",\"image_url\":\"https://x.test/a."
                 "png\"}]}]}", 0), "ERR input[0].content[0]",
             "encode: image URLs refused with the param");
    AT_STREQ(enc(p, LLAMA, "{\"input\":\"Hi\",\"text\":{\"format\":{\"type\":"
                 "\"json_object\"}}}", 0), "ERR text.format",
             "encode: no structured output in Converse");
    AT_STREQ(enc(p, LLAMA, "{\"input\":\"Hi\",\"previous_response_id\":"
                 "\"resp_1\"}", 0), "ERR previous_response_id",
             "encode: previous_response_id refused");
}

static void enc_tool_choice(apr_pool_t *p)
{
    AT_STREQ(enc(p, CLAUDE, "{\"input\":\"Hi\"," TOOLS ",\"tool_choice\":"
                 "\"required\"}", 0),
             "{" HI ",\"toolConfig\":{\"tools\":[" SPEC_W "," SPEC_N "],"
             "\"toolChoice\":{\"any\":{}}}}", "tools: Claude required -> any");
    AT_STREQ(enc(p, CLAUDE, "{\"input\":\"Hi\"," TOOLS ",\"tool_choice\":{"
                 "\"type\":\"function\",\"name\":\"now\"}}", 0),
             "{" HI ",\"toolConfig\":{\"tools\":[" SPEC_W "," SPEC_N "],"
             "\"toolChoice\":{\"tool\":{\"name\":\"now\"}}}}",
             "tools: Claude named -> tool");
    AT_STREQ(enc(p, LLAMA, "{\"input\":\"Hi\"," TOOLS ",\"tool_choice\":"
                 "\"required\"}", 0),
             "{" HI ",\"toolConfig\":{\"tools\":[" SPEC_W "," SPEC_N "]}}",
             "tools: Llama has auto only: toolChoice left out");
    AT_STREQ(enc(p, "mistral.mistral-large-2402-v1:0", "{\"input\":\"Hi\","
                 TOOLS ",\"tool_choice\":{\"type\":\"function\",\"name\":"
                 "\"now\"}}", 0),
             "{" HI ",\"toolConfig\":{\"tools\":[" SPEC_N "],"
             "\"toolChoice\":{\"any\":{}}}}",
             "tools: Mistral Large named -> only that tool + any");
    AT_STREQ(enc(p, LLAMA, "{\"input\":\"Hi\"," TOOLS ",\"tool_choice\":{"
                 "\"type\":\"function\",\"name\":\"now\"}}", 0),
             "{" HI ",\"toolConfig\":{\"tools\":[" SPEC_N "]}}",
             "tools: Llama named -> only that tool offered");
    AT_STREQ(enc(p, "us.amazon.nova-pro-v1:0", "{\"input\":\"Hi\"," TOOLS
                 ",\"tool_choice\":{\"type\":\"allowed_tools\",\"mode\":"
                 "\"required\",\"tools\":[{\"type\":\"function\",\"name\":"
                 "\"weather\"}]}}", 0),
             "{" HI ",\"toolConfig\":{\"tools\":[" SPEC_W "],"
             "\"toolChoice\":{\"any\":{}}}}",
             "tools: Nova allowed_tools required -> filtered + any");
    AT_STREQ(enc(p, CLAUDE, "{\"input\":\"Hi\"," TOOLS ",\"tool_choice\":"
                 "\"none\"}", 0), "{" HI "}",
             "tools: none without tool history -> no toolConfig");
}

#define CALL_ID "fc.1/with:odd-chars"

static void enc_round_trip(apr_pool_t *p)
{
    const char *in = "{\"input\":[{\"role\":\"user\",\"content\":\"Weather?\"},"
        "{\"type\":\"reasoning\",\"summary\":[],\"content\":[{\"type\":"
        "\"reasoning_text\",\"text\":\"Think.\"}],\"encrypted_content\":"
        "\"aura:bedrock:SIG==\"},"
        "{\"type\":\"reasoning\",\"summary\":[{\"type\":\"summary_text\","
        "\"text\":\"x\"}],\"encrypted_content\":\"aura:anthropic:OTHER\"},"
        "{\"type\":\"function_call\",\"call_id\":\"tooluse_1\",\"name\":"
        "\"weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"},"
        "{\"type\":\"function_call\",\"call_id\":\"" CALL_ID "\",\"name\":"
        "\"now\",\"arguments\":\"\"},"
        "{\"type\":\"function_call_output\",\"call_id\":\"tooluse_1\","
        "\"output\":\"18C\"},"
        "{\"type\":\"function_call_output\",\"call_id\":\"" CALL_ID "\","
        "\"output\":\"\"}]}";
    const char *got = enc(p, CLAUDE, in, 0);
    const char *id = aura_sha256_hex(p, CALL_ID, strlen(CALL_ID));
    const char *want = apr_pstrcat(p,
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Weather?\"}"
        "]},{\"role\":\"assistant\",\"content\":[{\"reasoningContent\":{"
        "\"reasoningText\":{\"text\":\"Think.\",\"signature\":\"SIG==\"}}},"
        "{\"toolUse\":{\"toolUseId\":\"tooluse_1\",\"name\":\"weather\","
        "\"input\":{\"city\":\"Paris\"}}},{\"toolUse\":{\"toolUseId\":\"aura_",
        apr_pstrndup(p, id, 32), "\",\"name\":\"now\",\"input\":{}}}]},"
        "{\"role\":\"user\",\"content\":[{\"toolResult\":{\"toolUseId\":"
        "\"tooluse_1\",\"content\":[{\"text\":\"18C\"}]}},{\"toolResult\":{"
        "\"toolUseId\":\"aura_", apr_pstrndup(p, id, 32), "\",\"content\":[{"
        "\"text\":\"(no output)\"}]}}]}],\"toolConfig\":{\"tools\":["
        "{\"toolSpec\":{\"name\":\"weather\",\"inputSchema\":{\"json\":{"
        "\"type\":\"object\",\"properties\":{}}}}},{\"toolSpec\":{\"name\":"
        "\"now\",\"inputSchema\":{\"json\":{\"type\":\"object\","
        "\"properties\":{}}}}}]}}", NULL);

    AT_STREQ(got, want, "round trip: own reasoning kept, foreign dropped, "
             "ids mapped alike, used tools declared");
    got = enc(p, LLAMA, in, 0);
    AT_OK(!strstr(got, "reasoningContent") && strstr(got, "toolResult"),
          "round trip: Llama gets no reasoningContent");
}

static void enc_reasoning(apr_pool_t *p)
{
    AT_STREQ(enc(p, CLAUDE, "{\"input\":\"Hi\",\"reasoning\":{\"effort\":"
                 "\"low\"},\"temperature\":0.5,\"top_p\":0.97}", 0),
             "{" HI ",\"additionalModelRequestFields\":{\"thinking\":{\"type\":"
             "\"enabled\",\"budget_tokens\":2048}},\"inferenceConfig\":{"
             "\"maxTokens\":64000,\"topP\":0.97}}",
             "reasoning: Claude thinking; temperature dropped, top_p >= 0.95");
    AT_STREQ(enc(p, CLAUDE, "{\"input\":\"Hi\",\"reasoning\":{\"effort\":"
                 "\"high\"},\"max_output_tokens\":4000}", 0),
             "{" HI ",\"additionalModelRequestFields\":{\"thinking\":{\"type\":"
             "\"enabled\",\"budget_tokens\":2000}},\"inferenceConfig\":{"
             "\"maxTokens\":4000}}",
             "reasoning: budget kept below maxTokens");
    AT_STREQ(enc(p, CLAUDE, "{\"input\":\"Hi\",\"max_output_tokens\":500}",
                 3000),
             "{" HI ",\"inferenceConfig\":{\"maxTokens\":500}}",
             "reasoning: no room for 1024 thinking tokens -> off");
    AT_STREQ(enc(p, CLAUDE, "{\"input\":\"Hi\"," TOOLS ",\"tool_choice\":"
                 "\"required\",\"reasoning\":{\"effort\":\"medium\"}}", 0),
             "{" HI ",\"toolConfig\":{\"tools\":[" SPEC_W "," SPEC_N "],"
             "\"toolChoice\":{\"any\":{}}}}",
             "reasoning: forced tool choice -> no thinking");
    AT_STREQ(enc(p, CLAUDE, "{\"input\":[{\"role\":\"user\",\"content\":"
                 "\"Hi\"},{\"type\":\"function_call\",\"call_id\":\"c1\","
                 "\"name\":\"now\",\"arguments\":\"{}\"},{\"type\":"
                 "\"function_call_output\",\"call_id\":\"c1\",\"output\":"
                 "\"12:00\"}]," TOOLS ",\"reasoning\":{\"effort\":\"low\"}}",
                 0), apr_pstrcat(p, "{\"messages\":[{\"role\":\"user\","
                 "\"content\":[{\"text\":\"Hi\"}]},{\"role\":\"assistant\","
                 "\"content\":[{\"toolUse\":{\"toolUseId\":\"c1\",\"name\":"
                 "\"now\",\"input\":{}}}]},{\"role\":\"user\",\"content\":[{"
                 "\"toolResult\":{\"toolUseId\":\"c1\",\"content\":[{\"text\":"
                 "\"12:00\"}]}}]}],\"toolConfig\":{\"tools\":[" SPEC_W ","
                 SPEC_N "]}}", NULL),
             "reasoning: a tool turn without thinking (another provider's) "
             "is continued without thinking");
    AT_STREQ(enc(p, "us.amazon.nova-2-lite-v1:0", "{\"input\":\"Hi\","
                 "\"reasoning\":{\"effort\":\"minimal\"}}", 0),
             "{" HI ",\"additionalModelRequestFields\":{\"reasoningConfig\":{"
             "\"type\":\"enabled\",\"maxReasoningEffort\":\"low\"}}}",
             "reasoning: Nova 2 reasoningConfig");
    AT_STREQ(enc(p, "openai.gpt-oss-120b-1:0", "{\"input\":\"Hi\","
                 "\"reasoning\":{\"effort\":\"high\"}}", 0),
             "{" HI ",\"additionalModelRequestFields\":{\"reasoning_effort\":"
             "\"high\"}}", "reasoning: gpt-oss reasoning_effort");
    AT_STREQ(enc(p, LLAMA, "{\"input\":\"Hi\",\"reasoning\":{\"effort\":"
                 "\"high\"}}", 0), "{" HI "}",
             "reasoning: Llama has no reasoning control -> nothing sent");
    AT_STREQ(enc(p, "anthropic.claude-3-5-haiku-20241022-v1:0",
                 "{\"input\":\"Hi\",\"reasoning\":{\"effort\":\"high\"}}", 0),
             "{" HI "}", "reasoning: Claude 3.5 has no thinking");
}

/* ---- regressions: CRC table, reassembly growth, signature bounds -------- */

/* The precomputed CRC table (read-only: nothing for request threads to
 * race on) gives zlib's CRC-32: the check value, and a bit-at-a-time
 * reference over bytes reaching every table entry, whole and in pieces. */
static uint32_t crc_bitwise(const unsigned char *s, apr_size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    int k;

    while (n--) {
        c ^= *s++;
        for (k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return ~c;
}

static void es_crc_table(apr_pool_t *p)
{
    unsigned char *b = apr_palloc(p, 4096);
    uint32_t x = 12345;
    int i, bad = 0;

    AT_OK(aura_crc32(0, "123456789", 9) == 0xCBF43926u,
          "crc32: the check value of \"123456789\"");
    for (i = 0; i < 256; i++) {         /* each byte alone: entry i */
        unsigned char c = (unsigned char)i;
        if (aura_crc32(0, &c, 1) != crc_bitwise(&c, 1))
            bad++;
    }
    AT_INTEQ(bad, 0, "crc32: every table entry matches the bitwise CRC");
    for (i = 0; i < 4096; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (unsigned char)(x >> 16);
    }
    AT_OK(aura_crc32(0, b, 4096) == crc_bitwise(b, 4096),
          "crc32: 4 KiB of noise as the bitwise CRC");
    AT_OK(aura_crc32(aura_crc32(0, b, 1000), b + 1000, 3096)
          == crc_bitwise(b, 4096), "crc32: fed in pieces");
}

static apr_status_t count_msg(void *baton, const aura_es_msg_t *m)
{
    (void)m;
    ++*(int *)baton;
    return APR_SUCCESS;
}

/* Split frames each larger than the last (by a byte, then by 7 bytes,
 * across several doublings): the reassembly buffer doubles (a handful of
 * reallocations, not one per frame) and never exceeds the frame bound. */
static int es_growing(apr_pool_t *p, int base, int step, int n,
                      apr_size_t *cap)
{
    apr_pool_t *sub, *tmp;
    aura_es_t *es;
    char *payload = apr_palloc(p, (apr_size_t)(base + step * n));
    apr_size_t last = 0;
    int i, grows = 0, got = 0;
    apr_status_t rv = APR_SUCCESS;

    memset(payload, 'x', (apr_size_t)(base + step * n));
    apr_pool_create(&sub, p);
    apr_pool_create(&tmp, sub);
    es = aura_es_create(sub, 0, count_msg, &got);
    for (i = 0; i < n && rv == APR_SUCCESS; i++) {
        apr_size_t fl;
        const char *f = aura_es_encode(tmp, NULL, payload,
                                       (apr_size_t)(base + step * i), &fl);
        rv = aura_es_feed(es, f, fl / 2);
        if (rv == APR_SUCCESS)
            rv = aura_es_feed(es, f + fl / 2, fl - fl / 2);
        if (aura_es_capacity(es) != last)
            grows++;
        last = aura_es_capacity(es);
        apr_pool_clear(tmp);
    }
    *cap = last;
    apr_pool_destroy(sub);
    return rv == APR_SUCCESS && got == n ? grows : -1;
}

static void es_growth(apr_pool_t *p)
{
    enum { N = 3000, BASE = 1000 };
    apr_pool_t *sub;
    aura_es_t *es;
    char *payload = apr_palloc(p, 9000);
    apr_size_t last, cap_max = 0;
    int grows, got = 0, i;

    grows = es_growing(p, BASE, 1, N, &last);
    AT_OK(grows >= 1 && grows <= 2, apr_psprintf(p, "reassembly: frames "
          "growing a byte each: %d reallocations for %d frames", grows, N));
    AT_OK(last >= BASE + N + 16 && last <= 2 * (BASE + N + 16),
          "reassembly: capacity within twice the largest frame");
    grows = es_growing(p, BASE, 7, N, &last);
    AT_OK(grows >= 3 && grows <= 4, apr_psprintf(p, "reassembly: the buffer "
          "doubles: %d reallocations for %d frames up to 22 KB", grows, N));
    AT_OK(last >= BASE + 7 * N + 16 && last <= 2 * (BASE + 7 * N + 16),
          "reassembly: capacity within twice the largest frame (22 KB)");

    memset(payload, 'x', 9000);

    /* near a small bound: doubling stops at the bound */
    apr_pool_create(&sub, p);
    got = 0;
    es = aura_es_create(sub, 9000, count_msg, &got);
    for (i = 0; i < 4; i++) {
        apr_size_t fl, pl = i < 3 ? 4000 + (apr_size_t)i * 1000 : 8984;
        const char *f = aura_es_encode(sub, NULL, payload, pl, &fl);
        aura_es_feed(es, f, 10);
        aura_es_feed(es, f + 10, fl - 10);
        if (aura_es_capacity(es) > cap_max)
            cap_max = aura_es_capacity(es);
    }
    AT_INTEQ(got, 4, "reassembly: frames up to the bound delivered");
    AT_INTEQ(cap_max, 9000, "reassembly: capacity clamped to the bound");
    apr_pool_destroy(sub);
}

/* Decodes with any decoder (dec_check.h's decode_ex is bound to one). */
static aura_rb_t *decode_with(apr_pool_t *p,
                              aura_decoder_t *(*mk)(apr_pool_t *, aura_rb_t *,
                                                    int),
                              const char *buf, apr_size_t len, int stream,
                              rec *r, apr_size_t max, apr_status_t *feed_rv)
{
    aura_rb_t *rb = aura_rb_create(p, req_new(p), NULL, "m");
    aura_decoder_t *d;
    apr_status_t rv;

    r->p = p;
    r->ev = apr_array_make(p, 64, sizeof(json_object *));
    aura_rb_set_max_content(rb, max);
    if (stream)
        aura_rb_set_sink(rb, sink, r);
    d = mk(p, rb, stream);
    rv = aura_decoder_feed(d, buf, len);
    if (feed_rv)
        *feed_rv = rv;
    aura_decoder_end(d);
    return rb;
}

/* A growable byte string for building long test streams in linear time. */
typedef struct tbuf {
    apr_pool_t *p;
    char *s;
    apr_size_t n, cap;
} tbuf;

static void tb_add(tbuf *t, const char *s, apr_size_t n)
{
    if (t->n + n + 1 > t->cap) {
        apr_size_t cap = t->cap ? t->cap : 4096;
        char *nb;
        while (cap < t->n + n + 1)
            cap *= 2;
        nb = apr_palloc(t->p, cap);
        if (t->n)
            memcpy(nb, t->s, t->n);
        t->s = nb;
        t->cap = cap;
    }
    memcpy(t->s + t->n, s, n);
    t->n += n;
    t->s[t->n] = '\0';
}

static void tb_frame(tbuf *t, const char *type, const char *payload)
{
    apr_size_t fl;
    const char *f = frame_of(t->p, type, payload, &fl);
    tb_add(t, f, fl);
}

/* A reasoning block whose signature (or redacted data) comes in `n`
 * deltas of `piece`. */
static const char *bedrock_sig_stream(apr_pool_t *p, const char *key,
                                      const char *piece, int n,
                                      apr_size_t *len)
{
    tbuf t = { p, NULL, 0, 0 };
    const char *d = apr_psprintf(p, "{\"contentBlockIndex\":0,\"delta\":{"
                                 "\"reasoningContent\":{\"%s\":\"%s\"}}}",
                                 key, piece);
    int i;

    tb_frame(&t, "contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{"
             "\"reasoningContent\":{\"text\":\"Hmm.\"}}}");
    for (i = 0; i < n; i++)
        tb_frame(&t, "contentBlockDelta", d);
    tb_frame(&t, "contentBlockStop", "{\"contentBlockIndex\":0}");
    tb_frame(&t, "messageStop", "{\"stopReason\":\"end_turn\"}");
    *len = t.n;
    return t.s;
}

static void dec_signature_bounds(apr_pool_t *p)
{
    apr_size_t len;
    const char *buf, *enc;
    apr_status_t rv;
    aura_rb_t *rb;
    rec r;

    /* 4000 deltas joined whole, in linear time */
    buf = bedrock_sig_stream(p, "signature", "AbCd", 4000, &len);
    rb = decode_with(p, aura_bedrock_decoder, buf, len, 1, &r, 0, &rv);
    enc = sat(aura_rb_resource(rb), "output.0.encrypted_content");
    AT_STREQ(sat(aura_rb_resource(rb), "status"), "completed",
             "signature deltas: completed");
    AT_OK(enc && strlen(enc) == strlen(AURA_BEDROCK_SIG) + 16000
          && !strncmp(enc, AURA_BEDROCK_SIG "AbCdAbCd", 
                      strlen(AURA_BEDROCK_SIG) + 8)
          && !strcmp(enc + strlen(enc) - 4, "AbCd"),
          "signature deltas: 4000 pieces joined in order");

    /* past the content cap: the response fails, the transfer stops */
    rb = decode_with(p, aura_bedrock_decoder, buf, len, 1, &r, 1000, &rv);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"),
             "upstream_response_too_large", "signature above the cap: fails");
    AT_INTEQ(rv, APR_ENOSPC, "signature above the cap: feeding stops");
    AT_OK(!check_events(p, &r, 0), "signature above the cap: error + failed");
    buf = bedrock_sig_stream(p, "redactedContent", "c2VjcmV0", 200, &len);
    rb = decode_with(p, aura_bedrock_decoder, buf, len, 1, &r, 1000, &rv);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"),
             "upstream_response_too_large", "redacted above the cap: fails");
    rb = decode_with(p, aura_bedrock_decoder, buf, len, 1, &r, 0, &rv);
    enc = sat(aura_rb_resource(rb), "output.0.encrypted_content");
    AT_OK(enc && strlen(enc) == strlen(AURA_BEDROCK_REDACTED) + 1600,
          "redacted deltas: joined");
    /* at the cap exactly: kept */
    buf = bedrock_sig_stream(p, "signature", "AbCd", 250, &len);
    rb = decode_with(p, aura_bedrock_decoder, buf, len, 1, &r, 1004, &rv);
    AT_STREQ(sat(aura_rb_resource(rb), "status"), "completed",
             "signature within the cap (with its text): completed");
}

/* The Anthropic decoder (aura_anthropic_dec.c): signature_delta pieces. */
static const char *anth_sig_stream(apr_pool_t *p, int n, apr_size_t *len)
{
    tbuf t = { p, NULL, 0, 0 };
    const char *ev;
    int i;

#define SSE(s) tb_add(&t, s, strlen(s))
    SSE("event: message_start\ndata: {\"type\":\"message_start\",\"message\":"
        "{\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n");
    SSE("event: content_block_start\ndata: {\"type\":\"content_block_start\","
        "\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":"
        "\"\",\"signature\":\"\"}}\n\n");
    SSE("event: content_block_delta\ndata: {\"type\":\"content_block_delta\","
        "\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":"
        "\"Hmm.\"}}\n\n");
    ev = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\","
         "\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":"
         "\"EqQB\"}}\n\n";
    for (i = 0; i < n; i++)
        SSE(ev);
    SSE("event: content_block_stop\ndata: {\"type\":\"content_block_stop\","
        "\"index\":0}\n\n");
    SSE("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":"
        "{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":9}}\n\n");
    SSE("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
#undef SSE
    *len = t.n;
    return t.s;
}

static void anth_signature_bounds(apr_pool_t *p)
{
    aura_decoder_t *(*mk)(apr_pool_t *, aura_rb_t *, int)
        = aura_adapter_anthropic.decoder;
    apr_size_t len;
    const char *buf, *enc, *b;
    apr_status_t rv;
    aura_rb_t *rb;
    rec r;

    buf = anth_sig_stream(p, 4000, &len);
    rb = decode_with(p, mk, buf, len, 1, &r, 0, &rv);
    enc = sat(aura_rb_resource(rb), "output.0.encrypted_content");
    AT_STREQ(sat(aura_rb_resource(rb), "status"), "completed",
             "anthropic signature deltas: completed");
    AT_OK(enc && strlen(enc) == strlen("aura:anthropic:") + 16000
          && !strncmp(enc, "aura:anthropic:EqQBEqQB", 23),
          "anthropic signature deltas: 4000 pieces joined in order");
    AT_OK(!check_events(p, &r, 1), "anthropic signature deltas: rules");

    rb = decode_with(p, mk, buf, len, 1, &r, 1000, &rv);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"),
             "upstream_response_too_large",
             "anthropic signature above the cap: fails");
    AT_INTEQ(rv, APR_ENOSPC, "anthropic signature above the cap: stops");
    AT_OK(!check_events(p, &r, 0),
          "anthropic signature above the cap: error + failed");

    /* redacted data in a body is held to the same bound */
    b = "{\"type\":\"message\",\"content\":[{\"type\":\"redacted_thinking\","
        "\"data\":\"c2VjcmV0c2VjcmV0\"},{\"type\":\"text\",\"text\":\"Hi\"}],"
        "\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":1,"
        "\"output_tokens\":1}}";
    rb = decode_with(p, mk, b, strlen(b), 0, &r, 0, &rv);
    AT_STREQ(sat(aura_rb_resource(rb), "output.0.encrypted_content"),
             "aura:anthropic-redacted:c2VjcmV0c2VjcmV0",
             "anthropic redacted: kept");
    rb = decode_with(p, mk, b, strlen(b), 0, &r, strlen(b), &rv);
    AT_OK(aura_rb_failed(rb) == 0, "anthropic redacted within the cap");
}

/* The Mistral decoder: many thinking chunks joined in order (one join,
 * not a copy per chunk). */
static void mistral_thinking_join(apr_pool_t *p)
{
    tbuf t = { p, NULL, 0, 0 };
    aura_rb_t *rb;
    json_object *res;
    const char *got;
    char piece[64];
    int i, n = 3000;
    rec r;

#define ADD(s) tb_add(&t, s, strlen(s))
    ADD("{\"id\":\"x\",\"object\":\"chat.completion\",\"model\":\"m\","
        "\"choices\":[{\"index\":0,\"finish_reason\":\"stop\",\"message\":"
        "{\"role\":\"assistant\",\"content\":[");
    for (i = 0; i < n; i++) {
        snprintf(piece, sizeof(piece), "{\"type\":\"thinking\",\"thinking\":"
                 "[{\"type\":\"text\",\"text\":\"%04d\"}]},", i);
        ADD(piece);
    }
    ADD("{\"type\":\"text\",\"text\":\"Answer\"}]}}],\"usage\":{"
        "\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}");
#undef ADD
    rb = decode_with(p, aura_adapter_mistral.decoder, t.s, t.n, 0, &r, 0,
                     NULL);
    res = aura_rb_resource(rb);
    got = sat(res, "output.0.content.0.text");
    if (!got)
        got = sat(res, "output.0.summary.0.text");
    AT_STREQ(sat(res, "output.0.type"), "reasoning", "mistral: reasoning");
    AT_OK(got && strlen(got) == 4 * (apr_size_t)n
          && !strncmp(got, "000000010002", 12)
          && !strcmp(got + strlen(got) - 4, "2999"),
          "mistral: 3000 thinking chunks joined in order");
    AT_STREQ(sat(res, "output.1.content.0.text"), "Answer", "mistral: text");
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    (void)stream_all_ways;          /* dec_check.h's text-only runner */
    sigv4_suite(p);
    sigv4_iam_example(p);
    request_signing(p);
    es_recorded(p);
    es_corrupt(p);
    es_header_types(p);
    es_header_garbage(p);
    dec_stream_fixtures(p);
    dec_body_fixtures(p);
    dec_tools(p);
    dec_endings(p);
    dec_failures(p);
    dec_bodies(p);
    enc_basic(p);
    enc_tool_choice(p);
    enc_round_trip(p);
    enc_reasoning(p);
    es_crc_table(p);
    es_growth(p);
    dec_signature_bounds(p);
    anth_signature_bounds(p);
    mistral_thinking_join(p);
    apr_pool_destroy(p);
    apr_terminate();
    return AT_DONE();
}
