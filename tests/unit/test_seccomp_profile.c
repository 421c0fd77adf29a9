/* seccomp: the default profile of `husk spec`. The generated JSON is turned
 * back into a struct oci_seccomp by a small test-only yajl_tree converter
 * (the real config parser lives in spec/), then checked and loaded. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "test_seccomp_util.h"

/* ------------------------------------------------ JSON -> struct (test) */

static yajl_val field(yajl_val obj, const char *key, yajl_type t)
{
        return yajl_tree_get(obj, (const char *[]){ key, NULL }, t);
}

static char *dupstr(yajl_val v)
{
        return v && YAJL_IS_STRING(v) ? strdup(v->u.string) : NULL;
}

static opt_u64 u64(yajl_val v)
{
        opt_u64 o = { 0 };
        if (v && YAJL_IS_NUMBER(v)) {
                o.set = true;
                o.v = strtoull(v->u.number.r, NULL, 10);
        }
        return o;
}

static char **strv(yajl_val arr, size_t *n)
{
        *n = arr ? arr->u.array.len : 0;
        char **v = calloc(*n + 1, sizeof *v);
        for (size_t i = 0; i < *n; i++)
                v[i] = dupstr(arr->u.array.values[i]);
        return v;
}

static void conv_syscall(yajl_val o, struct oci_seccomp_syscall *sc)
{
        sc->names = strv(field(o, "names", yajl_t_array), &sc->n_names);
        sc->action = dupstr(field(o, "action", yajl_t_string));
        sc->errno_ret = u64(field(o, "errnoRet", yajl_t_number));
        yajl_val args = field(o, "args", yajl_t_array);
        sc->n_args = args ? args->u.array.len : 0;
        sc->args = calloc(sc->n_args + 1, sizeof *sc->args);
        for (size_t i = 0; i < sc->n_args; i++) {
                yajl_val a = args->u.array.values[i];
                sc->args[i].index = (uint32_t)u64(field(a, "index", yajl_t_number)).v;
                sc->args[i].value = u64(field(a, "value", yajl_t_number)).v;
                sc->args[i].value_two = u64(field(a, "valueTwo", yajl_t_number));
                sc->args[i].op = dupstr(field(a, "op", yajl_t_string));
        }
}

static struct oci_seccomp *conv(yajl_val v)
{
        struct oci_seccomp *s = calloc(1, sizeof *s);
        s->default_action = dupstr(field(v, "defaultAction", yajl_t_string));
        s->default_errno_ret = u64(field(v, "defaultErrnoRet", yajl_t_number));
        s->architectures = strv(field(v, "architectures", yajl_t_array), &s->n_architectures);
        s->flags = strv(field(v, "flags", yajl_t_array), &s->n_flags);
        s->listener_path = dupstr(field(v, "listenerPath", yajl_t_string));
        s->listener_metadata = dupstr(field(v, "listenerMetadata", yajl_t_string));
        yajl_val sc = field(v, "syscalls", yajl_t_array);
        s->n_syscalls = sc ? sc->u.array.len : 0;
        s->syscalls = calloc(s->n_syscalls + 1, sizeof *s->syscalls);
        for (size_t i = 0; i < s->n_syscalls; i++)
                conv_syscall(sc->u.array.values[i], &s->syscalls[i]);
        return s;
}

static void free_strv(char **v)
{
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}

static void free_seccomp(struct oci_seccomp *s)
{
        for (size_t i = 0; i < s->n_syscalls; i++) {
                struct oci_seccomp_syscall *sc = &s->syscalls[i];
                free_strv(sc->names);
                free(sc->action);
                for (size_t j = 0; j < sc->n_args; j++)
                        free(sc->args[j].op);
                free(sc->args);
        }
        free(s->syscalls);
        free_strv(s->architectures);
        free_strv(s->flags);
        free(s->default_action);
        free(s->listener_path);
        free(s->listener_metadata);
        free(s);
}

/* The default profile as `husk spec` writes it, parsed back. */
static yajl_val generated_tree(void)
{
        yajl_gen g = yajl_gen_alloc(NULL);
        cr_assert_eq(seccomp_default_profile_gen(g), 0);
        const unsigned char *buf;
        size_t len;
        yajl_gen_get_buf(g, &buf, &len);
        char *text = strndup((const char *)buf, len);
        yajl_gen_free(g);
        char ebuf[128];
        yajl_val v = yajl_tree_parse(text, ebuf, sizeof ebuf);
        cr_assert_not_null(v, "generated profile is not JSON: %s", ebuf);
        free(text);
        return v;
}

/* ------------------------------------------------------------ shape */

static const char *const forbidden[] = {
        "keyctl", "add_key", "request_key", "bpf", "userfaultfd", "perf_event_open", "kexec_load",
        "kexec_file_load", "init_module", "finit_module", "delete_module", "mount", "umount2",
        "unshare", "setns", "pivot_root", "swapon", "swapoff", "reboot", "acct", "fsopen",
        "fsmount", "move_mount", "open_tree", "io_uring_setup", "clone3", "open_by_handle_at",
        "settimeofday", "clock_settime", "syslog", "iopl", "ioperm", "quotactl",
};

Test(seccomp_profile, generated_json_is_an_allowlist_without_dangerous_calls)
{
        yajl_val v = generated_tree();
        struct oci_seccomp *s = conv(v);
        cr_assert_str_eq(s->default_action, "SCMP_ACT_ERRNO");
        cr_assert(s->default_errno_ret.set && s->default_errno_ret.v == EPERM);
        cr_assert_eq(s->n_architectures, 3);
        cr_assert_str_eq(s->architectures[0], "SCMP_ARCH_X86_64");
        cr_assert_str_eq(s->architectures[1], "SCMP_ARCH_X86");
        cr_assert_str_eq(s->architectures[2], "SCMP_ARCH_X32");
        const struct oci_seccomp_syscall *allow = &s->syscalls[0];
        cr_assert_str_eq(allow->action, "SCMP_ACT_ALLOW");
        cr_assert_gt(allow->n_names, 200);
        for (size_t i = 1; i < allow->n_names; i++)
                cr_assert_lt(strcmp(allow->names[i - 1], allow->names[i]), 0, "not sorted at %s",
                             allow->names[i]);
        for (size_t i = 0; i < s->n_syscalls; i++) {
                if (strcmp(s->syscalls[i].action, "SCMP_ACT_ALLOW") != 0)
                        continue;
                for (size_t j = 0; j < s->syscalls[i].n_names; j++)
                        for (size_t k = 0; k < ARRAY_SIZE(forbidden); k++)
                                cr_assert_str_neq(s->syscalls[i].names[j], forbidden[k]);
        }
        free_seccomp(s);
        yajl_tree_free(v);
}

static int n_warn;
static void count_warn(const char *msg)
{
        (void)msg;
        n_warn++;
}

Test(seccomp_profile, every_name_is_known_to_libseccomp)
{
        yajl_val v = generated_tree();
        struct oci_seccomp *s = conv(v);
        herr_t err = { 0 };
        scmp_filter_ctx ctx;
        n_warn = 0;
        seccomp_set_warn(count_warn);
        cr_assert_eq(seccomp_build(s, &ctx, &err), 0, "%s", err.msg);
        seccomp_set_warn(NULL);
        seccomp_release(ctx);
        cr_assert_eq(n_warn, 0, "the default profile names syscalls libseccomp does not know");
        free_seccomp(s);
        yajl_tree_free(v);
}

/* ------------------------------------------------------------- loaded */

/* Harmless arguments: were the filter missing, each call would fail with
 * EFAULT/EINVAL/ENOENT/EBADF (or do nothing), never with EPERM. */
static const struct {
        const char *name;
        long nr, a0, a1, a2, a3;
} blocked[] = {
        { "keyctl", SYS_keyctl, -1, 0, 0, 0 },
        { "add_key", SYS_add_key, 0, 0, 0, 0 },
        { "request_key", SYS_request_key, 0, 0, 0, 0 },
        { "bpf", SYS_bpf, -1, 0, 0, 0 },
        { "userfaultfd", SYS_userfaultfd, -1, 0, 0, 0 },
        { "perf_event_open", SYS_perf_event_open, 0, 0, -1, -1 },
        { "kexec_load", SYS_kexec_load, 0, 0, 0, 0xdead },
        { "init_module", SYS_init_module, 0, 0, 0, 0 },
        { "delete_module", SYS_delete_module, (long)"husk_no_such_module", O_NONBLOCK, 0, 0 },
        { "mount", SYS_mount, 0, 0, 0, 0 },
        { "umount2", SYS_umount2, (long)"/husk-nonexistent", 0, 0, 0 },
        { "unshare", SYS_unshare, 0, 0, 0, 0 },
        { "setns", SYS_setns, -1, 0, 0, 0 },
        { "pivot_root", SYS_pivot_root, 0, 0, 0, 0 },
        { "swapon", SYS_swapon, 0, 0, 0, 0 },
        { "reboot", SYS_reboot, 0, 0, 0, 0 },
        { "acct", SYS_acct, (long)"/husk-nonexistent/acct", 0, 0, 0 },
        { "clone(CLONE_NEWUSER)", SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0 },
        { "clone(CLONE_NEWNS)", SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0 },
        { "personality(ADDR_NO_RANDOMIZE)", SYS_personality, 0x0040000, 0, 0, 0 },
};

static void *thread_fn(void *arg)
{
        return arg;
}

/* Ordinary work a program does: files, pipes, fork, threads. */
static int ordinary_calls(void)
{
        char buf[64];
        int p[2];
        int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || read(fd, buf, sizeof buf) <= 0 || close(fd) < 0)
                return 1;
        if (pipe2(p, O_CLOEXEC) < 0 || write(p[1], "x", 1) != 1 || read(p[0], buf, 1) != 1)
                return 2;
        pid_t pid = fork();
        if (pid == 0)
                _exit(7);
        int st;
        if (pid < 0 || waitpid(pid, &st, 0) != pid || exit_code(st) != 7)
                return 3;
        pthread_t t;
        void *ret = NULL;
        if (pthread_create(&t, NULL, thread_fn, buf) != 0 || pthread_join(t, &ret) != 0 || ret != buf)
                return 4;
        if (syscall(SYS_personality, 0xffffffffUL) < 0)
                return 5;
        return getcwd(buf, sizeof buf) ? 0 : 6;
}

static int body_default_profile(void *arg)
{
        (void)arg;
        for (size_t i = 0; i < ARRAY_SIZE(blocked); i++) {
                long r = syscall(blocked[i].nr, blocked[i].a0, blocked[i].a1, blocked[i].a2,
                                 blocked[i].a3, 0L, 0L);
                if (r == 0 && blocked[i].nr == SYS_clone)
                        _exit(99);     /* the clone child: the filter let it through */
                if (r != -1 || errno != EPERM)
                        return 10 + (int)i;
        }
        if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
                return 9;
        return ordinary_calls();
}

Test(seccomp_profile, default_profile_blocks_with_eperm_and_runs_programs)
{
        yajl_val v = generated_tree();
        struct oci_seccomp *s = conv(v);
        int code = exit_code(run_filtered(s, body_default_profile, NULL));
        free_seccomp(s);
        yajl_tree_free(v);
        bool in_table = code >= 10 && code < 10 + (int)ARRAY_SIZE(blocked);
        cr_assert_eq(code, 0, "child exit %d (%s)", code,
                     in_table ? blocked[code - 10].name : "9: clone3, 1-6: ordinary calls");
}

/* seccomp_gen writes every field, uint64 values above INT64_MAX included. */
Test(seccomp_profile, gen_round_trips_a_full_section)
{
        struct oci_seccomp_arg args[] = {
                { .index = 5, .value = UINT64_MAX, .value_two = OPT(0x8000000000000000ULL),
                  .op = "SCMP_CMP_MASKED_EQ" },
        };
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_NOTIFY", "getppid", "read") };
        sc[0].args = args;
        sc[0].n_args = 1;
        struct oci_seccomp in = { .default_action = "SCMP_ACT_TRACE", .default_errno_ret = OPT(3),
                                  .architectures = STRV("SCMP_ARCH_X86"), .n_architectures = 1,
                                  .flags = STRV("SECCOMP_FILTER_FLAG_LOG"), .n_flags = 1,
                                  .listener_path = "/run/agent.sock", .listener_metadata = "m",
                                  .syscalls = sc, .n_syscalls = 1 };
        yajl_gen g = yajl_gen_alloc(NULL);
        cr_assert_eq(seccomp_gen(g, &in), 0);
        const unsigned char *buf;
        size_t len;
        yajl_gen_get_buf(g, &buf, &len);
        char *text = strndup((const char *)buf, len);
        yajl_gen_free(g);
        yajl_val v = yajl_tree_parse(text, NULL, 0);
        cr_assert_not_null(v, "%s", text);
        free(text);
        struct oci_seccomp *s = conv(v);
        cr_assert_str_eq(s->default_action, "SCMP_ACT_TRACE");
        cr_assert(s->default_errno_ret.set && s->default_errno_ret.v == 3);
        cr_assert_str_eq(s->architectures[0], "SCMP_ARCH_X86");
        cr_assert_str_eq(s->flags[0], "SECCOMP_FILTER_FLAG_LOG");
        cr_assert_str_eq(s->listener_path, "/run/agent.sock");
        cr_assert_str_eq(s->listener_metadata, "m");
        cr_assert_eq(s->n_syscalls, 1);
        cr_assert_eq(s->syscalls[0].n_names, 2);
        cr_assert_str_eq(s->syscalls[0].names[1], "read");
        cr_assert_str_eq(s->syscalls[0].action, "SCMP_ACT_NOTIFY");
        cr_assert_not(s->syscalls[0].errno_ret.set);
        const struct oci_seccomp_arg *a = &s->syscalls[0].args[0];
        cr_assert_eq(a->index, 5);
        cr_assert_eq(a->value, UINT64_MAX);
        cr_assert(a->value_two.set && a->value_two.v == 0x8000000000000000ULL);
        cr_assert_str_eq(a->op, "SCMP_CMP_MASKED_EQ");
        free_seccomp(s);
        yajl_tree_free(v);
}
