/* See fault.h. Compiled to nothing unless HUSK_FAULTS is defined. */
#include "fault.h"

#ifdef HUSK_FAULTS
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void husk_fault_point(const char *name)
{
        const char *want = getenv("HUSK_FAULT");
        if (!want || strcmp(want, name) != 0)
                return;
        /* Say where, then die like kill -9 would: no cleanup, no atexit. */
        char msg[256];
        int n = snprintf(msg, sizeof msg, "husk: fault injected at %s\n", name);
        if (n > 0)
                (void)!write(STDERR_FILENO, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
        kill(getpid(), SIGKILL);
        _exit(137);
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int husk_fault_unused;
#endif
