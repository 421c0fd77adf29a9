/* husk-probe: runs inside a container (native or VM mode) and prints what
 * it can see and do, and a few costs, as one JSON object on stdout.
 * Static, libc only: it must run in any rootfs. `husk compare` ships it to
 * the container over stdin. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int first = 1;

static void key(const char *k)
{
        printf("%s\n  \"%s\": ", first ? "{" : ",", k);
        first = 0;
}

static void jstr(const char *s)
{
        putchar('"');
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\')
                        printf("\\%c", c);
                else if (c < 0x20)
                        printf("\\u%04x", c);
                else
                        putchar(c);
        }
        putchar('"');
}

static void kstr(const char *k, const char *v) { key(k); jstr(v); }
static void knum(const char *k, double v) { key(k); printf("%.3f", v); }
static void kint(const char *k, long v) { key(k); printf("%ld", v); }
static void kbool(const char *k, int v) { key(k); printf(v ? "true" : "false"); }

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void status_field(const char *name, char *out, size_t len)
{
        char line[256];
        FILE *f = fopen("/proc/self/status", "re");
        snprintf(out, len, "?");
        if (!f)
                return;
        size_t nl = strlen(name);
        while (fgets(line, sizeof line, f))
                if (!strncmp(line, name, nl) && line[nl] == ':') {
                        char *v = line + nl + 1;
                        while (*v == ' ' || *v == '\t')
                                v++;
                        v[strcspn(v, "\n")] = 0;
                        snprintf(out, len, "%s", v);
                }
        fclose(f);
}

static long count_dir(const char *path, int digits_only)
{
        DIR *d = opendir(path);
        if (!d)
                return -1;
        long n = 0;
        struct dirent *e;
        while ((e = readdir(d)))
                if (e->d_name[0] != '.' && (!digits_only || (e->d_name[0] >= '0' && e->d_name[0] <= '9')))
                        n++;
        closedir(d);
        return n;
}

static void list_dir(const char *k, const char *path)
{
        key(k);
        DIR *d = opendir(path);
        printf("[");
        int f = 1;
        struct dirent *e;
        while (d && (e = readdir(d)))
                if (e->d_name[0] != '.') {
                        printf("%s", f ? "" : ", ");
                        jstr(e->d_name);
                        f = 0;
                }
        printf("]");
        if (d)
                closedir(d);
}

static int can_open(const char *path, int flags)
{
        int fd = open(path, flags | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return 0;
        char c;
        /* Readable means data: a path masked with /dev/null reads nothing. */
        int ok = (flags & O_ACCMODE) != O_RDONLY || read(fd, &c, 1) > 0;
        close(fd);
        return ok;
}

/* Syscalls a hardened container should not get: called with arguments that
 * are invalid if allowed (EINVAL/EBADF/EFAULT), so EPERM/ENOSYS means the
 * call was refused before it looked at them. */
static const struct { const char *name; long nr; long a, b, c; } danger[] = {
        { "keyctl", SYS_keyctl, -1, 0, 0 },           { "add_key", SYS_add_key, 0, 0, 0 },
        { "request_key", SYS_request_key, 0, 0, 0 },   { "bpf", SYS_bpf, -1, 0, 0 },
        { "userfaultfd", SYS_userfaultfd, -1, 0, 0 },  { "perf_event_open", SYS_perf_event_open, 0, 0, 0 },
        { "kexec_load", SYS_kexec_load, 0, 0, 0 },     { "init_module", SYS_init_module, 0, 0, 0 },
        { "finit_module", SYS_finit_module, -1, 0, 0 }, { "delete_module", SYS_delete_module, 0, 0, 0 },
        { "mount", SYS_mount, 0, 0, 0 },               { "umount2", SYS_umount2, 0, -1, 0 },
        { "unshare", SYS_unshare, -1, 0, 0 },          { "setns", SYS_setns, -1, -1, 0 },
        { "pivot_root", SYS_pivot_root, 0, 0, 0 },     { "swapon", SYS_swapon, 0, 0, 0 },
        { "swapoff", SYS_swapoff, 0, 0, 0 },           { "reboot", SYS_reboot, 0, 0, 0 },
        { "acct", SYS_acct, 1, 0, 0 },                 { "open_by_handle_at", SYS_open_by_handle_at, -1, 0, 0 },
        { "iopl", SYS_iopl, 99, 0, 0 },                { "ioperm", SYS_ioperm, 0, 0, 99 },
        { "clock_settime", SYS_clock_settime, -1, 0, 0 }, { "syslog", SYS_syslog, 99, 0, 0 },
};

static void syscalls(void)
{
        int blocked = 0;
        key("blocked_syscalls");
        printf("[");
        for (size_t i = 0; i < sizeof danger / sizeof danger[0]; i++) {
                errno = 0;
                long r = syscall(danger[i].nr, danger[i].a, danger[i].b, danger[i].c, 0, 0, 0);
                if (r < 0 && (errno == EPERM || errno == ENOSYS || errno == EACCES)) {
                        printf("%s", blocked ? ", " : "");
                        jstr(danger[i].name);
                        blocked++;
                }
        }
        printf("]");
        kint("blocked_syscalls_count", blocked);
        kint("blocked_syscalls_tested", (long)(sizeof danger / sizeof danger[0]));
}

static void abilities(void)
{
        mkdir("/tmp/.husk-probe-mnt", 0700);
        int m = mount("none", "/tmp/.husk-probe-mnt", "tmpfs", 0, NULL) == 0;
        if (m)
                umount("/tmp/.husk-probe-mnt");
        rmdir("/tmp/.husk-probe-mnt");
        kbool("can_mount", m);
        errno = 0;
        syscall(SYS_finit_module, -1, "", 0);
        kbool("can_load_modules", errno == EBADF);
        int s = socket(AF_PACKET, SOCK_RAW, 0);
        kbool("can_raw_socket", s >= 0);
        if (s >= 0)
                close(s);
        long r = ptrace(PTRACE_SEIZE, 1, 0, 0);
        kbool("can_ptrace_pid1", r == 0);
        if (r == 0)
                ptrace(PTRACE_DETACH, 1, 0, 0);
        kbool("can_keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) >= 0);
        kbool("proc_sys_writable", can_open("/proc/sys/kernel/hostname", O_WRONLY));
        kbool("sys_firmware_readable", count_dir("/sys/firmware", 0) > 0);
        kbool("proc_kcore_readable", can_open("/proc/kcore", O_RDONLY));
}

static double syscall_ns(void)
{
        const long n = 200000;
        double t0 = now_s();
        for (long i = 0; i < n; i++)
                syscall(SYS_getppid);
        return (now_s() - t0) / n * 1e9;
}

static double fork_exec_per_s(void)
{
        const int n = 50;
        double t0 = now_s();
        for (int i = 0; i < n; i++) {
                pid_t p = fork();
                if (p == 0) {
                        execl("/bin/true", "true", (char *)NULL);
                        _exit(0);
                }
                if (p > 0)
                        waitpid(p, NULL, 0);
        }
        return n / (now_s() - t0);
}

static void file_mb_s(double *w, double *r)
{
        static char buf[1 << 16];
        const int chunks = 256; /* 16 MiB */
        memset(buf, 'h', sizeof buf);
        const char *path = "/.husk-probe-io";
        int fd = open(path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0) {
                path = "/tmp/.husk-probe-io";
                fd = open(path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);
        }
        *w = *r = -1;
        if (fd < 0)
                return;
        double t0 = now_s();
        for (int i = 0; i < chunks; i++)
                if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
                        break;
        fsync(fd);
        *w = 16 / (now_s() - t0);
        lseek(fd, 0, SEEK_SET);
        t0 = now_s();
        while (read(fd, buf, sizeof buf) > 0)
                ;
        *r = 16 / (now_s() - t0);
        close(fd);
        unlink(path);
}

static double tcp_rtt_us(void)
{
        int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t al = sizeof a;
        if (ls < 0 || bind(ls, (void *)&a, sizeof a) < 0 || listen(ls, 1) < 0 ||
            getsockname(ls, (void *)&a, &al) < 0)
                return -1;
        pid_t p = fork();
        if (p == 0) {
                int c = accept(ls, NULL, NULL);
                char b;
                while (c >= 0 && read(c, &b, 1) == 1 && write(c, &b, 1) == 1)
                        ;
                _exit(0);
        }
        int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        double res = -1;
        if (connect(c, (void *)&a, sizeof a) == 0) {
                const int n = 2000;
                char b = 'x';
                double t0 = now_s();
                int i;
                for (i = 0; i < n; i++)
                        if (write(c, &b, 1) != 1 || read(c, &b, 1) != 1)
                                break;
                if (i == n)
                        res = (now_s() - t0) / n * 1e6;
        }
        close(c);
        close(ls);
        kill(p, 9);
        waitpid(p, NULL, 0);
        return res;
}

int main(void)
{
        struct utsname u;
        uname(&u);
        char buf[256];
        kstr("kernel_release", u.release);
        kint("pid", getpid());
        kint("visible_pids", count_dir("/proc", 1));
        list_dir("dev_entries", "/dev");
        list_dir("net_interfaces", "/sys/class/net");
        list_dir("block_devices", "/sys/block");
        status_field("CapEff", buf, sizeof buf);
        kstr("cap_eff", buf);
        status_field("Seccomp", buf, sizeof buf);
        kstr("seccomp_mode", buf);
        status_field("NoNewPrivs", buf, sizeof buf);
        kstr("no_new_privs", buf);
        syscalls();
        abilities();
        knum("syscall_ns", syscall_ns());
        knum("fork_exec_per_s", fork_exec_per_s());
        double w, r;
        file_mb_s(&w, &r);
        knum("file_write_mb_s", w);
        knum("file_read_mb_s", r);
        knum("tcp_rtt_us", tcp_rtt_us());
        printf("\n}\n");
        return 0;
}
