/* seccomp: actions, errno values, argument conditions, flags, exec. Each case
 * forks a child that loads the filter and reports through its exit status. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>

#include "../../common/cleanup.h"
#include "test_seccomp_util.h"

/* --------------------------------------------------------------- errno */

static int body_getcwd_enotsup(void *arg)
{
        (void)arg;
        char buf[256];
        if (getcwd(buf, sizeof buf) != NULL)
                return 1;
        if (errno != ENOTSUP)
                return 2;
        return getpid() > 0 ? 0 : 3;   /* other syscalls still work */
}

Test(seccomp, blocked_syscall_returns_configured_errno)
{
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_ERRNO", "getcwd") };
        sc[0].errno_ret = (opt_u64)OPT(ENOTSUP);
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1 };
        cr_assert_eq(exit_code(run_filtered(&s, body_getcwd_enotsup, NULL)), 0);
}

static int body_getppid_errno(void *arg)
{
        long r = syscall(SYS_getppid);
        if (r != -1)
                return 1;
        return errno == (int)(intptr_t)arg ? 0 : 2;
}

Test(seccomp, errno_defaults_to_eperm)
{
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_ERRNO", "getppid") };
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1 };
        cr_assert_eq(exit_code(run_filtered(&s, body_getppid_errno, (void *)(intptr_t)EPERM)), 0);
}

Test(seccomp, default_errno_ret)
{
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_ALLOW", MINIMAL_ALLOW) };
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ERRNO",
                                 .default_errno_ret = OPT(EXDEV), .syscalls = sc, .n_syscalls = 1 };
        cr_assert_eq(exit_code(run_filtered(&s, body_getppid_errno, (void *)(intptr_t)EXDEV)), 0);
        s.default_errno_ret.set = false;
        cr_assert_eq(exit_code(run_filtered(&s, body_getppid_errno, (void *)(intptr_t)EPERM)), 0);
}

/* ----------------------------------------------------------- kill, trap */

static int body_getppid(void *arg)
{
        (void)arg;
        syscall(SYS_getppid);
        return 0;
}

Test(seccomp, kill_actions_kill_with_sigsys)
{
        const char *acts[] = { "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD" };
        for (size_t i = 0; i < ARRAY_SIZE(acts); i++) {
                struct oci_seccomp_syscall sc[] = { SC((char *)acts[i], "getppid") };
                struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc,
                                         .n_syscalls = 1 };
                int st = run_filtered(&s, body_getppid, NULL);
                cr_assert(WIFSIGNALED(st), "%s: child not killed (status 0x%x)", acts[i], st);
                cr_assert_eq(WTERMSIG(st), SIGSYS, "%s", acts[i]);
        }
}

static volatile sig_atomic_t trapped_nr = -1;

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
        (void)sig;
        (void)ctx;
        trapped_nr = si->si_syscall;
}

static int body_trap(void *arg)
{
        (void)arg;
        syscall(SYS_getppid);
        return trapped_nr == SYS_getppid ? 0 : 1;
}

Test(seccomp, trap_delivers_sigsys)
{
        struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
        /* installed in the parent: inherited by the forked child */
        cr_assert_eq(sigaction(SIGSYS, &sa, NULL), 0);
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_TRAP", "getppid") };
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1 };
        int st = run_filtered(&s, body_trap, NULL);
        cr_assert_eq(exit_code(st), 0, "status 0x%x", st);
}

/* SCMP_ACT_TRACE with nobody tracing: the kernel fails the call with ENOSYS
 * (the errnoRet is the message for a tracer, not the errno). */
Test(seccomp, trace_without_tracer_fails_with_enosys)
{
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_TRACE", "getppid") };
        sc[0].errno_ret = (opt_u64)OPT(7);
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1 };
        cr_assert_eq(exit_code(run_filtered(&s, body_getppid_errno, (void *)(intptr_t)ENOSYS)), 0);
}

/* ------------------------------------------------------------------ log */

static int body_log(void *arg)
{
        (void)arg;
        return syscall(SYS_getppid) == getppid() ? 0 : 1;
}

/* Look for the kernel's audit record of a logged getppid by pid. */
static bool kmsg_has_seccomp_log(int kmsg, pid_t pid)
{
        char line[2048], want[64], nr[32];
        snprintf(want, sizeof want, " pid=%d ", (int)pid);
        snprintf(nr, sizeof nr, " syscall=%d ", SYS_getppid);
        for (;;) {
                ssize_t n = read(kmsg, line, sizeof line - 1);
                if (n < 0 && errno == EPIPE)
                        continue;
                if (n <= 0)
                        return false;
                line[n] = '\0';
                if (strstr(line, "type=1326") && strstr(line, want) && strstr(line, nr))
                        return true;
        }
}

/* Run one child under s and wait up to 1 s for its audit record. */
static bool logged_once(const struct oci_seccomp *s, int kmsg)
{
        lseek(kmsg, 0, SEEK_END);
        pid_t pid = fork();
        if (pid == 0) {
                herr_t err;
                int nfd;
                if (seccomp_load_config(s, &nfd, &err) < 0)
                        _exit(CHILD_LOAD_FAILED);
                _exit(body_log(NULL));
        }
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_assert_eq(exit_code(st), 0, "SCMP_ACT_LOG must allow the call");
        for (int i = 0; i < 10; i++) {
                usleep(100 * 1000);    /* kauditd prints asynchronously */
                if (kmsg_has_seccomp_log(kmsg, pid))
                        return true;
        }
        return false;
}

Test(seccomp, log_allows_and_logs, .timeout = 30)
{
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_LOG", "getppid") };
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1 };
        _cleanup_close_ int kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (kmsg < 0) {
                cr_assert_eq(exit_code(run_filtered(&s, body_log, NULL)), 0);
                cr_skip_test("/dev/kmsg not readable: the log record was not checked");
        }
        /* printk rate-limits kauditd (shared with every test on the host):
         * retry after the limit's window before calling it a failure. */
        for (int attempt = 0; attempt < 4; attempt++) {
                if (logged_once(&s, kmsg))
                        return;
                sleep(2);
        }
        cr_assert_fail("no audit record type=1326 for a SCMP_ACT_LOG getppid");
}
