/*
 * aura_sigv4.h - AWS Signature Version 4 (header signing) with OpenSSL.
 *
 * The algorithm as the IAM User Guide ("Create a signed AWS API request",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html)
 * describes it: canonical request -> string to sign -> derived key ->
 * signature -> Authorization header. Checked against AWS's published
 * test suite (tests/unit/test_bedrock.c).
 *
 * Only what a REST+JSON service such as Bedrock needs: header signing,
 * the payload hashed (no UNSIGNED-PAYLOAD, no chunked signing, no
 * presigned URLs), and the non-S3 canonical URI rule (the path as sent is
 * URI-encoded once more, so "%3A" in a Bedrock model id is signed as
 * "%253A").
 */
#ifndef AURA_SIGV4_H
#define AURA_SIGV4_H

#include "aura_adapter.h"

typedef struct aura_sigv4_req {
    const char *method;          /* "POST" */
    const char *host;            /* the Host header value: host[:port] */
    const char *path;            /* as sent on the wire (already encoded) */
    const char *query;           /* raw query without '?', or NULL */
    const char *body;            /* the payload (may be NULL when len 0) */
    apr_size_t len;
    const char *service;         /* "bedrock" */
    const char *region;          /* "us-east-1" */
    const aura_aws_cred_t *cred;
    apr_time_t now;
    /* Further headers to sign, "Name: value" (e.g. content-type), or
     * NULL. host, x-amz-date and x-amz-security-token are always added. */
    const apr_array_header_t *headers;
} aura_sigv4_req_t;

typedef struct aura_sigv4_out {
    const char *authorization;   /* value of the Authorization header */
    const char *amz_date;        /* value of X-Amz-Date: 20150830T123600Z */
    const char *token;           /* X-Amz-Security-Token value, or NULL */
    /* The intermediate steps, for tests and debugging. They hold no
     * secret (the derived key is not kept). */
    const char *canonical_request;
    const char *string_to_sign;
    const char *signature;       /* hex */
} aura_sigv4_out_t;

/* Signs `r`. Returns NULL, or a 500 error when the credentials are
 * incomplete (the message never holds the secret). */
aura_error_t *aura_sigv4_sign(apr_pool_t *p, const aura_sigv4_req_t *r,
                              aura_sigv4_out_t *out);

/* RFC 3986 percent-encoding as SigV4 wants it: every byte except the
 * unreserved A-Z a-z 0-9 - _ . ~ becomes %XX (upper-case hex); '/' is
 * kept when keep_slash is set. */
const char *aura_sigv4_uri_encode(apr_pool_t *p, const char *s, apr_size_t n,
                                  int keep_slash);


#endif /* AURA_SIGV4_H */
