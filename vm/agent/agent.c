/* husk guest agent: PID 1 of the VM. Mounts the basics, loads modules in the
 * order the host wrote to /etc/husk/modules, finds the "husk.ctl" virtio
 * port, mounts the shared root, moves it onto / and chroots, then runs the
 * process the host sends and relays its stdio. Powers off after the host
 * acknowledged the exit status. */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static struct {
        char share[16]; /* "9p", "virtiofs" or "none" */
        int ro;
        int debug;
        int oci; /* husk.oci=1: /husk sets the container up; no chroot */
        int net; /* husk.net=1: a virtio-net device (the container's eth0) */
} cfg = { "none", 0, 0, 0, 0 };

void agent_log(const char *fmt, ...)
{
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n > sizeof(buf) - 2)
                n = sizeof(buf) - 2;
        buf[n++] = '\n';
        dprintf(2, "husk-agent: %.*s", n, buf);
}

/* husk.debug=1: "husk-agent: [   1.234567] WHAT" on the console, in the
 * guest kernel's monotonic clock (the time since the guest booted, the
 * clock of the kernel's own console timestamps). */
void agent_mark(const char *what)
{
        if (!cfg.debug)
                return;
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        agent_log("[%5ld.%06ld] %s", (long)t.tv_sec, t.tv_nsec / 1000, what);
}

static void power_off(void)
{
        sync();
        agent_mark("synced");
        reboot(RB_AUTOBOOT); /* with reboot=t and QEMU -no-reboot: QEMU exits */
        for (;;)
                pause();
}

static void die(const char *what)
{
        agent_log("%s: %s", what, strerror(errno));
        power_off();
}

static void parse_cmdline(void)
{
        char buf[4096];
        int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return;
        buf[n] = 0;
        for (char *save, *t = strtok_r(buf, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
                if (!strncmp(t, "husk.share=", 11))
                        snprintf(cfg.share, sizeof(cfg.share), "%s", t + 11);
                else if (!strcmp(t, "husk.ro=1"))
                        cfg.ro = 1;
                else if (!strcmp(t, "husk.debug=1"))
                        cfg.debug = 1;
                else if (!strcmp(t, "husk.oci=1"))
                        cfg.oci = 1;
                else if (!strcmp(t, "husk.net=1"))
                        cfg.net = 1;
        }
}

/* The modules of the share kind not in use are not loaded (the 9p family
 * costs ~100 ms under TCG when the root comes over virtiofs), nor
 * virtio_net without a network device. */
static int module_unneeded(const char *path)
{
        static const char *const p9[] = { "/9pnet.ko", "/9pnet_virtio.ko", "/9p.ko", "/netfs.ko", "/fscache.ko" };
        static const char *const vfs[] = { "/fuse.ko", "/virtiofs.ko" };
        static const char *const net[] = { "/failover.ko", "/net_failover.ko", "/virtio_net.ko" };
        const char *base = strrchr(path, '/');
        if (!base)
                return 0;
        for (size_t i = 0; strcmp(cfg.share, "9p") && i < sizeof(p9) / sizeof(p9[0]); i++)
                if (!strcmp(base, p9[i]))
                        return 1;
        for (size_t i = 0; strcmp(cfg.share, "virtiofs") && i < sizeof(vfs) / sizeof(vfs[0]); i++)
                if (!strcmp(base, vfs[i]))
                        return 1;
        for (size_t i = 0; !cfg.net && i < sizeof(net) / sizeof(net[0]); i++)
                if (!strcmp(base, net[i]))
                        return 1;
        return 0;
}

static void load_modules(void)
{
        FILE *f = fopen("/etc/husk/modules", "re");
        char line[512];
        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = 0;
                if (!line[0] || module_unneeded(line))
                        continue;
                int fd = open(line, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST))
                        agent_log("module %s: %s", line, strerror(errno));
                else
                        agent_mark(line);
                if (fd >= 0)
                        close(fd);
        }
        fclose(f);
}

/* /sys/class/virtio-ports/vportNpM/name == "husk.ctl" -> /dev/vportNpM */
static int find_port(char *dev, size_t devlen)
{
        DIR *d = opendir("/sys/class/virtio-ports");
        struct dirent *e;
        int found = 0;
        while (d && !found && (e = readdir(d))) {
                char p[300], name[64] = "";
                if (e->d_name[0] == '.')
                        continue;
                snprintf(p, sizeof(p), "/sys/class/virtio-ports/%s/name", e->d_name);
                int fd = open(p, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                ssize_t n = read(fd, name, sizeof(name) - 1);
                close(fd);
                name[n > 0 ? n : 0] = 0;
                name[strcspn(name, "\n")] = 0;
                if (!strcmp(name, "husk.ctl")) {
                        snprintf(dev, devlen, "/dev/%s", e->d_name);
                        found = 1;
                }
        }
        if (d)
                closedir(d);
        return found;
}

static int open_ctl(void)
{
        char dev[300];
        for (int i = 0; i < 2000; i++) { /* up to ~10 s under TCG */
                if (find_port(dev, sizeof(dev))) {
                        int fd = open(dev, O_RDWR | O_CLOEXEC);
                        if (fd >= 0)
                                return fd;
                }
                struct timespec ts = { 0, 5 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
        errno = ENODEV;
        return -1;
}

static void move_into(const char *what, const char *dst)
{
        char p[64];
        snprintf(p, sizeof(p), "/newroot%s", dst);
        if (mount(what, p, NULL, MS_MOVE, NULL) < 0 && cfg.debug)
                agent_log("move %s: %s", what, strerror(errno));
}

static void mount_root(void)
{
        unsigned long fl = cfg.ro ? MS_RDONLY : 0;
        mkdir("/newroot", 0755);
        if (!strcmp(cfg.share, "9p")) {
                if (mount("husk", "/newroot", "9p", fl,
                          "trans=virtio,version=9p2000.L,msize=262144,cache=mmap,access=client") < 0)
                        die("mount 9p share");
        } else if (!strcmp(cfg.share, "virtiofs")) {
                if (mount("husk", "/newroot", "virtiofs", fl, NULL) < 0)
                        die("mount virtiofs share");
        } else {
                return; /* run in the initramfs itself */
        }
        if (cfg.oci) { /* /husk makes the container from /newroot */
                if (mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                        die("mount cgroup2");
                mkdir("/run", 0755);
                return;
        }
        if (cfg.ro) { /* a writable scratch space on a read-only root */
                mount("tmpfs", "/newroot/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
                mount("tmpfs", "/newroot/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755");
        }
        move_into("/dev", "/dev");
        move_into("/proc", "/proc");
        move_into("/sys", "/sys");
        if (chdir("/newroot") < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
            chdir("/") < 0)
                die("switch to the shared root");
}

static void early_mounts(void)
{
        mkdir("/proc", 0555);
        mkdir("/sys", 0555);
        mkdir("/dev", 0755);
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                die("mount /proc");
        if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                die("mount /sys");
        if (mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755") < 0)
                die("mount /dev");
        mkdir("/dev/shm", 01777);
        mount("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
        mkdir("/dev/pts", 0755);
        mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666,newinstance");
        int fd = open("/dev/console", O_RDWR | O_CLOEXEC);
        if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
        }
}

struct rbuf agent_rb;

/* Wait for the SPEC frame; other frames before it are ignored. */
static int wait_spec(int ctl, struct proto_spec *spec)
{
        struct frame f;
        size_t used;
        for (;;) {
                int r = agent_read_frame(ctl, &agent_rb, &f, &used);
                if (r <= 0)
                        return -1;
                if (f.type == PROTO_SPEC) {
                        int ok = proto_spec_decode(f.data, f.len, spec);
                        rbuf_consume(&agent_rb, used);
                        return ok;
                }
                rbuf_consume(&agent_rb, used);
        }
}

/* Power off only after the host has the exit status; give up after 60 s of
 * silence (the host is gone). */
static void wait_ack(int ctl)
{
        struct frame f;
        size_t used;
        struct pollfd p = { .fd = ctl, .events = POLLIN };
        for (;;) {
                if (proto_parse(agent_rb.data, agent_rb.len, &f, &used) != 1 &&
                    poll(&p, 1, 60000) <= 0)
                        return;
                if (agent_read_frame(ctl, &agent_rb, &f, &used) <= 0)
                        return;
                uint32_t t = f.type;
                rbuf_consume(&agent_rb, used);
                if (t == PROTO_ACK)
                        return;
        }
}

int main(void)
{
        if (getpid() != 1)
                return 1;
        early_mounts();
        parse_cmdline();
        agent_mark("init");
        load_modules();
        int ctl = open_ctl();
        if (ctl < 0)
                die("control port husk.ctl");
        agent_mark("control port");
        mount_root();
        agent_status_fd = cfg.oci;
        agent_mark("root mounted, READY");
        proto_send(ctl, PROTO_READY, NULL, 0);
        struct proto_spec spec;
        int ok = wait_spec(ctl, &spec);
        agent_mark("SPEC");
        if (ok < 0) {
                const char *m = "agent: bad or missing SPEC";
                proto_send(ctl, PROTO_ERROR, m, strlen(m));
                power_off();
        }
        if (!cfg.oci && spec.n_files) { /* we are chrooted in the container's root: */
                agent_log("files of the SPEC ignored outside husk.oci=1");
                for (size_t i = 0; i < spec.n_files; i++) {
                        free(spec.files[i].path);
                        free(spec.files[i].data);
                }
                spec.n_files = 0;
        }
        if (agent_run(ctl, &spec) == 0)
                wait_ack(ctl);
        agent_mark("ACK, power off");
        power_off();
}
