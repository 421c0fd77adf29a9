/* VM mode: host directories and files of bind mounts, shared into the guest.
 *
 * virtiofs and virtio-9p share directory trees, and a file bind must not
 * expose its siblings. So the sources are staged: the server of the share
 * (a virtiofsd of its own, or QEMU itself for 9p) is forked into a mount
 * namespace of its own (a slave of the host's) where a tmpfs covers
 * <run dir>/binds and each source is bind-mounted on an entry of it ("3"
 * for mounts[3]: a directory, or an empty file covered by the single
 * source file). Only these mounts are in
 * the share; the host sees an empty directory, and the mounts vanish with
 * the server's namespace (no host mount to clean up, also after a crash).
 *
 * On the host side every entry is nosuid,nodev, and read-only when the bind
 * is (recursively for rbind): ro is enforced by the host kernel whatever the
 * guest does; the tmpfs is read-only too, so the guest cannot add entries.
 * The virtiofsd runs with -o sandbox=namespace (its own mount, pid and net
 * namespaces, pivot_root into the staged tmpfs, its seccomp filter), without
 * CAP_MKNOD and CAP_SETFCAP, and with read and search rights only
 * (DAC_OVERRIDE) when every bind is read-only. It is in the container's
 * cgroup and dies with the monitor (PR_SET_DEATHSIG). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "internal.h"

#define VIRTIOFSD "/usr/lib/qemu/virtiofsd"

int vm_binds_init(struct vm *vm, const struct vm_opts *o, herr_t *err)
{
        if (!o->n_binds)
                return 0;
        if (vm->share == VM_SHARE_NONE)
                return herr_set(err, EINVAL, "VM bind mounts need a shared root (virtiofs or 9p)");
        vm->binds = calloc(o->n_binds, sizeof(*vm->binds));
        if (!vm->binds)
                return herr_set(err, ENOMEM, "VM bind mounts");
        for (size_t i = 0; i < o->n_binds; i++) {
                const struct vm_bind *b = &o->binds[i];
                if (!b->name || !b->name[0] || strchr(b->name, '/') || b->name[0] == '.' || !b->source ||
                    b->source[0] != '/')
                        return herr_set(err, EINVAL, "VM bind %zu: bad name or relative source", i);
                vm->binds[i] = *b;
                vm->n_binds++;
                if (!(vm->binds[i].name = strdup(b->name)) || !(vm->binds[i].source = strdup(b->source)))
                        return herr_set(err, ENOMEM, "VM bind mounts");
        }
        if (asprintf(&vm->binds_dir, "%s/binds", vm->run_dir) < 0 ||
            asprintf(&vm->binds_sock, "%s/binds.sock", vm->run_dir) < 0) {
                vm->binds_dir = vm->binds_sock = NULL;
                return herr_set(err, ENOMEM, "VM bind mounts");
        }
        if (mkdir(vm->binds_dir, 0700) < 0)
                return herr_sys(err, "VM bind mounts: %s", vm->binds_dir);
        return 0;
}

static void stage_fail(const char *what, const char *path)
{
        dprintf(2, "husk: VM bind mounts: %s %s: %s\n", what, path, strerror(errno));
        _exit(126);
}

/* Runs in the forked server before exec: a private mount namespace with
 * the sources bind-mounted under a read-only tmpfs on binds_dir. */
void vm_binds_stage(const struct vm *vm)
{
        if (unshare(CLONE_NEWNS) < 0)
                stage_fail("unshare", "the mount namespace");
        /* slave: host mounts made later still reach the server; ours stay here */
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                stage_fail("make slave", "/");
        if (mount("husk-binds", vm->binds_dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "mode=0755,size=64k,nr_inodes=4096") < 0)
                stage_fail("tmpfs on", vm->binds_dir);
        for (size_t i = 0; i < vm->n_binds; i++) {
                const struct vm_bind *b = &vm->binds[i];
                char entry[4096];
                snprintf(entry, sizeof(entry), "%s/%s", vm->binds_dir, b->name);
                int fd = -1;
                if (b->is_dir ? mkdir(entry, 0755) : (fd = open(entry, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
                        stage_fail("create", entry);
                if (fd >= 0)
                        close(fd);
                if (mount(b->source, entry, NULL, MS_BIND | (b->recursive ? MS_REC : 0), NULL) < 0)
                        stage_fail("bind", b->source);
                /* The source must still be what the runtime checked. */
                struct stat st;
                if (stat(entry, &st) < 0 || !!S_ISDIR(st.st_mode) != b->is_dir) {
                        errno = b->is_dir ? ENOTDIR : EISDIR;
                        stage_fail("bind", b->source);
                }
                struct mount_attr a = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                                    (b->ro ? MOUNT_ATTR_RDONLY : 0) };
                if (mount_setattr(AT_FDCWD, entry, b->recursive ? AT_RECURSIVE : 0, &a, sizeof(a)) < 0)
                        stage_fail("set nosuid,nodev,ro on", b->source);
        }
        if (mount(NULL, vm->binds_dir, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "mode=0755,size=64k,nr_inodes=4096") < 0)
                stage_fail("remount read-only", vm->binds_dir);
}

static long now_ms(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void log_tail(const char *log, char *buf, size_t len)
{
        _cleanup_close_ int fd = open(log, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : 0;
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
}

int vm_binds_start(struct vm *vm, herr_t *err)
{
        bool all_ro = true;
        for (size_t i = 0; i < vm->n_binds; i++)
                all_ro = all_ro && vm->binds[i].ro;
        _cleanup_free_ char *sock = NULL, *src = NULL, *log = NULL;
        if (asprintf(&sock, "--socket-path=%s", vm->binds_sock) < 0 ||
            asprintf(&log, "%s/virtiofsd-binds.log", vm->run_dir) < 0 ||
            asprintf(&src, "source=%s", vm->binds_dir) < 0)
                return herr_set(err, ENOMEM, "virtiofsd for bind mounts");
        /* Without CAP_MKNOD no device node is made on a host filesystem;
         * read-only binds need no more than DAC_OVERRIDE. */
        const char *caps = all_ro ? "modcaps=-chown:-fowner:-fsetid:-setgid:-setuid:-mknod:-setfcap"
                                  : "modcaps=-mknod:-setfcap";
        char *argv[] = { VIRTIOFSD, sock, "-o", src, "-o", "cache=auto", "-o", "sandbox=namespace",
                         "-o", (char *)caps, NULL };
        if (vm_spawn_prep(argv, log, NULL, vm->die_with_parent, vm_binds_stage, vm, &vm->binds_pid, err) < 0)
                return -1;
        for (long t0 = now_ms(); now_ms() - t0 < 5000; usleep(5000)) {
                int st;
                if (access(vm->binds_sock, F_OK) == 0)
                        return 0;
                if (vm_reap(vm->binds_pid, 0, &st)) {
                        char why[512];
                        vm->binds_pid = 0;
                        log_tail(log, why, sizeof(why));
                        return herr_set(err, 0, "virtiofsd for bind mounts exited at start: %s", why);
                }
        }
        return herr_set(err, ETIMEDOUT, "virtiofsd for bind mounts: socket %s", vm->binds_sock);
}

void vm_binds_stop(struct vm *vm, int timeout_ms)
{
        int st;
        if (vm->binds_pid > 0 && !vm_reap(vm->binds_pid, timeout_ms, &st)) {
                kill(vm->binds_pid, SIGKILL);
                vm_reap(vm->binds_pid, -1, &st);
        }
        vm->binds_pid = 0;
}

void vm_binds_free(struct vm *vm)
{
        vm_binds_stop(vm, 0);
        for (size_t i = 0; i < vm->n_binds; i++) {
                free((char *)vm->binds[i].name);
                free((char *)vm->binds[i].source);
        }
        free(vm->binds);
        free(vm->binds_dir);
        free(vm->binds_sock);
        vm->binds = NULL;
        vm->n_binds = 0;
}
