#include "cpulist.h"

#include <errno.h>
#include <stdlib.h>

static int number(const char **c, unsigned long *out)
{
        if (**c < '0' || **c > '9')
                return -1;
        char *end;
        errno = 0;
        *out = strtoul(*c, &end, 10);
        if (errno || *out > CPULIST_MAX) {
                errno = ERANGE;
                return -2;
        }
        *c = end;
        return 0;
}

int cpulist_parse(const char *s, cpu_set_t *set)
{
        if (set)
                CPU_ZERO(set);
        for (const char *c = s;;) {
                unsigned long a, b;
                int r = number(&c, &a);
                if (r == 0 && *c == '-') {
                        c++;
                        r = number(&c, &b);
                } else {
                        b = a;
                }
                if (r == -2)
                        return -1;
                if (r < 0 || b < a || (*c != ',' && *c != '\0')) {
                        errno = EINVAL;
                        return -1;
                }
                if (set) {
                        if (b >= CPU_SETSIZE) {
                                errno = ERANGE;
                                return -1;
                        }
                        for (unsigned long i = a; i <= b; i++)
                                CPU_SET(i, set);
                }
                if (*c++ == '\0')
                        return 0;
        }
}
