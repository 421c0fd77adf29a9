/* See fault.h. Compiled to nothing unless HUSK_FAULTS is defined. */
#include "fault.h"

#ifdef HUSK_FAULTS
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* HUSK_FAULT_DELAY=<point>:<ms> sleeps there instead: it widens a race
 * window for the attack tests (tests/integration/test_cve.c). */
static void delay_point(const char *name)
{
        const char *d = getenv("HUSK_FAULT_DELAY");
        size_t n = strlen(name);
        if (!d || strncmp(d, name, n) != 0 || d[n] != ':')
                return;
        long ms = strtol(d + n + 1, NULL, 10);
        if (ms > 0 && ms <= 60000)
                usleep((useconds_t)ms * 1000);
}

/* HUSK_FAULT_STOP=<point> stops husk there (SIGSTOP) until a test has
 * done its part (killed QEMU, say) and sends SIGCONT. A SIGCONT left
 * pending by a process that blocks every signal (the VM monitor reads
 * them from a signalfd) is consumed, so it is not taken for a request. */
static void stop_point(const char *name)
{
        const char *want = getenv("HUSK_FAULT_STOP");
        if (!want || strcmp(want, name) != 0)
                return;
        char msg[256];
        int n = snprintf(msg, sizeof msg, "husk: fault stop at %s (pid %d)\n", name, (int)getpid());
        if (n > 0)
                (void)!write(STDERR_FILENO, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
        (void)raise(SIGSTOP);
        sigset_t cont;
        sigemptyset(&cont);
        sigaddset(&cont, SIGCONT);
        struct timespec zero = { 0, 0 };
        (void)sigtimedwait(&cont, NULL, &zero);
}

void husk_fault_point(const char *name)
{
        delay_point(name);
        stop_point(name);
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
