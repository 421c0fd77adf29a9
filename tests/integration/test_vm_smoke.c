/* VM mode smoke tests: boot the Debian kernel under QEMU with husk's agent
 * and run processes in it. Skipped when no kernel was fetched (make
 * vm-kernel, or HUSK_DATA_DIR pointing at a data dir holding one), when QEMU
 * or the agent (make vm-agent) is missing. Each test boots one VM (~2 s). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include "../../common/cleanup.h"
#include "../../common/fileutil.h"
#include "../../vm/vm.h"
#include "helpers.h"

static char data_dir[512], agent[512];

static bool find_agent(void)
{
        const char *cands[] = { getenv("HUSK_VM_AGENT"), "build/vm/husk-agent",
                                "../build/vm/husk-agent", HUSK_AGENT_DEFAULT };
        for (size_t i = 0; i < ARRAY_SIZE(cands); i++)
                if (cands[i] && access(cands[i], X_OK) == 0) {
                        snprintf(agent, sizeof(agent), "%s", cands[i]);
                        return true;
                }
        return false;
}

static void require_vm(void)
{
        h_require_vm();
        snprintf(data_dir, sizeof(data_dir), "%s", getenv("HUSK_DATA_DIR"));
        if (!find_agent())
                cr_skip_test("no guest agent: run `make vm-agent`");
}

static const char *rootfs(void)
{
        const char *r = getenv("HUSK_ROOTFS");
        static char abs[4096];
        if (!r || access(r, F_OK) < 0)
                cr_skip_test("HUSK_ROOTFS not set (make rootfs; make integration sets it)");
        cr_assert_not_null(realpath(r, abs));
        return abs;
}

/* Run args in a VM; stdout/stderr land in malloc'd strings. */
static void (*tweak)(struct vm_process *p); /* per-test process changes */

static int run_in(struct vm_opts *o, char **args, int in, char **out, size_t *out_len,
                  char **errs)
{
        int ofd = memfd_create("out", MFD_CLOEXEC), efd = memfd_create("err", MFD_CLOEXEC);
        struct vm_process p;
        vm_process_init(&p, args);
        p.stdin_fd = in;
        p.stdout_fd = ofd;
        p.stderr_fd = efd;
        if (tweak)
                tweak(&p);
        o->data_dir = data_dir;
        o->agent = agent;
        o->die_with_parent = true;
        herr_t err = { 0 };
        int status = -1;
        cr_assert_eq(vm_run(o, &p, &status, &err), 0, "vm_run: %s", err.msg);
        size_t elen;
        lseek(ofd, 0, SEEK_SET);
        lseek(efd, 0, SEEK_SET);
        cr_assert_eq(read_fd(ofd, 64 << 20, out, out_len, &err), 0, "%s", err.msg);
        cr_assert_eq(read_fd(efd, 64 << 20, errs, &elen, &err), 0, "%s", err.msg);
        close(ofd);
        close(efd);
        return status;
}

static int run(struct vm_opts *o, char **args, char **out, size_t *out_len, char **errs)
{
        return run_in(o, args, -1, out, out_len, errs);
}

Test(vm_smoke, stdio_status_and_kernel, .timeout = 180)
{
        require_vm();
        struct vm_opts o = { .share_dir = rootfs() };
        char *args[] = { "sh", "-c", "echo hello; echo err >&2; uname -r; exit 3", NULL };
        _cleanup_free_ char *out = NULL, *errs = NULL;
        size_t len;
        cr_assert_eq(run(&o, args, &out, &len, &errs), 3);
        struct utsname u;
        uname(&u);
        char *nl = strchr(out, '\n');
        cr_assert_not_null(nl, "stdout: %s", out);
        *nl = 0;
        cr_assert_str_eq(out, "hello");
        cr_assert_str_neq(nl + 1, "");
        nl[1 + strcspn(nl + 1, "\n")] = 0;
        cr_assert_str_neq(nl + 1, u.release, "guest runs the host's kernel?");
        cr_assert_str_eq(errs, "err\n");
}

static void as_user(struct vm_process *p)
{
        static char *env[] = { "PATH=/bin:/usr/bin", "FOO=bar", NULL };
        p->uid = 1000;
        p->gid = 100;
        p->cwd = "/tmp";
        p->env = env;
}

/* The process writes 1.3 MB before it reads 1.3 MB of stdin: stdio must not
 * deadlock, every byte must arrive in order. */
Test(vm_smoke, megabyte_stdio_and_shared_writes_9p, .timeout = 180)
{
        require_vm();
        const char *root = rootfs();
        char marker[4096];
        snprintf(marker, sizeof(marker), "%s/tmp/vm-smoke-%d", root, getpid());
        struct vm_opts o = { .share_dir = root, .share_kind = VM_SHARE_9P };
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "seq 1 200000 && wc -c && echo written > /tmp/vm-smoke-%d && "
                 "echo \"$(id -u):$(id -g) $(pwd) $FOO\" >&2", getpid());
        tweak = as_user;
        char *args[] = { "sh", "-c", cmd, NULL };
        _cleanup_free_ char *out = NULL, *errs = NULL, *want = NULL, *m = NULL;
        size_t len, wlen, mlen;
        int in = memfd_create("in", MFD_CLOEXEC);
        FILE *f = open_memstream(&want, &wlen);
        for (int i = 1; i <= 200000; i++)
                fprintf(f, "%d\n", i);
        fflush(f);
        cr_assert_eq(write_all(in, want, wlen), 0);
        lseek(in, 0, SEEK_SET);
        fprintf(f, "%zu\n", wlen);
        fclose(f);
        cr_assert_eq(run_in(&o, args, in, &out, &len, &errs), 0, "stderr: %s", errs);
        close(in);
        cr_assert_str_eq(errs, "1000:100 /tmp bar\n");
        cr_assert_gt(wlen, 1000000);
        cr_assert_eq(len, wlen, "got %zu bytes of %zu", len, wlen);
        cr_assert_eq(memcmp(out, want, wlen), 0, "stdout corrupted");
        herr_t err;
        cr_assert_eq(read_file(marker, 4096, &m, &mlen, &err), 0, "%s", err.msg);
        cr_assert_str_eq(m, "written\n");
        unlink(marker);
}

Test(vm_smoke, cgroup_v2_only_host_root_ro, .timeout = 180)
{
        require_vm();
        struct vm_opts o = { .share_dir = "/", .share_ro = true, .share_kind = VM_SHARE_9P,
                             .extra_cmdline = "cgroup_no_v1=all" };
        char *args[] = { "/bin/sh", "-c",
                         "mount -t cgroup2 none /sys/fs/cgroup && "
                         "cat /sys/fs/cgroup/cgroup.controllers && ! touch /husk-ro-test",
                         NULL };
        _cleanup_free_ char *out = NULL, *errs = NULL;
        size_t len;
        cr_assert_eq(run(&o, args, &out, &len, &errs), 0, "stderr: %s", errs);
        cr_assert_not_null(strstr(out, "memory"), "controllers: %s", out);
        cr_assert_not_null(strstr(out, "pids"), "controllers: %s", out);
        cr_assert_not_null(strstr(out, "cpu"), "controllers: %s", out);
}

/* QEMU dies while the process runs: vm_exec fails and says why. */
Test(vm_smoke, qemu_crash_is_reported, .timeout = 180)
{
        require_vm();
        struct vm_opts o = { .share_dir = rootfs(), .share_kind = VM_SHARE_9P, .data_dir = data_dir,
                             .agent = agent, .die_with_parent = true };
        struct vm *vm;
        herr_t err = { 0 };
        cr_assert_eq(vm_start(&o, &vm, &err), 0, "%s", err.msg);
        pid_t q = vm_qemu_pid(vm), killer = fork();
        if (killer == 0) {
                usleep(300 * 1000);
                kill(q, SIGKILL);
                _exit(0);
        }
        char *args[] = { "sleep", "60", NULL };
        struct vm_process p;
        vm_process_init(&p, args);
        p.stdin_fd = -1;
        int status;
        cr_assert_eq(vm_exec(vm, &p, &status, &err), -1);
        cr_assert(strstr(err.msg, "QEMU killed by signal 9"), "%s", err.msg);
        waitpid(killer, NULL, 0);
        vm_free(vm);
}

Test(vm_smoke, missing_kernel_is_named)
{
        struct vm_opts o = { .kernel = "/nonexistent/vmlinux" };
        struct vm *vm;
        herr_t err = { 0 };
        cr_assert_eq(vm_start(&o, &vm, &err), -1);
        cr_assert(strstr(err.msg, "/nonexistent/vmlinux") && strstr(err.msg, "vm-kernel"), "%s",
                  err.msg);
}
