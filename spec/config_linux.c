/* config.json "linux" -> struct oci_linux (resources and seccomp have
 * their own files). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"

static int parse_namespace(yajl_val v, const char *path, void *elem, herr_t *err)
{
        struct oci_namespace *ns = elem;
        char p[JPATH_MAX];
        yajl_val t = j_get(v, "type");
        jp_key(p, path, "type");
        if (!t)
                return herr_set(err, 0, "%s: required", p);
        if (!YAJL_IS_STRING(t))
                return herr_set(err, 0, "%s: expected string", p);
        int type = oci_ns_type_from_name(t->u.string);
        if (type < 0)
                return herr_set(err, 0, "%s: unknown namespace type '%s'", p, t->u.string);
        ns->type = (enum oci_ns_type)type;
        return j_str(v, "path", path, &ns->path, err);
}

static int parse_device(yajl_val v, const char *path, void *elem, herr_t *err)
{
        struct oci_device *d = elem;
        if (j_str(v, "type", path, &d->type, err) < 0 ||
            j_str(v, "path", path, &d->path, err) < 0 ||
            j_ou64(v, "fileMode", path, 0777, &d->file_mode, err) < 0 ||
            j_ou64(v, "uid", path, U32_MAX_, &d->uid, err) < 0 ||
            j_ou64(v, "gid", path, U32_MAX_, &d->gid, err) < 0)
                return -1;
        /* major and minor are REQUIRED unless the type is "p". */
        bool need = !d->type || strcmp(d->type, "p") != 0;
        if ((need || j_get(v, "major")) && j_i64(v, "major", path, &d->major, err) < 0)
                return -1;
        if ((need || j_get(v, "minor")) && j_i64(v, "minor", path, &d->minor, err) < 0)
                return -1;
        return 0;
}

static int parse_net_device(const char *name, yajl_val v, const char *path, void *elem,
                            herr_t *err)
{
        struct oci_net_device *d = elem;
        if (!(d->host_name = strdup(name)))
                return herr_set(err, ENOMEM, "%s", path);
        return j_str(v, "name", path, &d->name, err);
}

static int parse_time_offset(yajl_val v, const char *path, struct oci_time_offset *t, herr_t *err)
{
        opt_i64 secs = { 0 };
        opt_u64 ns = { 0 };
        if (!YAJL_IS_OBJECT(v))
                return herr_set(err, 0, "%s: expected object", path);
        if (j_oi64(v, "secs", path, INT64_MIN, INT64_MAX, &secs, err) < 0 ||
            j_ou64(v, "nanosecs", path, U32_MAX_, &ns, err) < 0)
                return -1;
        t->set = true;
        t->secs = secs.v;
        t->nanosecs = (uint32_t)ns.v;
        return 0;
}

static int parse_time_offsets(yajl_val lin, struct oci_linux *l, herr_t *err)
{
        yajl_val o;
        char p[JPATH_MAX];
        if (j_obj(lin, "timeOffsets", "linux", &o, err) < 0)
                return -1;
        for (size_t i = 0; o && i < o->u.object.len; i++) {
                const char *k = o->u.object.keys[i];
                jp_key(p, "linux.timeOffsets", k);
                struct oci_time_offset *t = strcmp(k, "monotonic") == 0 ? &l->time_monotonic
                                          : strcmp(k, "boottime") == 0  ? &l->time_boottime
                                                                        : NULL;
                if (!t)
                        return herr_set(err, 0, "%s: unknown clock (expected monotonic or boottime)", p);
                if (parse_time_offset(o->u.object.values[i], p, t, err) < 0)
                        return -1;
        }
        return 0;
}

static int parse_intel_rdt(yajl_val lin, struct oci_linux *l, herr_t *err)
{
        yajl_val o;
        const char *path = "linux.intelRdt";
        if (j_obj(lin, "intelRdt", "linux", &o, err) < 0)
                return -1;
        if (!o)
                return 0;
        struct oci_intel_rdt *r = l->intel_rdt = calloc(1, sizeof *r);
        if (!r)
                return herr_set(err, ENOMEM, "%s", path);
        if (j_str(o, "closID", path, &r->clos_id, err) < 0 ||
            j_str(o, "l3CacheSchema", path, &r->l3_cache_schema, err) < 0 ||
            j_str(o, "memBwSchema", path, &r->mem_bw_schema, err) < 0 ||
            j_strv(o, "schemata", path, &r->schemata, &r->n_schemata, err) < 0 ||
            j_obool(o, "enableMonitoring", path, &r->enable_monitoring, err) < 0)
                return -1;
        return 0;
}

static int parse_personality(yajl_val lin, struct oci_linux *l, herr_t *err)
{
        yajl_val o;
        const char *path = "linux.personality";
        if (j_obj(lin, "personality", "linux", &o, err) < 0)
                return -1;
        if (!o)
                return 0;
        struct oci_personality *p = l->personality = calloc(1, sizeof *p);
        if (!p)
                return herr_set(err, ENOMEM, "%s", path);
        if (j_str(o, "domain", path, &p->domain, err) < 0 ||
            j_strv(o, "flags", path, &p->flags, &p->n_flags, err) < 0)
                return -1;
        return 0;
}

static int parse_memory_policy(yajl_val lin, struct oci_linux *l, herr_t *err)
{
        yajl_val o;
        const char *path = "linux.memoryPolicy";
        if (j_obj(lin, "memoryPolicy", "linux", &o, err) < 0)
                return -1;
        if (!o)
                return 0;
        struct oci_memory_policy *m = l->memory_policy = calloc(1, sizeof *m);
        if (!m)
                return herr_set(err, ENOMEM, "%s", path);
        if (j_str(o, "mode", path, &m->mode, err) < 0 ||
            j_str(o, "nodes", path, &m->nodes, err) < 0 ||
            j_strv(o, "flags", path, &m->flags, &m->n_flags, err) < 0)
                return -1;
        return 0;
}

static int parse_linux_lists(yajl_val o, struct oci_linux *l, herr_t *err)
{
        const char *path = "linux";
        if (j_objarr(o, "namespaces", path, sizeof *l->namespaces, (void **)&l->namespaces,
                     &l->n_namespaces, parse_namespace, err) < 0 ||
            j_objarr(o, "uidMappings", path, sizeof *l->uid_mappings, (void **)&l->uid_mappings,
                     &l->n_uid_mappings, cfg_parse_id_mapping, err) < 0 ||
            j_objarr(o, "gidMappings", path, sizeof *l->gid_mappings, (void **)&l->gid_mappings,
                     &l->n_gid_mappings, cfg_parse_id_mapping, err) < 0 ||
            j_objarr(o, "devices", path, sizeof *l->devices, (void **)&l->devices, &l->n_devices,
                     parse_device, err) < 0 ||
            j_objmap(o, "netDevices", path, sizeof *l->net_devices, (void **)&l->net_devices,
                     &l->n_net_devices, parse_net_device, err) < 0 ||
            j_map(o, "sysctl", path, &l->sysctl, &l->n_sysctl, err) < 0 ||
            j_strv(o, "maskedPaths", path, &l->masked_paths, &l->n_masked_paths, err) < 0 ||
            j_strv(o, "readonlyPaths", path, &l->readonly_paths, &l->n_readonly_paths, err) < 0)
                return -1;
        return 0;
}

int cfg_parse_linux(yajl_val root, struct oci_config *c, herr_t *err)
{
        yajl_val o;
        const char *path = "linux";
        if (j_obj(root, "linux", "", &o, err) < 0)
                return -1;
        if (!o)
                return 0;
        struct oci_linux *l = c->linux_ = calloc(1, sizeof *l);
        if (!l)
                return herr_set(err, ENOMEM, "linux");
        if (parse_linux_lists(o, l, err) < 0 ||
            parse_time_offsets(o, l, err) < 0 ||
            j_str(o, "cgroupsPath", path, &l->cgroups_path, err) < 0 ||
            cfg_parse_resources(o, path, &l->resources, err) < 0 ||
            parse_intel_rdt(o, l, err) < 0 ||
            cfg_parse_seccomp(o, path, &l->seccomp, err) < 0 ||
            j_str(o, "rootfsPropagation", path, &l->rootfs_propagation, err) < 0 ||
            j_str(o, "mountLabel", path, &l->mount_label, err) < 0 ||
            parse_personality(o, l, err) < 0 ||
            parse_memory_policy(o, l, err) < 0)
                return -1;
        return 0;
}
