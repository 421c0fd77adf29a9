/* seccomp: bad input is rejected with the JSON path; unknown syscall names
 * are skipped with a warning; a failed load leaves no filter behind. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "test_seccomp_util.h"

static void expect_error(const struct oci_seccomp *s, const char *want)
{
        herr_t err = { 0 };
        cr_assert_eq(seccomp_validate(s, &err), -1, "accepted, want \"%s\"", want);
        cr_assert(strstr(err.msg, want), "message \"%s\" lacks \"%s\"", err.msg, want);
        scmp_filter_ctx ctx = NULL;
        herr_clear(&err);
        cr_assert_eq(seccomp_build(s, &ctx, &err), -1);
        cr_assert_null(ctx);
        cr_assert(strstr(err.msg, want), "build: \"%s\" lacks \"%s\"", err.msg, want);
}

Test(seccomp_validate, unknown_actions)
{
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_ALLOW", "read"), SC("SCMP_ACT_FOO", "getcwd") };
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 2 };
        expect_error(&s, "linux.seccomp.syscalls[1].action: unknown action 'SCMP_ACT_FOO'");
        struct oci_seccomp d = { .default_action = "SCMP_ACT_NOPE" };
        expect_error(&d, "linux.seccomp.defaultAction: unknown action 'SCMP_ACT_NOPE'");
        struct oci_seccomp none = { 0 };
        expect_error(&none, "linux.seccomp.defaultAction: required");
        struct oci_seccomp n = { .default_action = "SCMP_ACT_NOTIFY", .listener_path = "/x" };
        expect_error(&n, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default");
}

Test(seccomp_validate, unknown_arch_flag_op)
{
        struct oci_seccomp a = { .default_action = "SCMP_ACT_ALLOW",
                                 .architectures = STRV("SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"),
                                 .n_architectures = 2 };
        expect_error(&a, "linux.seccomp.architectures[1]: unknown architecture 'SCMP_ARCH_VAX'");
        struct oci_seccomp f = { .default_action = "SCMP_ACT_ALLOW",
                                 .flags = STRV("SECCOMP_FILTER_FLAG_BOGUS"), .n_flags = 1 };
        expect_error(&f, "linux.seccomp.flags[0]: unknown flag 'SECCOMP_FILTER_FLAG_BOGUS'");
        struct oci_seccomp_arg args[] = { { .index = 0, .value = 1, .op = "SCMP_CMP_EQ" },
                                          { .index = 1, .value = 1, .op = "SCMP_CMP_ALMOST" } };
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_ERRNO", "read") };
        sc[0].args = args;
        sc[0].n_args = 2;
        struct oci_seccomp o = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1 };
        expect_error(&o, "linux.seccomp.syscalls[0].args[1].op: unknown operator 'SCMP_CMP_ALMOST'");
        args[1].op = "SCMP_CMP_EQ";
        args[1].index = 6;
        expect_error(&o, "linux.seccomp.syscalls[0].args[1].index: 6 out of range");
}

static int body_getppid_eperm(void *arg)
{
        (void)arg;
        return syscall(SYS_getppid) == -1 && errno == EPERM ? 0 : 1;
}

Test(seccomp_validate, wait_killable_recv_without_notify_loads)
{
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_ERRNO", "getppid") };
        struct oci_seccomp f = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1,
                                 .flags = STRV("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
                                               "SECCOMP_FILTER_FLAG_TSYNC"),
                                 .n_flags = 2 };
        herr_t err = { 0 };
        cr_assert_eq(seccomp_validate(&f, &err), 0, "%s", err.msg);
        cr_assert_eq(exit_code(run_filtered(&f, body_getppid_eperm, NULL)), 0);
}

Test(seccomp_validate, errno_ret_only_for_errno_and_trace)
{
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_KILL", "read") };
        sc[0].errno_ret = (opt_u64)OPT(5);
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1 };
        expect_error(&s, "linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_KILL does not take an errno");
        struct oci_seccomp d = { .default_action = "SCMP_ACT_ALLOW", .default_errno_ret = OPT(1) };
        expect_error(&d, "linux.seccomp.defaultErrnoRet: SCMP_ACT_ALLOW does not take an errno");
        sc[0].action = "SCMP_ACT_TRACE";
        herr_t err = { 0 };
        cr_assert_eq(seccomp_validate(&s, &err), 0, "%s", err.msg);
        sc[0].action = "SCMP_ACT_ERRNO";
        sc[0].errno_ret.v = 70000;
        expect_error(&s, "linux.seccomp.syscalls[0].errnoRet: 70000 out of range");
}

Test(seccomp_validate, names_and_listener)
{
        struct oci_seccomp_syscall sc[] = { { .action = "SCMP_ACT_ERRNO" } };
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1 };
        expect_error(&s, "linux.seccomp.syscalls[0].names: must contain at least one entry");
        struct oci_seccomp_syscall nt[] = { SC("SCMP_ACT_NOTIFY", "getppid") };
        struct oci_seccomp n = { .default_action = "SCMP_ACT_ALLOW", .syscalls = nt, .n_syscalls = 1 };
        expect_error(&n, "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath");
        struct oci_seccomp m = { .default_action = "SCMP_ACT_ALLOW", .listener_metadata = "x" };
        expect_error(&m, "linux.seccomp.listenerMetadata: set without linux.seccomp.listenerPath");
        struct oci_seccomp r = { .default_action = "SCMP_ACT_ALLOW", .listener_path = "rel.sock" };
        expect_error(&r, "linux.seccomp.listenerPath: 'rel.sock' is not an absolute path");
}

Test(seccomp_validate, every_spec_name_is_known)
{
        struct oci_seccomp_syscall sc[] = {
                SC("SCMP_ACT_KILL", "read"), SC("SCMP_ACT_KILL_PROCESS", "read"),
                SC("SCMP_ACT_KILL_THREAD", "read"), SC("SCMP_ACT_TRAP", "read"),
                SC("SCMP_ACT_ERRNO", "read"), SC("SCMP_ACT_TRACE", "read"),
                SC("SCMP_ACT_ALLOW", "read"), SC("SCMP_ACT_LOG", "read"),
                SC("SCMP_ACT_NOTIFY", "read"),
        };
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc,
                                 .n_syscalls = ARRAY_SIZE(sc), .listener_path = "/run/x.sock",
                                 .architectures = STRV("SCMP_ARCH_X86", "SCMP_ARCH_X86_64",
                                         "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
                                         "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
                                         "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
                                         "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
                                         "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X",
                                         "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64"),
                                 .n_architectures = 19 };
        herr_t err = { 0 };
        cr_assert_eq(seccomp_validate(&s, &err), 0, "%s", err.msg);
        /* spec names newer than libseccomp 2.5: a clear "not supported" */
        s.architectures = STRV("SCMP_ARCH_LOONGARCH64");
        s.n_architectures = 1;
        if (seccomp_validate(&s, &err) < 0)
                cr_assert(strstr(err.msg, "architectures[0]: SCMP_ARCH_LOONGARCH64 not supported by libseccomp"),
                          "%s", err.msg);
}

/* ------------------------------------------------------- warnings */

static char last_warning[512];
static int n_warnings;

static void record_warning(const char *msg)
{
        snprintf(last_warning, sizeof last_warning, "%s", msg);
        n_warnings++;
}

static int body_warn(void *arg)
{
        (void)arg;
        char buf[64];
        return getcwd(buf, sizeof buf) == NULL && errno == EPERM && n_warnings == 1 ? 0 : 1;
}

Test(seccomp_validate, unknown_syscall_skipped_with_warning)
{
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_ERRNO", "no_such_syscall", "getcwd") };
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1 };
        herr_t err = { 0 };
        cr_assert_eq(seccomp_validate(&s, &err), 0, "%s", err.msg);
        seccomp_set_warn(record_warning);
        n_warnings = 0;
        cr_assert_eq(exit_code(run_filtered(&s, body_warn, NULL)), 0,
                     "getcwd must still be blocked, with one warning");
        scmp_filter_ctx ctx;
        cr_assert_eq(seccomp_build(&s, &ctx, &err), 0, "%s", err.msg);
        seccomp_release(ctx);
        seccomp_set_warn(NULL);
        cr_assert_eq(n_warnings, 1);
        cr_assert_str_eq(last_warning, "linux.seccomp.syscalls[0].names[0]: unknown syscall "
                                       "'no_such_syscall', skipped");
}

/* ------------------------------------------------ nothing left behind */

static int seccomp_mode(void)
{
        char buf[4096];
        int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0)
                close(fd);
        if (n <= 0)
                return -1;
        buf[n] = '\0';
        const char *p = strstr(buf, "\nSeccomp:");
        return p ? atoi(p + strlen("\nSeccomp:")) : -1;
}

Test(seccomp_validate, failed_load_leaves_no_filter)
{
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_ERRNO", "getppid"), SC("SCMP_ACT_BAD", "read") };
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 2 };
        pid_t pid = fork();
        if (pid == 0) {
                herr_t err;
                int nfd = 123;
                if (seccomp_load_config(&s, &nfd, &err) != -1 || nfd != -1)
                        _exit(1);
                if (!strstr(err.msg, "syscalls[1].action: unknown action 'SCMP_ACT_BAD'"))
                        _exit(2);
                _exit(seccomp_mode() == 0 && syscall(SYS_getppid) > 0 ? 0 : 3);
        }
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_assert_eq(exit_code(st), 0, "status 0x%x", st);
}

/* An action the kernel/libseccomp pair cannot do is an error, not a
 * silently weaker filter (simulated with a lowered API level). */
Test(seccomp_validate, action_beyond_api_level_is_an_error)
{
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_NOTIFY", "getppid") };
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1,
                                 .listener_path = "/run/agent.sock" };
        unsigned saved = seccomp_api_get();
        cr_assert_geq(saved, 5);
        cr_assert_eq(seccomp_api_set(4), 0);
        scmp_filter_ctx ctx = NULL;
        herr_t err = { 0 };
        int r = seccomp_build(&s, &ctx, &err);
        seccomp_api_set(saved);
        cr_assert_eq(r, -1);
        cr_assert(strstr(err.msg, "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY needs libseccomp "
                                  "API level 5, have 4"), "%s", err.msg);
}
