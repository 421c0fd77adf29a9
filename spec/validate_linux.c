/* Validation of "linux" (config-linux.md): namespaces, id mappings,
 * devices, propagation, masked paths, personality, memory policy, time
 * offsets, Intel RDT. Resources and seccomp: validate_resources.c. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "config_priv.h"

/* config-linux.md lists the first four; the recursive forms are what runc
 * and crun also accept and what existing tools write (e.g. "rslave"). */
static const char *const propagations[] = {
        "private", "shared", "slave", "unbindable",
        "rprivate", "rshared", "rslave", "runbindable", NULL,
};
static const char *const personality_domains[] = { "LINUX", "LINUX32", NULL };
static const char *const mpol_modes[] = {
        "MPOL_DEFAULT", "MPOL_BIND",           "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE",
        "MPOL_PREFERRED", "MPOL_PREFERRED_MANY", "MPOL_LOCAL",      NULL,
};
static const char *const mpol_flags[] = {
        "MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES", NULL,
};

static int validate_namespaces(const struct oci_linux *l, herr_t *err)
{
        bool seen[OCI_NS_COUNT] = { false };
        for (size_t i = 0; i < l->n_namespaces; i++) {
                enum oci_ns_type t = l->namespaces[i].type;
                const char *name = oci_ns_type_name(t);
                if (!name)
                        return herr_set(err, 0, "linux.namespaces[%zu].type: unknown namespace type %d",
                                        i, (int)t);
                if (seen[t])
                        return herr_set(err, 0, "linux.namespaces[%zu].type: duplicate namespace type '%s'",
                                        i, name);
                seen[t] = true;
                if (l->namespaces[i].path && l->namespaces[i].path[0] != '/')
                        return herr_set(err, 0, "linux.namespaces[%zu].path: '%s' is not an absolute path",
                                        i, l->namespaces[i].path);
        }
        return 0;
}

static int validate_mapping_list(const struct oci_id_mapping *m, size_t n, const char *name,
                                 herr_t *err)
{
        for (size_t i = 0; i < n; i++)
                if (m[i].size == 0)
                        return herr_set(err, 0, "linux.%s[%zu].size: must be greater than 0", name, i);
        return 0;
}

static int validate_devices(const struct oci_linux *l, herr_t *err)
{
        for (size_t i = 0; i < l->n_devices; i++) {
                const struct oci_device *d = &l->devices[i];
                if (!d->type)
                        return herr_set(err, 0, "linux.devices[%zu].type: required", i);
                if (strlen(d->type) != 1 || !strchr("cbup", d->type[0]))
                        return herr_set(err, 0, "linux.devices[%zu].type: unknown device type '%s' (expected c, b, u or p)",
                                        i, d->type);
                if (!d->path)
                        return herr_set(err, 0, "linux.devices[%zu].path: required", i);
                if (d->path[0] != '/')
                        return herr_set(err, 0, "linux.devices[%zu].path: '%s' is not an absolute path",
                                        i, d->path);
        }
        return 0;
}

static int validate_abs_list(char **v, size_t n, const char *name, herr_t *err)
{
        for (size_t i = 0; i < n; i++)
                if (v[i][0] != '/')
                        return herr_set(err, 0, "linux.%s[%zu]: '%s' is not an absolute path", name, i, v[i]);
        return 0;
}

static int validate_personality(const struct oci_personality *p, herr_t *err)
{
        if (!p)
                return 0;
        if (!p->domain)
                return herr_set(err, 0, "linux.personality.domain: required");
        if (cfg_lookup(personality_domains, p->domain) < 0)
                return herr_set(err, 0, "linux.personality.domain: unknown domain '%s'", p->domain);
        if (p->n_flags > 0)   /* config-linux.md: no flag values are supported */
                return herr_set(err, 0, "linux.personality.flags[0]: unsupported flag '%s'", p->flags[0]);
        return 0;
}

static int validate_memory_policy(const struct oci_memory_policy *m, herr_t *err)
{
        if (!m)
                return 0;
        if (!m->mode)
                return herr_set(err, 0, "linux.memoryPolicy.mode: required");
        if (cfg_lookup(mpol_modes, m->mode) < 0)
                return herr_set(err, 0, "linux.memoryPolicy.mode: unknown mode '%s'", m->mode);
        for (size_t i = 0; i < m->n_flags; i++)
                if (cfg_lookup(mpol_flags, m->flags[i]) < 0)
                        return herr_set(err, 0, "linux.memoryPolicy.flags[%zu]: unknown flag '%s'",
                                        i, m->flags[i]);
        return 0;
}

static int validate_time_offset(const struct oci_time_offset *t, const char *clock, herr_t *err)
{
        if (t->set && t->nanosecs >= 1000000000u)
                return herr_set(err, 0, "linux.timeOffsets.%s.nanosecs: %u out of range (0..999999999)",
                                clock, t->nanosecs);
        return 0;
}

/* The kernel's dev_valid_name(): 1..15 bytes, not "." or "..", no '/',
 * ':' or white space. */
static bool ifname_valid(const char *n)
{
        size_t len = n ? strlen(n) : 0;
        if (len == 0 || len >= 16 || strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
                return false;
        for (const char *p = n; *p; p++)
                if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
                        return false;
        return true;
}

static int validate_misc(const struct oci_linux *l, herr_t *err)
{
        if (l->rootfs_propagation && cfg_lookup(propagations, l->rootfs_propagation) < 0)
                return herr_set(err, 0, "linux.rootfsPropagation: unknown value '%s' (expected shared, slave, private or unbindable)",
                                l->rootfs_propagation);
        if (l->intel_rdt && l->intel_rdt->mem_bw_schema &&
            (strncmp(l->intel_rdt->mem_bw_schema, "MB:", 3) != 0 ||
             strchr(l->intel_rdt->mem_bw_schema, '\n')))
                return herr_set(err, 0, "linux.intelRdt.memBwSchema: must start with 'MB:' and be one line");
        for (size_t i = 0; l->intel_rdt && i < l->intel_rdt->n_schemata; i++)
                if (strchr(l->intel_rdt->schemata[i], '\n'))
                        return herr_set(err, 0, "linux.intelRdt.schemata[%zu]: must not contain newlines", i);
        for (size_t i = 0; i < l->n_net_devices; i++) {
                const struct oci_net_device *d = &l->net_devices[i];
                if (!ifname_valid(d->host_name))
                        return herr_set(err, 0, "linux.netDevices: invalid interface name '%s'", d->host_name);
                if (d->name && !ifname_valid(d->name))
                        return herr_set(err, 0, "linux.netDevices.%s.name: invalid interface name '%s'",
                                        d->host_name, d->name);
        }
        return 0;
}

int cfg_validate_linux(const struct oci_linux *l, herr_t *err)
{
        if (validate_namespaces(l, err) < 0 ||
            validate_mapping_list(l->uid_mappings, l->n_uid_mappings, "uidMappings", err) < 0 ||
            validate_mapping_list(l->gid_mappings, l->n_gid_mappings, "gidMappings", err) < 0 ||
            validate_devices(l, err) < 0 ||
            validate_abs_list(l->masked_paths, l->n_masked_paths, "maskedPaths", err) < 0 ||
            validate_abs_list(l->readonly_paths, l->n_readonly_paths, "readonlyPaths", err) < 0 ||
            validate_personality(l->personality, err) < 0 ||
            validate_memory_policy(l->memory_policy, err) < 0 ||
            validate_time_offset(&l->time_monotonic, "monotonic", err) < 0 ||
            validate_time_offset(&l->time_boottime, "boottime", err) < 0 ||
            validate_misc(l, err) < 0 ||
            (l->resources && cfg_validate_resources(l->resources, err) < 0) ||
            (l->seccomp && cfg_validate_seccomp(l->seccomp, err) < 0))
                return -1;
        return 0;
}
