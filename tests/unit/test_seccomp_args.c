/* seccomp: argument conditions (every op, 64-bit values, AND/OR), flags,
 * exec inheritance, no_new_privs vs CAP_SYS_ADMIN. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "test_seccomp_util.h"

/* The child calls getppid(v, w) (getppid ignores its arguments, the filter
 * sees them) for each probe and sets bit i when probe i got EXDEV. */
struct probe {
        uint64_t a0, a1;
};

struct probes {
        const struct probe *p;
        size_t n;
};

static int body_probe(void *arg)
{
        const struct probes *ps = arg;
        int mask = 0;
        for (size_t i = 0; i < ps->n; i++) {
                long r = syscall(SYS_getppid, ps->p[i].a0, ps->p[i].a1);
                if (r == -1 && errno == EXDEV)
                        mask |= 1 << i;
                else if (r == -1)
                        return 100;
        }
        return mask;
}

static int blocked_mask(struct oci_seccomp_arg *args, size_t n_args, const struct probe *p,
                        size_t n)
{
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_ERRNO", "getppid") };
        sc[0].errno_ret = (opt_u64)OPT(EXDEV);
        sc[0].args = args;
        sc[0].n_args = n_args;
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1 };
        struct probes ps = { p, n };
        return exit_code(run_filtered(&s, body_probe, &ps));
}

#define PROBES(...) ((const struct probe[]){ __VA_ARGS__ }), \
        (sizeof((const struct probe[]){ __VA_ARGS__ }) / sizeof(struct probe))

static const struct {
        const char *op;
        int expect;            /* probes 4, 5, 6, 0x100000005 against value 5 */
} op_cases[] = {
        { "SCMP_CMP_EQ", 0x2 },
        { "SCMP_CMP_NE", 0xd },
        { "SCMP_CMP_LT", 0x1 },
        { "SCMP_CMP_LE", 0x3 },
        { "SCMP_CMP_GT", 0xc },
        { "SCMP_CMP_GE", 0xe },
};

Test(seccomp, every_comparison_op_matches_exactly)
{
        for (size_t i = 0; i < ARRAY_SIZE(op_cases); i++) {
                struct oci_seccomp_arg a = { .index = 0, .value = 5, .op = (char *)op_cases[i].op };
                int got = blocked_mask(&a, 1, PROBES({ 4, 0 }, { 5, 0 }, { 6, 0 }, { 0x100000005ULL, 0 }));
                cr_assert_eq(got, op_cases[i].expect, "%s: blocked mask 0x%x, want 0x%x",
                             op_cases[i].op, got, op_cases[i].expect);
        }
}

Test(seccomp, masked_eq_uses_value_as_mask_and_value_two_as_datum)
{
        struct oci_seccomp_arg a = { .index = 1, .value = 0xf0, .value_two = OPT(0x50),
                                     .op = "SCMP_CMP_MASKED_EQ" };
        /* 0x50, 0x5f and 0x150 match under mask 0xf0; 0x40, 0x05 and 0x70 do
         * not (0x70 would match were mask and datum swapped) */
        int got = blocked_mask(&a, 1, PROBES({ 0, 0x50 }, { 0, 0x5f }, { 0, 0x150 }, { 0, 0x40 },
                                             { 0, 0x05 }, { 0x50, 0 }, { 0, 0x70 }));
        cr_assert_eq(got, 0x7, "blocked mask 0x%x", got);
}

Test(seccomp, sixty_four_bit_values)
{
        struct oci_seccomp_arg a = { .index = 0, .value = 0x100000000ULL, .op = "SCMP_CMP_EQ" };
        int got = blocked_mask(&a, 1, PROBES({ 0x100000000ULL, 0 }, { 0, 0 }, { 0x200000000ULL, 0 },
                                             { 0xffffffffULL, 0 }));
        cr_assert_eq(got, 0x1, "EQ 2^32: blocked mask 0x%x", got);
        struct oci_seccomp_arg b = { .index = 0, .value = 0xfffffffffffffff0ULL, .op = "SCMP_CMP_GT" };
        got = blocked_mask(&b, 1, PROBES({ UINT64_MAX, 0 }, { 0xfffffffffffffff0ULL, 0 }, { 1, 0 }));
        cr_assert_eq(got, 0x1, "GT near 2^64: blocked mask 0x%x", got);
}

Test(seccomp, conditions_on_distinct_args_and)
{
        struct oci_seccomp_arg a[] = { { .index = 0, .value = 1, .op = "SCMP_CMP_EQ" },
                                       { .index = 1, .value = 2, .op = "SCMP_CMP_EQ" } };
        int got = blocked_mask(a, 2, PROBES({ 1, 2 }, { 1, 3 }, { 0, 2 }));
        cr_assert_eq(got, 0x1, "blocked mask 0x%x", got);
}

Test(seccomp, conditions_on_one_arg_or)
{
        struct oci_seccomp_arg a[] = { { .index = 0, .value = 1, .op = "SCMP_CMP_EQ" },
                                       { .index = 0, .value = 3, .op = "SCMP_CMP_EQ" } };
        int got = blocked_mask(a, 2, PROBES({ 1, 0 }, { 2, 0 }, { 3, 0 }));
        cr_assert_eq(got, 0x5, "blocked mask 0x%x", got);
}

/* ---------------------------------------------------------------- flags */

static int body_filter_count(void *arg)
{
        (void)arg;
        char buf[4096];
        int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0)
                close(fd);
        if (n <= 0)
                return 100;
        buf[n] = '\0';
        const char *p = strstr(buf, "Seccomp_filters:");
        if (!p)
                return 101;
        int count = atoi(p + strlen("Seccomp_filters:"));
        if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0)
                return 103;    /* husk, not libseccomp, decides no_new_privs */
        return syscall(SYS_getppid) == -1 && errno == EPERM ? count : 102;
}

Test(seccomp, flags_load)
{
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_ERRNO", "getppid") };
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1,
                                 .flags = STRV("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                               "SECCOMP_FILTER_FLAG_SPEC_ALLOW"),
                                 .n_flags = 3,
                                 .architectures = STRV("SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_X86_64"),
                                 .n_architectures = 3 };
        cr_assert_eq(exit_code(run_filtered(&s, body_filter_count, NULL)), 1);
}

/* ----------------------------------------------------------------- exec */

/* busybox sh sets $PPID from getppid() at start-up: the test's pid unless
 * the filter inherited across execve makes getppid fail. */
static int body_exec_sh(void *arg)
{
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execl("/bin/busybox", "sh", "-c", "[ \"$PPID\" = \"$1\" ]", "sh", (char *)arg, (char *)NULL);
        return 99;
}

Test(seccomp, execd_process_keeps_the_filter)
{
        cr_assert_eq(access("/bin/busybox", X_OK), 0, "needs busybox-static");
        char me[32];
        snprintf(me, sizeof me, "%d", (int)getpid());      /* the child's parent */
        struct oci_seccomp allow = { .default_action = "SCMP_ACT_ALLOW" };
        cr_assert_eq(exit_code(run_filtered(&allow, body_exec_sh, me)), 0,
                     "$PPID is our pid without the rule");
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_ERRNO", "getppid") };
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1 };
        int st = run_filtered(&s, body_exec_sh, me);
        cr_assert_eq(exit_code(st), 1, "getppid after exec: status 0x%x", st);
}

/* ------------------------------------------------ no_new_privs, caps */

static int drop_sys_admin(void)
{
        cap_t caps = cap_get_proc();
        cap_value_t v = CAP_SYS_ADMIN;
        int r = caps ? cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_CLEAR) : -1;
        if (r == 0)
                r = cap_set_proc(caps);
        cap_free(caps);
        return r;
}

Test(seccomp, loading_needs_nnp_or_cap_sys_admin)
{
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_ERRNO", "getppid") };
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1 };
        pid_t pid = fork();
        if (pid == 0) {
                herr_t err;
                int nfd;
                if (drop_sys_admin() < 0)
                        _exit(10);
                if (seccomp_load_config(&s, &nfd, &err) == 0)
                        _exit(11);     /* must fail without NNP and CAP_SYS_ADMIN */
                if (!strstr(err.msg, "no_new_privs") || err.errnum != EACCES)
                        _exit(12);
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        _exit(13);
                if (seccomp_load_config(&s, &nfd, &err) < 0)
                        _exit(14);
                _exit(syscall(SYS_getppid) == -1 && errno == EPERM ? 0 : 15);
        }
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_assert_eq(exit_code(st), 0, "status 0x%x", st);
}
