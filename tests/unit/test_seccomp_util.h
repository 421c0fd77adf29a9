/* Helpers shared by the seccomp unit tests: build sections by hand and run
 * a minimal child that loads the filter and reports through its exit code. */
#ifndef HUSK_TEST_SECCOMP_UTIL_H
#define HUSK_TEST_SECCOMP_UTIL_H

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/cleanup.h"
#include "../../seccomp/seccomp.h"

#define STRV(...) ((char *[]){ __VA_ARGS__ })
#define NSTRV(...) (sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *))
/* One syscalls[] entry: SC("SCMP_ACT_ERRNO", "getcwd", "chmod") */
#define SC(act, ...) { .names = STRV(__VA_ARGS__), .n_names = NSTRV(__VA_ARGS__), .action = (act) }
#define OPT(v) { true, (v) }

/* Exit codes of the child besides the body's own. */
#define CHILD_LOAD_FAILED 120

/* Syscalls a default-deny test child needs to finish (and ASan to work). */
#define MINIMAL_ALLOW "exit", "exit_group", "write", "brk", "mmap", "munmap", "madvise", \
        "futex", "rt_sigprocmask", "rt_sigaction", "rt_sigreturn", "getpid", "gettid", \
        "sched_yield", "close", "mprotect", "sigaltstack", "prctl", "readlink", "open", \
        "openat", "read", "fstat", "newfstatat"

/* Fork; the child loads s (no core dumps), runs body(arg) and _exits with
 * its result. Returns the child's wait status. */
static inline int run_filtered(const struct oci_seccomp *s, int (*body)(void *), void *arg)
{
        pid_t pid = fork();
        if (pid == 0) {
                struct rlimit no_core = { 0, 0 };
                herr_t err;
                int nfd;
                setrlimit(RLIMIT_CORE, &no_core);
                if (seccomp_load_config(s, &nfd, &err) < 0)
                        _exit(CHILD_LOAD_FAILED);
                _exit(body(arg));
        }
        int status = -1;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return status;
}

static inline int exit_code(int status)
{
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#endif
