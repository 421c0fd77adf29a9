/* common/cpulist.c: the kernel's CPU list format. */
#include <criterion/criterion.h>
#include <errno.h>

#include "../../common/cpulist.h"

Test(cpulist, parses_lists_and_ranges)
{
        cpu_set_t s;
        cr_assert_eq(cpulist_parse("0-3,7", &s), 0);
        cr_assert_eq(CPU_COUNT(&s), 5);
        cr_assert(CPU_ISSET(0, &s) && CPU_ISSET(3, &s) && CPU_ISSET(7, &s) && !CPU_ISSET(4, &s));
        cr_assert_eq(cpulist_parse("5", &s), 0);
        cr_assert(CPU_COUNT(&s) == 1 && CPU_ISSET(5, &s));
        cr_assert_eq(cpulist_parse("65535", NULL), 0);
}

Test(cpulist, rejects_malformed_lists)
{
        static const char *const bad[] = { "", ",", "1,", ",1", "1-", "-1", "3-1", "a", "1 2", "1,,2", "0x1" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                errno = 0;
                cr_assert_eq(cpulist_parse(bad[i], NULL), -1, "'%s' accepted", bad[i]);
                cr_assert_eq(errno, EINVAL, "'%s': errno %d", bad[i], errno);
        }
        errno = 0;
        cr_assert_eq(cpulist_parse("65536", NULL), -1);
        cr_assert_eq(errno, ERANGE);
        cpu_set_t s;
        cr_assert_eq(cpulist_parse("2000", &s), -1, "CPU_SETSIZE is %d", CPU_SETSIZE);
        cr_assert_eq(errno, ERANGE);
}
