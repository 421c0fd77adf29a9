#include "namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/nsfs.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
        int flag;
        const char *proc;
} ns_table[OCI_NS_COUNT] = {
        [OCI_NS_PID] = { CLONE_NEWPID, "pid" },
        [OCI_NS_NETWORK] = { CLONE_NEWNET, "net" },
        [OCI_NS_MOUNT] = { CLONE_NEWNS, "mnt" },
        [OCI_NS_IPC] = { CLONE_NEWIPC, "ipc" },
        [OCI_NS_UTS] = { CLONE_NEWUTS, "uts" },
        [OCI_NS_USER] = { CLONE_NEWUSER, "user" },
        [OCI_NS_CGROUP] = { CLONE_NEWCGROUP, "cgroup" },
        [OCI_NS_TIME] = { CLONE_NEWTIME, "time" },
};

int ns_clone_flag(enum oci_ns_type t)
{
        return t < OCI_NS_COUNT ? ns_table[t].flag : 0;
}

const char *ns_proc_name(enum oci_ns_type t)
{
        return t < OCI_NS_COUNT ? ns_table[t].proc : "?";
}

void ns_plan_close(struct ns_plan *plan)
{
        for (int t = 0; t < OCI_NS_COUNT; t++) {
                if (plan->fds[t] >= 0)
                        close(plan->fds[t]);
                plan->fds[t] = -1;
        }
}

static int open_ns_path(const char *path, enum oci_ns_type t, size_t idx, herr_t *err)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return herr_sys(err, "linux.namespaces[%zu].path %s", idx, path);
        int type = ioctl(fd, NS_GET_NSTYPE);
        if (type < 0 || type != ns_table[t].flag) {
                close(fd);
                return herr_set(err, 0, "linux.namespaces[%zu].path %s: not a %s namespace", idx,
                                path, oci_ns_type_name(t));
        }
        return fd;
}

int ns_plan_open(const struct oci_config *c, struct ns_plan *plan, herr_t *err)
{
        plan->new_flags = 0;
        for (int t = 0; t < OCI_NS_COUNT; t++)
                plan->fds[t] = -1;
        if (!c->linux_)
                return 0;
        for (size_t i = 0; i < c->linux_->n_namespaces; i++) {
                const struct oci_namespace *ns = &c->linux_->namespaces[i];
                if (!ns->path || !*ns->path) {
                        plan->new_flags |= ns_table[ns->type].flag;
                        continue;
                }
                int fd = open_ns_path(ns->path, ns->type, i, err);
                if (fd < 0) {
                        ns_plan_close(plan);
                        return -1;
                }
                plan->fds[ns->type] = fd;
        }
        return 0;
}

int ns_plan_join(struct ns_plan *plan, herr_t *err)
{
        /* The user namespace first: it owns the others and grants the
         * capabilities the later setns calls need. */
        static const enum oci_ns_type order[] = {
                OCI_NS_USER, OCI_NS_PID,    OCI_NS_NETWORK, OCI_NS_IPC,
                OCI_NS_UTS,  OCI_NS_CGROUP, OCI_NS_TIME,    OCI_NS_MOUNT,
        };
        for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
                enum oci_ns_type t = order[i];
                if (plan->fds[t] < 0)
                        continue;
                if (setns(plan->fds[t], ns_table[t].flag) < 0)
                        return herr_sys(err, "join %s namespace", oci_ns_type_name(t));
                close(plan->fds[t]);
                plan->fds[t] = -1;
        }
        return 0;
}

static int write_map(pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n,
                     herr_t *err)
{
        char buf[4096];
        size_t off = 0;
        for (size_t i = 0; i < n; i++) {
                int w = snprintf(buf + off, sizeof buf - off, "%u %u %u\n", m[i].container_id,
                                 m[i].host_id, m[i].size);
                if (w < 0 || (size_t)w >= sizeof buf - off)
                        return herr_set(err, E2BIG, "%s: too many mappings", file);
                off += (size_t)w;
        }
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return herr_sys(err, "%s", path);
        if (write(fd, buf, off) != (ssize_t)off)
                return herr_sys(err, "linux.%s: write %s", !strcmp(file, "uid_map") ? "uidMappings" : "gidMappings", path);
        return 0;
}

int ns_write_id_maps(pid_t pid, const struct oci_linux *l, herr_t *err)
{
        if (l->n_uid_mappings && write_map(pid, "uid_map", l->uid_mappings, l->n_uid_mappings, err) < 0)
                return -1;
        if (l->n_gid_mappings && write_map(pid, "gid_map", l->gid_mappings, l->n_gid_mappings, err) < 0)
                return -1;
        return 0;
}

int ns_write_time_offsets(const struct oci_linux *l, herr_t *err)
{
        char buf[256];
        size_t off = 0;
        if (l->time_monotonic.set)
                off += (size_t)snprintf(buf + off, sizeof buf - off, "monotonic %lld %u\n",
                                        (long long)l->time_monotonic.secs, l->time_monotonic.nanosecs);
        if (l->time_boottime.set)
                off += (size_t)snprintf(buf + off, sizeof buf - off, "boottime %lld %u\n",
                                        (long long)l->time_boottime.secs, l->time_boottime.nanosecs);
        if (!off)
                return 0;
        _cleanup_close_ int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return herr_sys(err, "linux.timeOffsets: /proc/self/timens_offsets");
        if (write(fd, buf, off) != (ssize_t)off)
                return herr_sys(err, "linux.timeOffsets: write");
        return 0;
}

int ns_open_of_pid(pid_t pid, int fds[OCI_NS_COUNT], herr_t *err)
{
        for (int t = 0; t < OCI_NS_COUNT; t++) {
                char path[64];
                snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, ns_table[t].proc);
                fds[t] = open(path, O_RDONLY | O_CLOEXEC);
                if (fds[t] < 0 && errno != ENOENT) {
                        int e = errno;
                        for (int u = 0; u < t; u++)
                                if (fds[u] >= 0)
                                        close(fds[u]);
                        return herr_set(err, e, "%s", path);
                }
        }
        return 0;
}
