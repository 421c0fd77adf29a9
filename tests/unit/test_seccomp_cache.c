/* seccomp_prepare with the compiled-filter cache: same program with and
 * without it, broken entries rebuilt, one entry per profile, and the
 * entries matched by their whole key. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "../../common/fileutil.h"
#include "test_seccomp_util.h"

static char dir[] = "/tmp/husk-seccomp-cache-XXXXXX";
static char cache[sizeof dir + 16];

static void setup(void)
{
        cr_assert_not_null(mkdtemp(dir));
        snprintf(cache, sizeof cache, "%s/cache", dir);
}

static void teardown(void)
{
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        cr_assert_eq(system(cmd), 0);
}

static void prepare(const struct oci_seccomp *s, const char *cache_dir, struct seccomp_prog *p)
{
        herr_t err = { 0 };
        cr_assert_eq(seccomp_prepare(s, cache_dir, p, &err), 0, "%s", err.msg);
        cr_assert_gt(p->len, 0);
}

static void assert_same(const struct seccomp_prog *a, const struct seccomp_prog *b)
{
        cr_assert_eq(a->len, b->len);
        cr_assert_eq(a->flags, b->flags);
        cr_assert_eq(a->notify, b->notify);
        cr_assert_eq(memcmp(a->insns, b->insns, a->len * sizeof(struct sock_filter)), 0);
}

/* The one entry of the cache directory: its path into out. */
static size_t entries(char *out, size_t size)
{
        DIR *d = opendir(cache);
        cr_assert_not_null(d);
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && ++n == 1 && out)
                        snprintf(out, size, "%s/%s", cache, de->d_name);
        closedir(d);
        return n;
}

static void read_entry(const char *path, char **buf, size_t *len)
{
        herr_t err = { 0 };
        cr_assert_eq(read_file(path, 1 << 20, buf, len, &err), 0, "%s", err.msg);
}

Test(seccomp_cache, cached_and_fresh_filters_are_identical, .init = setup, .fini = teardown)
{
        const struct oci_seccomp *s = seccomp_default_profile();
        struct seccomp_prog fresh, miss, hit;
        prepare(s, NULL, &fresh);
        prepare(s, cache, &miss);
        cr_assert_eq(entries(NULL, 0), 1);
        prepare(s, cache, &hit);
        assert_same(&fresh, &miss);
        assert_same(&fresh, &hit);
        struct stat st;
        cr_assert_eq(stat(cache, &st), 0);
        cr_assert_eq(st.st_mode & 07777, 0700);
        char path[512];
        entries(path, sizeof path);
        cr_assert_eq(stat(path, &st), 0);
        cr_assert_eq(st.st_mode & 07777, 0600);
        seccomp_prog_free(&fresh);
        seccomp_prog_free(&miss);
        seccomp_prog_free(&hit);
}

/* Break the entry with f, then check prepare still returns the fresh
 * program and puts back the original entry. */
static void check_rebuilt(void (*f)(const char *path, size_t len))
{
        const struct oci_seccomp *s = seccomp_default_profile();
        struct seccomp_prog fresh, p;
        prepare(s, NULL, &fresh);
        prepare(s, cache, &p);
        seccomp_prog_free(&p);
        char path[512], *good, *again;
        size_t len, len2;
        entries(path, sizeof path);
        read_entry(path, &good, &len);
        f(path, len);
        prepare(s, cache, &p);
        assert_same(&fresh, &p);
        read_entry(path, &again, &len2);
        cr_assert_eq(len2, len);
        cr_assert_eq(memcmp(good, again, len), 0, "entry not rewritten");
        free(good);
        free(again);
        seccomp_prog_free(&fresh);
        seccomp_prog_free(&p);
}

static void truncate_entry(const char *path, size_t len)
{
        cr_assert_eq(truncate(path, (off_t)len - 8), 0);
}

static void empty_entry(const char *path, size_t len)
{
        (void)len;
        cr_assert_eq(truncate(path, 0), 0);
}

static void flip(const char *path, off_t off)
{
        int fd = open(path, O_RDWR);
        unsigned char b;
        cr_assert_eq(pread(fd, &b, 1, off), 1);
        b ^= 0x20;
        cr_assert_eq(pwrite(fd, &b, 1, off), 1);
        close(fd);
}

static void flip_magic(const char *path, size_t len)
{
        (void)len;
        flip(path, 0);
}

static void flip_key(const char *path, size_t len)
{
        (void)len;
        flip(path, 12);
}

static void flip_insn(const char *path, size_t len)
{
        flip(path, (off_t)len - 5);
}

static void grow_entry(const char *path, size_t len)
{
        cr_assert_eq(truncate(path, (off_t)len + 8), 0);
}

static void group_writable(const char *path, size_t len)
{
        (void)len;
        flip_insn(path, len);
        cr_assert_eq(chmod(path, 0620), 0);
}

Test(seccomp_cache, truncated_entry_is_rebuilt, .init = setup, .fini = teardown)
{
        check_rebuilt(truncate_entry);
}

Test(seccomp_cache, empty_entry_is_rebuilt, .init = setup, .fini = teardown)
{
        check_rebuilt(empty_entry);
}

Test(seccomp_cache, corrupted_entry_is_rebuilt, .init = setup, .fini = teardown)
{
        check_rebuilt(flip_magic);
        check_rebuilt(flip_key);
        check_rebuilt(flip_insn);
        check_rebuilt(grow_entry);
}

Test(seccomp_cache, entry_others_can_write_is_not_used, .init = setup, .fini = teardown)
{
        check_rebuilt(group_writable);
}

Test(seccomp_cache, shared_cache_dir_is_not_used, .init = setup, .fini = teardown)
{
        const struct oci_seccomp *s = seccomp_default_profile();
        struct seccomp_prog fresh, p;
        cr_assert_eq(mkdir(cache, 0777), 0);
        cr_assert_eq(chmod(cache, 0777), 0);
        prepare(s, NULL, &fresh);
        prepare(s, cache, &p);
        assert_same(&fresh, &p);
        cr_assert_eq(entries(NULL, 0), 0);
        seccomp_prog_free(&fresh);
        seccomp_prog_free(&p);
}

Test(seccomp_cache, different_profiles_get_different_entries, .init = setup, .fini = teardown)
{
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_ERRNO", "getcwd") };
        struct oci_seccomp a = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1 };
        struct oci_seccomp b = a;
        b.flags = STRV("SECCOMP_FILTER_FLAG_LOG");
        b.n_flags = 1;
        struct seccomp_prog pa, pb, fa, fb;
        prepare(&a, NULL, &fa);
        prepare(&b, NULL, &fb);
        prepare(&a, cache, &pa);
        prepare(&b, cache, &pb);
        cr_assert_eq(entries(NULL, 0), 2);
        assert_same(&fa, &pa);
        assert_same(&fb, &pb);
        sc[0].errno_ret = (opt_u64)OPT(EXDEV);
        seccomp_prog_free(&pa);
        prepare(&a, cache, &pa);
        cr_assert_eq(entries(NULL, 0), 3);
        cr_assert_neq(memcmp(pa.insns, fa.insns, fa.len * sizeof(struct sock_filter)), 0);
        seccomp_prog_free(&pa);
        seccomp_prog_free(&pb);
        seccomp_prog_free(&fa);
        seccomp_prog_free(&fb);
}

static int body_getcwd_eperm(void *arg)
{
        (void)arg;
        char buf[64];
        return getcwd(buf, sizeof buf) == NULL && errno == EPERM ? 0 : 1;
}

Test(seccomp_cache, cached_filter_loads_and_filters, .init = setup, .fini = teardown)
{
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_ERRNO", "getcwd") };
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1 };
        struct seccomp_prog p;
        prepare(&s, cache, &p);
        seccomp_prog_free(&p);
        prepare(&s, cache, &p);     /* from the cache */
        pid_t pid = fork();
        if (pid == 0) {
                herr_t err;
                int nfd;
                _exit(seccomp_prog_load(&p, &nfd, &err) < 0 ? CHILD_LOAD_FAILED : body_getcwd_eperm(NULL));
        }
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert_eq(exit_code(status), 0);
        seccomp_prog_free(&p);
}

static char warned[512];
static int n_warned;

static void record_warning(const char *msg)
{
        snprintf(warned, sizeof warned, "%s", msg);
        n_warned++;
}

Test(seccomp_cache, unknown_syscall_warned_on_hit_too, .init = setup, .fini = teardown)
{
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_ERRNO", "getcwd", "no_such_syscall") };
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1 };
        struct seccomp_prog p;
        seccomp_set_warn(record_warning);
        prepare(&s, cache, &p);
        seccomp_prog_free(&p);
        cr_assert_eq(n_warned, 1);
        char first[512];
        snprintf(first, sizeof first, "%s", warned);
        prepare(&s, cache, &p);
        seccomp_prog_free(&p);
        seccomp_set_warn(NULL);
        cr_assert_eq(n_warned, 2);
        cr_assert_str_eq(warned, first);
}

Test(seccomp_cache, invalid_section_fails_with_or_without_cache, .init = setup, .fini = teardown)
{
        struct oci_seccomp s = { .default_action = "SCMP_ACT_BOGUS" };
        struct seccomp_prog p;
        herr_t e1 = { 0 }, e2 = { 0 };
        cr_assert_eq(seccomp_prepare(&s, NULL, &p, &e1), -1);
        cr_assert_eq(seccomp_prepare(&s, cache, &p, &e2), -1);
        cr_assert_str_eq(e1.msg, e2.msg);
}

Test(seccomp_cache, full_cache_is_emptied_on_a_miss, .init = setup, .fini = teardown)
{
        struct seccomp_prog p;
        prepare(seccomp_default_profile(), cache, &p);
        seccomp_prog_free(&p);
        for (int i = 0; i < 200; i++) {
                char path[512];
                snprintf(path, sizeof path, "%s/%064d", cache, i);
                int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
                cr_assert_geq(fd, 0);
                close(fd);
        }
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_ERRNO", "getcwd") };
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1 };
        prepare(&s, cache, &p);
        seccomp_prog_free(&p);
        cr_assert_eq(entries(NULL, 0), 1);
}
