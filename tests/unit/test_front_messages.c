/* test_front_messages.c - placeholder until the front door lands (issue 5). */
#include <apr_general.h>
#include "aura_test.h"

int main(void)
{
    apr_initialize();
    AT_OK(1, "placeholder");
    apr_terminate();
    return AT_DONE();
}
