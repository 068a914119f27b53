/*
 * test_log.c - the core log callback (aura_log.h): lines reach the
 * installed logger with level, request id and the formatted message; a
 * level that is off is neither formatted nor delivered; no logger, no
 * output; untrusted strings are redacted and cut.
 */
#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "aura_test.h"
#include "aura.h"
#include "aura_log.h"

/* What the capturing logger saw. */
static struct {
    int asked, printed, level, max_level;
    const char *id, *file;
    char msg[AURA_LOG_MAX_LINE];
} seen;

static int cap_is_level(const aura_log_ctx_t *ctx, int level)
{
    (void)ctx;
    seen.asked++;
    return level <= seen.max_level;
}

static void cap_print(const char *file, int line, int level,
                      const aura_log_ctx_t *ctx, const char *msg)
{
    (void)line;
    seen.printed++;
    seen.level = level;
    seen.id = ctx->id;
    seen.file = file;
    apr_cpystrn(seen.msg, msg, sizeof(seen.msg));
}

/* An argument with a side effect: counts how often it was evaluated. */
static int evaluated;
static const char *counted(const char *s)
{
    evaluated++;
    return s;
}

static void reset(int max_level)
{
    memset(&seen, 0, sizeof(seen));
    seen.max_level = max_level;
    evaluated = 0;
}

static void test_delivered(apr_pool_t *p)
{
    const aura_log_ctx_t *ctx = aura_log_ctx_make(p, "req_abc", NULL);

    aura_log_set(cap_is_level, cap_print);
    reset(AURA_LOG_TRACE1);
    AURA_TRACE(ctx, "event %s ignored (%d)", counted("ping2"), 7);
    AT_INTEQ(seen.printed, 1, "an enabled line is delivered once");
    AT_INTEQ(seen.level, AURA_LOG_TRACE1, "with its level");
    AT_STREQ(seen.id, "req_abc", "with the request id");
    AT_STREQ(seen.msg, "event ping2 ignored (7)", "formatted, without the id");
    AT_OK(seen.file && strstr(seen.file, "test_log.c"),
          "with the caller's file");
    AT_INTEQ(evaluated, 1, "arguments evaluated once");

    reset(AURA_LOG_DEBUG);
    AURA_LOG_AT(ctx, AURA_LOG_DEBUG, "%s", counted("x"));
    AT_INTEQ(seen.printed, 1, "AURA_LOG_AT: another level on");
    AT_INTEQ(seen.level, AURA_LOG_DEBUG, "AURA_LOG_AT: its level");
}

static void test_off_not_formatted(apr_pool_t *p)
{
    const aura_log_ctx_t *ctx = aura_log_ctx_make(p, "req_off", NULL);

    aura_log_set(cap_is_level, cap_print);
    reset(AURA_LOG_DEBUG);          /* trace is off */
    AURA_TRACE(ctx, "never %s %s", counted("a"), counted("b"));
    AT_INTEQ(seen.asked, 1, "off: the logger was asked once");
    AT_INTEQ(seen.printed, 0, "off: nothing delivered");
    AT_INTEQ(evaluated, 0, "off: the arguments were not even evaluated");

    /* a direct call checks the level too */
    aura_log_print(AURA_LOG_MARK, AURA_LOG_TRACE2, ctx, "direct");
    AT_INTEQ(seen.printed, 0, "off: a direct aura_log_print is dropped");
}

static void test_no_logger(apr_pool_t *p)
{
    aura_log_set(NULL, NULL);
    reset(AURA_LOG_TRACE8);
    AURA_TRACE(&aura_log_none, "nothing %s", counted("here"));
    AURA_LOG_AT(aura_log_ctx_make(p, NULL, NULL), AURA_LOG_EMERG, "%s",
                counted("x"));
    aura_log_print(AURA_LOG_MARK, AURA_LOG_ERR, &aura_log_none, "direct");
    AT_INTEQ(seen.asked + seen.printed, 0, "no logger: no calls");
    AT_INTEQ(evaluated, 0, "no logger: nothing evaluated");
    AT_OK(!aura_log_is_level(&aura_log_none, AURA_LOG_EMERG),
          "no logger: no level is on");
    AT_STREQ(aura_log_ctx_make(p, NULL, NULL)->id, "-", "no id: \"-\"");
}

static void test_str(apr_pool_t *p)
{
    char big[AURA_LOG_STR_SCAN + 2];
    const char *s;

    AT_STREQ(aura_log_str(p, "content_block_start", NULL),
             "content_block_start", "a name passes");
    AT_STREQ(aura_log_str(p, NULL, NULL), "(none)", "NULL");
    s = aura_log_str(p, "x Bearer abcdefghijklmnop", NULL);
    AT_OK(!strstr(s, "abcdefghijklmnop") && strstr(s, "[redacted]"),
          "a bearer token is redacted");
    s = aura_log_str(p, "evt_TOPSECRETVALUE_x", "TOPSECRETVALUE");
    AT_OK(!strstr(s, "TOPSECRETVALUE"), "the upstream key is redacted");
    AT_STREQ(aura_log_str(p, "a\nb\tc\x7f", NULL), "a?b?c?",
             "control bytes shown as ?");
    memset(big, 'y', 100);
    big[100] = '\0';
    s = aura_log_str(p, big, NULL);
    AT_INTEQ(strlen(s), AURA_LOG_STR_MAX + 3, "cut at 64 bytes, plus ...");
    AT_OK(!strcmp(s + AURA_LOG_STR_MAX, "..."), "the cut is marked");
    /* "é" is 2 bytes: 63 ASCII then é must not be split at byte 64 */
    memset(big, 'z', 63);
    strcpy(big + 63, "\xc3\xa9tail");
    s = aura_log_str(p, big, NULL);
    AT_INTEQ(strlen(s), 63 + 3, "the cut does not split a UTF-8 sequence");
    memset(big, 'w', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    AT_STREQ(aura_log_str(p, big, NULL),
             apr_psprintf(p, "(%d bytes)", AURA_LOG_STR_SCAN + 1),
             "a string too long for a name: its length only");
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&p, NULL);
    test_delivered(p);
    test_off_not_formatted(p);
    test_no_logger(p);
    test_str(p);
    apr_pool_destroy(p);
    return AT_DONE();
}
