/*
 * aura_test.h - a minimal TAP-style unit test harness (no dependencies).
 *
 *   AT_OK(cond, "what")              one check
 *   AT_STREQ(got, want, "what")      string check, prints both on failure
 *   AT_INTEQ(got, want, "what")
 *   return AT_DONE();                in main: prints "# N passed, N failed"
 *
 * scripts/test runs every tests/unit/test_*.c binary (also under ASan and
 * UBSan) and adds up the summary lines.
 */
#ifndef AURA_TEST_H
#define AURA_TEST_H

#include <stdio.h>
#include <string.h>

static int at_pass_, at_fail_;

#define AT_OK(cond, what) do { \
    if (cond) { at_pass_++; printf("ok %d - %s\n", at_pass_ + at_fail_, (what)); } \
    else { at_fail_++; printf("not ok %d - %s (%s:%d)\n", at_pass_ + at_fail_, \
                              (what), __FILE__, __LINE__); } \
} while (0)

#define AT_STREQ(got, want, what) do { \
    const char *g_ = (got), *w_ = (want); \
    int same_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_; \
    AT_OK(same_, what); \
    if (!same_) printf("#   got:  %s\n#   want: %s\n", g_ ? g_ : "(null)", \
                       w_ ? w_ : "(null)"); \
} while (0)

#define AT_INTEQ(got, want, what) do { \
    long long g_ = (long long)(got), w_ = (long long)(want); \
    AT_OK(g_ == w_, what); \
    if (g_ != w_) printf("#   got:  %lld\n#   want: %lld\n", g_, w_); \
} while (0)

#define AT_DONE() (printf("# %d passed, %d failed\n", at_pass_, at_fail_), \
                   at_fail_ ? 1 : 0)

#endif /* AURA_TEST_H */
