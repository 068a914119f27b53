/*
 * admin_http.c - the admin console's HTTP side: the output buffer, HTML
 * escaping and the page frame, answers (JSON, redirects, errors), request
 * input (query strings, forms, JSON bodies), the master key and CSRF.
 *
 * Everything is buffered in a->out and sent once by adm_send, so that an
 * error found late replaces the page instead of ending half of it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "admin_int.h"
#include "aura.h"
#include "aura_crypt.h"
#include "aura_vkey.h"

/* ---------------------------------------------------------- output */

void adm_write(adm_t *a, const char *s, apr_size_t n)
{
    aura_buf_add(&a->out, s, n);
}

void adm_puts(adm_t *a, const char *s)
{
    if (s)
        adm_write(a, s, strlen(s));
}

/* The C library's formatter, not APR's: the prototypes promise printf
 * semantics (%lld, %zu...), which apr_pvsprintf does not all speak. */
const char *adm_vfmt(apr_pool_t *p, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    char *s;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return "";
    s = apr_palloc(p, (apr_size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

const char *adm_fmt(apr_pool_t *p, const char *fmt, ...)
{
    va_list ap;
    const char *s;

    va_start(ap, fmt);
    s = adm_vfmt(p, fmt, ap);
    va_end(ap);
    return s;
}

void adm_printf(adm_t *a, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    adm_puts(a, adm_vfmt(a->p, fmt, ap));
    va_end(ap);
}

static const char *esc_of(char c)
{
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    default: return NULL;
    }
}

void adm_esc(adm_t *a, const char *s)
{
    const char *run = s;

    if (!s)
        return;
    for (; *s; s++) {
        const char *e = esc_of(*s);
        if (e) {
            adm_write(a, run, (apr_size_t)(s - run));
            adm_puts(a, e);
            run = s + 1;
        }
    }
    adm_write(a, run, (apr_size_t)(s - run));
}

const char *adm_escs(apr_pool_t *p, const char *s)
{
    apr_size_t n = 0;
    const char *c;
    char *out, *o;

    if (!s)
        return "";
    for (c = s; *c; c++)
        n += esc_of(*c) ? strlen(esc_of(*c)) : 1;
    out = o = apr_palloc(p, n + 1);
    for (c = s; *c; c++) {
        const char *e = esc_of(*c);
        if (e) {
            strcpy(o, e);
            o += strlen(e);
        } else {
            *o++ = *c;
        }
    }
    *o = '\0';
    return out;
}

/* ---------------------------------------------------------- the page */

static const char page_css[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2329;"
    "background:#f6f7f9}"
    "nav{background:#1f2a37;padding:.5em 1em;display:flex;flex-wrap:wrap;"
    "gap:.2em 1em;align-items:center}"
    "nav a{color:#cfd8e3;text-decoration:none}"
    "nav a.on{color:#fff;font-weight:600;border-bottom:2px solid #6cb4ff}"
    "nav .who{margin-left:auto;color:#9fb0c3}"
    "main{padding:1em 1.5em;max-width:1200px}"
    "h1{font-size:1.4em;margin:.3em 0 .8em}"
    "table{border-collapse:collapse;background:#fff;margin:.5em 0 1.5em;"
    "min-width:50%}"
    "th,td{border:1px solid #d6dbe1;padding:.3em .6em;text-align:left;"
    "vertical-align:top}"
    "th{background:#eef1f4}"
    "td{overflow-wrap:anywhere}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums;"
    "overflow-wrap:normal}"
    "details.confirm{display:inline-block;margin-right:.3em}"
    "details.confirm summary{cursor:pointer;display:inline-block;"
    "border:1px solid #b9c2cc;background:#fff;padding:.1em .7em;"
    "border-radius:3px;list-style:none}"
    "details.confirm[open] summary{background:#fdecec}"
    "form{margin:.3em 0}"
    "form.box{background:#fff;border:1px solid #d6dbe1;padding:.8em 1em;"
    "margin:1em 0;max-width:40em}"
    "form.inline{display:inline}"
    "label{display:block;margin:.4em 0 .1em;font-weight:600}"
    "input,select{font:inherit;padding:.2em .4em}"
    "button{font:inherit;padding:.2em .8em;cursor:pointer}"
    ".error{color:#8a1c1c;background:#fdecec;border:1px solid #f1b0b0;"
    "padding:.4em .7em;margin:.4em 0}"
    ".secret{font-family:monospace;font-size:1.1em;background:#fffbe6;"
    "border:1px solid #e5d48a;padding:.5em;word-break:break-all}"
    ".muted{color:#6b7785}";

static const struct { const char *nav, *path, *label; } nav_items[] = {
    {"overview", "/", "Overview"},
    {"orgs", "/orgs", "Organizations"},
    {"teams", "/teams", "Teams"},
    {"projects", "/projects", "Projects"},
    {"end-users", "/end-users", "End-users"},
    {"keys", "/keys", "Keys"},
    {"credentials", "/credentials", "Credentials"},
    {"budgets", "/budgets", "Budgets"},
    {"limits", "/limits", "Limits"},
    {"costs", "/costs", "Costs"},
    {"requests", "/requests", "Requests"},
    {"audit", "/audit", "Audit"},
    {"admins", "/admins", "Admins"},
    {NULL, NULL, NULL}
};

static void page_nav(adm_t *a, const char *nav)
{
    int i;

    adm_puts(a, "<nav>");
    for (i = 0; nav_items[i].nav; i++) {
        if (!strcmp(nav_items[i].nav, "admins")
            && strcmp(a->role, "superadmin"))
            continue;
        adm_printf(a, "<a href=\"%s%s\"%s>%s</a>",
                   adm_escs(a->p, a->base), nav_items[i].path,
                   nav && !strcmp(nav, nav_items[i].nav) ? " class=\"on\"" : "",
                   nav_items[i].label);
    }
    adm_puts(a, "<span class=\"who\">");
    adm_esc(a, a->user);
    adm_puts(a, " (");
    adm_esc(a, a->role);
    adm_puts(a, ")</span></nav>\n");
}

void adm_page_begin(adm_t *a, const char *title, const char *nav)
{
    a->content_type = "text/html; charset=utf-8";
    adm_puts(a, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
                "<meta charset=\"utf-8\"><title>");
    adm_esc(a, title);
    adm_puts(a, " · aura admin</title><meta name=\"viewport\" "
                "content=\"width=device-width, initial-scale=1\"><style>");
    adm_puts(a, page_css);
    adm_puts(a, "</style></head><body>\n");
    if (a->role && a->user)     /* no navigation for the unauthorised */
        page_nav(a, nav);
    adm_puts(a, "<main><h1>");
    adm_esc(a, title);
    adm_puts(a, "</h1>\n");
}

int adm_page_end(adm_t *a)
{
    adm_puts(a, "</main></body></html>\n");
    if (!a->status)
        a->status = 200;
    return a->status;
}

void adm_csrf_input(adm_t *a)
{
    adm_puts(a, "<input type=\"hidden\" name=\"csrf\" value=\"");
    adm_esc(a, a->csrf);
    adm_puts(a, "\">");
}

/* ---------------------------------------------------------- answers */

int adm_json(adm_t *a, int status, json_object *o)
{
    aura_buf_reset(&a->out);
    a->status = status;
    a->content_type = "application/json";
    adm_puts(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN
                                               | JSON_C_TO_STRING_NOSLASHESCAPE));
    adm_puts(a, "\n");
    json_object_put(o);
    return status;
}

int adm_redirect(adm_t *a, const char *path)
{
    const char *to = apr_pstrcat(a->p, a->base, path, NULL);

    aura_buf_reset(&a->out);
    a->status = 303;
    a->content_type = "text/html; charset=utf-8";
    apr_table_setn(a->headers, "Location", to);
    adm_printf(a, "<!DOCTYPE html>\n<p><a href=\"%s\">continue</a></p>\n",
               adm_escs(a->p, to));
    return 303;
}

static const char *status_title(int status)
{
    switch (status) {
    case 400: return "Bad request";
    case 401: return "Not signed in";
    case 403: return "Forbidden";
    case 404: return "Not found";
    case 405: return "Method not allowed";
    case 409: return "Conflict";
    case 413: return "Request too large";
    case 415: return "Unsupported media type";
    case 503: return "Unavailable";
    default: return status >= 500 ? "Server error" : "Error";
    }
}

int adm_error(adm_t *a, int status, const char *type, const char *field,
              const char *fmt, ...)
{
    va_list ap;
    const char *msg;

    va_start(ap, fmt);
    msg = adm_vfmt(a->p, fmt, ap);
    va_end(ap);
    if (status >= 500 || adm_in_cli())
        fprintf(stderr, "aura-admin: %s\n", msg);
    if (a->api) {
        json_object *e = json_object_new_object(), *o = json_object_new_object();

        json_object_object_add(e, "status", json_object_new_int(status));
        json_object_object_add(e, "type", json_object_new_string(type));
        json_object_object_add(e, "message", json_object_new_string(msg));
        json_object_object_add(e, "field",
                               field ? json_object_new_string(field) : NULL);
        json_object_object_add(o, "error", e);
        return adm_json(a, status, o);
    }
    aura_buf_reset(&a->out);
    a->status = status;
    apr_table_unset(a->headers, "Location");
    adm_page_begin(a, status_title(status), NULL);
    adm_form_error(a, field, msg);
    if (a->role)
        adm_printf(a, "<p><a href=\"%s/\">Back to the overview</a></p>\n",
                   adm_escs(a->p, a->base));
    return adm_page_end(a);
}

void adm_form_error(adm_t *a, const char *field, const char *msg)
{
    adm_puts(a, "<p class=\"error\"");
    if (field) {
        adm_puts(a, " data-field=\"");
        adm_esc(a, field);
        adm_puts(a, "\"");
    }
    adm_puts(a, " role=\"alert\">");
    adm_esc(a, msg);
    adm_puts(a, "</p>\n");
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 303: return "See Other";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

static int put_header(void *ctx, const char *k, const char *v)
{
    (void)ctx;
    printf("%s: %s\r\n", k, v);
    return 1;
}

void adm_send(adm_t *a)
{
    int status = a->status ? a->status : 200;

    printf("Status: %d %s\r\n", status, reason(status));
    printf("Content-Type: %s\r\n", a->content_type ? a->content_type
                                                   : "text/html; charset=utf-8");
    printf("Content-Length: %lu\r\n", (unsigned long)a->out.len);
    printf("Cache-Control: no-store\r\n"
           "X-Content-Type-Options: nosniff\r\n"
           "X-Frame-Options: DENY\r\n"
           "Referrer-Policy: same-origin\r\n"
           "Content-Security-Policy: default-src 'none'; "
           "style-src 'unsafe-inline'; img-src 'self' data:; "
           "form-action 'self'; frame-ancestors 'none'; base-uri 'none'\r\n");
    apr_table_do(put_header, NULL, a->headers, NULL);
    printf("\r\n");
    if (a->out.len)
        fwrite(a->out.s, 1, a->out.len, stdout);
    fflush(stdout);
}

/* ---------------------------------------------------------- input */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Well-formed UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF)
 * and no NUL: what a field may hold before it goes near the database. */
static int utf8_ok(const unsigned char *s, apr_size_t n)
{
    apr_size_t i = 0;

    while (i < n) {
        unsigned c = s[i], need, cp, min;
        if (c == 0) return 0;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xc2 && c <= 0xdf) { need = 1; cp = c & 0x1f; min = 0x80; }
        else if (c >= 0xe0 && c <= 0xef) { need = 2; cp = c & 0x0f; min = 0x800; }
        else if (c >= 0xf0 && c <= 0xf4) { need = 3; cp = c & 0x07; min = 0x10000; }
        else return 0;
        if (i + need >= n)      /* truncated sequence */
            return 0;
        for (unsigned k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += need + 1;
    }
    return 1;
}

/* Decodes one urlencoded component [s, s+n) into p; NULL when it is
 * malformed (bad %-escape, NUL, invalid UTF-8). */
static char *url_decode(apr_pool_t *p, const char *s, apr_size_t n)
{
    char *out = apr_palloc(p, n + 1);
    apr_size_t i, o = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%') {
            int h = i + 2 < n ? hexval(s[i + 1]) : -1;
            int l = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (h < 0 || l < 0)
                return NULL;
            out[o++] = (char)(h << 4 | l);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return utf8_ok((unsigned char *)out, o) ? out : NULL;
}

const char *adm_parse_urlencoded(apr_pool_t *p, const char *s,
                                 apr_size_t n, apr_table_t *into)
{
    const char *end = s + n;

    while (s < end) {
        const char *amp = memchr(s, '&', (apr_size_t)(end - s));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(s, '=', (apr_size_t)(stop - s));
        char *k, *v;

        if (stop > s) {
            k = url_decode(p, s, (apr_size_t)((eq ? eq : stop) - s));
            v = eq ? url_decode(p, eq + 1, (apr_size_t)(stop - eq - 1))
                   : apr_pstrdup(p, "");
            if (!k || !v)
                return "malformed form or query encoding "
                       "(bad %-escape, NUL byte or invalid UTF-8)";
            apr_table_add(into, k, v);
        }
        s = stop + 1;
    }
    return NULL;
}

json_object *adm_json_bind(adm_t *a, json_object *o)
{
    return aura_json_pool(a->p, o);     /* the core's pool binding */
}

const char *adm_parse_json_body(adm_t *a, const char *s, apr_size_t n)
{
    json_tokener *tok = json_tokener_new_ex(32);
    json_object *o;
    enum json_tokener_error err;
    apr_size_t used;

    if (!tok)
        return "out of memory";
    if (memchr(s, '\0', n) || !utf8_ok((const unsigned char *)s, n)) {
        json_tokener_free(tok);
        return "the body is not valid UTF-8 text";
    }
    o = json_tokener_parse_ex(tok, s, (int)n);
    err = json_tokener_get_error(tok);
    used = (apr_size_t)json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (err == json_tokener_continue)
        return "the body is not complete JSON";
    if (err != json_tokener_success)
        return apr_psprintf(a->p, "the body is not valid JSON: %s",
                            json_tokener_error_desc(err));
    for (; used < n; used++)
        if (!strchr(" \t\r\n", s[used])) {
            json_object_put(o);
            return "the body has data after the JSON value";
        }
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return "the body must be a JSON object";
    }
    a->body = adm_json_bind(a, o);
    return NULL;
}

const char *adm_arg(adm_t *a, const char *name)
{
    const char *v = a->query ? apr_table_get(a->query, name) : NULL;
    return v && *v ? v : NULL;
}

/* A JSON member as text: see adm_field. */
static const char *json_text(adm_t *a, json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return NULL;
    case json_type_array: {
        const char *out = NULL;
        size_t i, n = json_object_array_length(v);
        for (i = 0; i < n; i++) {
            const char *s = json_object_get_string(
                json_object_array_get_idx(v, i));
            out = out ? apr_pstrcat(a->p, out, ",", s ? s : "", NULL)
                      : apr_pstrdup(a->p, s ? s : "");
        }
        return out;
    }
    default:
        /* strings as they are; numbers as they were written (json-c keeps
         * the source text), booleans as true/false, objects as JSON */
        return apr_pstrdup(a->p, json_object_get_string(v));
    }
}

const char *adm_field(adm_t *a, const char *name)
{
    const char *v = NULL;

    if (a->api) {
        json_object *m;
        if (a->body && json_object_object_get_ex(a->body, name, &m))
            v = json_text(a, m);
    } else if (a->form) {
        v = apr_table_get(a->form, name);
    }
    return v && *v ? v : NULL;
}

int adm_has_field(adm_t *a, const char *name)
{
    if (a->api)
        return a->body && json_object_object_get_ex(a->body, name, NULL);
    return a->form && apr_table_get(a->form, name) != NULL;
}

long long adm_parse_id(const char *s)
{
    long long v = 0;

    if (!s || !*s || strlen(s) > 18)   /* 18 digits cannot overflow */
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        v = v * 10 + (*s - '0');
    }
    return v;
}

/* ---------------------------------------------------------- secrets */

const unsigned char *adm_master_key(adm_t *a)
{
    static unsigned char key[AURA_MASTER_KEY_LEN];
    static int state;           /* 0 not tried, 1 loaded, -1 unavailable */
    const char *path, *err;

    if (state)
        return state > 0 ? key : NULL;
    path = getenv("AURA_MASTER_KEY_FILE");
    if (!path || !*path) {
        fprintf(stderr, "aura-admin: AURA_MASTER_KEY_FILE is not set\n");
        state = -1;
        return NULL;
    }
    err = aura_master_key_load(a->p, path, key);
    if (err) {
        fprintf(stderr, "aura-admin: master key %s: %s\n", path, err);
        state = -1;
        return NULL;
    }
    state = 1;
    return key;
}

const char *adm_csrf_token(adm_t *a)
{
    static const char label[] = "aura-admin-csrf";
    const unsigned char *mk = adm_master_key(a);
    unsigned char k[SHA256_DIGEST_LENGTH], mac[EVP_MAX_MD_SIZE];
    unsigned char seed[sizeof(label) - 1 + AURA_MASTER_KEY_LEN];
    unsigned int maclen = 0;

    if (!mk || !a->user)
        return NULL;
    /* A key of its own, so the token reveals nothing usable about the
     * master key and a token can never unseal anything. */
    memcpy(seed, label, sizeof(label) - 1);
    memcpy(seed + sizeof(label) - 1, mk, AURA_MASTER_KEY_LEN);
    SHA256(seed, sizeof(seed), k);
    OPENSSL_cleanse(seed, sizeof(seed));
    if (!HMAC(EVP_sha256(), k, sizeof(k), (const unsigned char *)a->user,
              strlen(a->user), mac, &maclen))
        maclen = 0;
    OPENSSL_cleanse(k, sizeof(k));
    return maclen ? aura_hex(a->p, mac, maclen) : NULL;
}

int adm_csrf_ok(adm_t *a, const char *presented)
{
    size_t n;

    if (!a->csrf || !presented)
        return 0;
    n = strlen(a->csrf);
    return strlen(presented) == n
           && CRYPTO_memcmp(presented, a->csrf, n) == 0;
}
