/* runtime/create_checks.c: what husk refuses before it creates anything,
 * because running it would change the host or fail half-way. */
#include "container.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/cleanup.h"

/* sethostname without a uts namespace would rename the host (runc refuses
 * this too). */
static int check_uts(const struct oci_config *cfg, herr_t *err)
{
        const char *what = cfg->hostname && *cfg->hostname       ? "hostname"
                           : cfg->domainname && *cfg->domainname ? "domainname"
                                                                 : NULL;
        if (what && !oci_config_namespace(cfg, OCI_NS_UTS))
                return herr_set(err, 0, "config.json: %s is set but linux.namespaces has no uts namespace "
                                "(it would change the host's)", what);
        return 0;
}

static bool id_mapped(const struct oci_id_mapping *m, size_t n, uint32_t id)
{
        for (size_t i = 0; i < n; i++)
                if (id >= m[i].container_id && id - m[i].container_id < m[i].size)
                        return true;
        return false;
}

/* A new user namespace needs mappings, and the process's ids must be in
 * them: found here, at create, rather than as EINVAL at start. */
static int check_userns(const struct oci_config *cfg, herr_t *err)
{
        const struct oci_namespace *ns = oci_config_namespace(cfg, OCI_NS_USER);
        const struct oci_linux *l = cfg->linux_;
        if (!ns || (ns->path && *ns->path) || !l)
                return 0;
        if (!l->n_uid_mappings || !l->n_gid_mappings)
                return herr_set(err, 0, "config.json: a new user namespace needs linux.uidMappings and "
                                "linux.gidMappings");
        const struct oci_user *u = &cfg->process->user;
        if (!id_mapped(l->uid_mappings, l->n_uid_mappings, u->uid))
                return herr_set(err, 0, "config.json: process.user.uid %u is not mapped by linux.uidMappings",
                                u->uid);
        if (!id_mapped(l->gid_mappings, l->n_gid_mappings, u->gid))
                return herr_set(err, 0, "config.json: process.user.gid %u is not mapped by linux.gidMappings",
                                u->gid);
        for (size_t i = 0; i < u->n_additional_gids; i++)
                if (!id_mapped(l->gid_mappings, l->n_gid_mappings, u->additional_gids[i]))
                        return herr_set(err, 0, "config.json: process.user.additionalGids %u is not mapped by "
                                        "linux.gidMappings", u->additional_gids[i]);
        return 0;
}

/* linux.timeOffsets apply to a time namespace husk creates; anywhere else
 * they would be silently ignored (no namespace) or fail late (joined). */
static int check_time_offsets(const struct oci_config *cfg, herr_t *err)
{
        const struct oci_linux *l = cfg->linux_;
        if (!l || (!l->time_monotonic.set && !l->time_boottime.set))
                return 0;
        const struct oci_namespace *ns = oci_config_namespace(cfg, OCI_NS_TIME);
        if (!ns)
                return herr_set(err, 0, "config.json: linux.timeOffsets is set but linux.namespaces has no time "
                                "namespace");
        if (ns->path && *ns->path)
                return herr_set(err, 0, "config.json: linux.timeOffsets cannot be set for the joined time "
                                "namespace %s", ns->path);
        return 0;
}

/* The rootfs is built and pivot_root'ed in the container's mount
 * namespace: without a new one it would be husk's own (the host's). */
static int check_mount_ns(const struct oci_config *cfg, herr_t *err)
{
        const struct oci_namespace *ns = oci_config_namespace(cfg, OCI_NS_MOUNT);
        if (!ns)
                return herr_set(err, 0, "config.json: linux.namespaces has no mount namespace: husk needs a new "
                                "one to build the rootfs in");
        if (ns->path && *ns->path)
                return herr_set(err, 0, "config.json: linux.namespaces mount path %s: husk needs a new mount "
                                "namespace to build the rootfs in, it cannot join one", ns->path);
        return 0;
}

/* True when the namespace of type t is the container's own: new, or
 * joined by a path that is not husk's own namespace. */
static bool ns_separate(const struct oci_config *cfg, enum oci_ns_type t, const char *proc_name)
{
        const struct oci_namespace *ns = oci_config_namespace(cfg, t);
        if (!ns)
                return false;
        if (!ns->path || !*ns->path)
                return true;
        char self[64];
        snprintf(self, sizeof self, "/proc/self/ns/%s", proc_name);
        struct stat a, b;
        if (stat(ns->path, &a) < 0 || stat(self, &b) < 0)
                return true; /* ns_plan_open reports a bad path */
        return a.st_dev != b.st_dev || a.st_ino != b.st_ino;
}

/* linux.sysctl is written from inside the container's namespaces but
 * through the host's /proc/sys: only sysctls of a namespace the container
 * has to itself are allowed (as runc does), or the host's would change. */
static int check_sysctls(const struct oci_config *cfg, herr_t *err)
{
        static const char *ipc[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                     "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced" };
        const struct oci_linux *l = cfg->linux_;
        for (size_t i = 0; l && i < l->n_sysctl; i++) {
                char k[256];
                snprintf(k, sizeof k, "%s", l->sysctl[i].key);
                for (char *p = k; *p; p++)
                        if (*p == '/')
                                *p = '.';
                bool is_ipc = !strncmp(k, "fs.mqueue.", 10);
                for (size_t j = 0; j < ARRAY_SIZE(ipc); j++)
                        is_ipc |= !strcmp(k, ipc[j]);
                const char *need = NULL;
                if (is_ipc) {
                        if (!ns_separate(cfg, OCI_NS_IPC, "ipc"))
                                need = "ipc";
                } else if (!strncmp(k, "net.", 4)) {
                        if (!ns_separate(cfg, OCI_NS_NETWORK, "net"))
                                need = "network";
                } else if (!strcmp(k, "kernel.hostname") || !strcmp(k, "kernel.domainname")) {
                        if (!ns_separate(cfg, OCI_NS_UTS, "uts"))
                                need = "uts";
                } else {
                        return herr_set(err, 0, "config.json: linux.sysctl %s is not in a separate kernel "
                                        "namespace (it would change the host's)", l->sysctl[i].key);
                }
                if (need)
                        return herr_set(err, 0, "config.json: linux.sysctl %s needs a %s namespace of the "
                                        "container's own", l->sysctl[i].key, need);
        }
        return 0;
}

int create_check_config(const struct oci_config *cfg, herr_t *err)
{
        if (check_mount_ns(cfg, err) < 0 || check_uts(cfg, err) < 0 || check_userns(cfg, err) < 0 ||
            check_time_offsets(cfg, err) < 0 || check_sysctls(cfg, err) < 0)
                return -1;
        return 0;
}
