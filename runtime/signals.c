#include "signals.h"

#include <ctype.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
        const char *name;
        int sig;
} sigs[] = {
        { "HUP", SIGHUP },       { "INT", SIGINT },       { "QUIT", SIGQUIT },   { "ILL", SIGILL },
        { "TRAP", SIGTRAP },     { "ABRT", SIGABRT },     { "IOT", SIGIOT },     { "BUS", SIGBUS },
        { "FPE", SIGFPE },       { "KILL", SIGKILL },     { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },
        { "USR2", SIGUSR2 },     { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },   { "TERM", SIGTERM },
        { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },     { "CONT", SIGCONT },   { "STOP", SIGSTOP },
        { "TSTP", SIGTSTP },     { "TTIN", SIGTTIN },     { "TTOU", SIGTTOU },   { "URG", SIGURG },
        { "XCPU", SIGXCPU },     { "XFSZ", SIGXFSZ },     { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
        { "WINCH", SIGWINCH },   { "IO", SIGIO },         { "POLL", SIGPOLL },   { "PWR", SIGPWR },
        { "SYS", SIGSYS },
};

static int parse_num(const char *s)
{
        if (!*s)
                return -1;
        for (const char *p = s; *p; p++)
                if (!isdigit((unsigned char)*p))
                        return -1;
        long v = strtol(s, NULL, 10);
        return v >= 1 && v <= SIGRTMAX ? (int)v : -1;
}

int signal_parse(const char *s)
{
        if (!s)
                return -1;
        if (isdigit((unsigned char)s[0]))
                return parse_num(s);
        if (!strncasecmp(s, "SIG", 3))
                s += 3;
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
                if (!strcasecmp(s, sigs[i].name))
                        return sigs[i].sig;
        if (!strncasecmp(s, "RTMIN", 5)) {
                int off = s[5] == '+' ? parse_num(s + 6) : s[5] ? -1 : 0;
                return off >= 0 && SIGRTMIN + off <= SIGRTMAX ? SIGRTMIN + off : -1;
        }
        if (!strncasecmp(s, "RTMAX", 5)) {
                int off = s[5] == '-' ? parse_num(s + 6) : s[5] ? -1 : 0;
                return off >= 0 && SIGRTMAX - off >= SIGRTMIN ? SIGRTMAX - off : -1;
        }
        return -1;
}
