/* test_anthropic.c - placeholder until the anthropic adapter lands (issue 4). */
#include <apr_general.h>
#include "aura_test.h"

int main(void)
{
    apr_initialize();
    AT_OK(1, "placeholder");
    apr_terminate();
    return AT_DONE();
}
