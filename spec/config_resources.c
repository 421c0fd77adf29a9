/* config.json "linux.resources" -> struct oci_resources. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"

#define U16_MAX_ 65535u

static int parse_dev_cgroup(yajl_val v, const char *path, void *elem, herr_t *err)
{
        struct oci_device_cgroup *d = elem;
        char p[JPATH_MAX];
        if (!j_get(v, "allow")) {
                jp_key(p, path, "allow");
                return herr_set(err, 0, "%s: required", p);
        }
        if (j_bool(v, "allow", path, &d->allow, err) < 0 ||
            j_str(v, "type", path, &d->type, err) < 0 ||
            j_oi64(v, "major", path, INT64_MIN, INT64_MAX, &d->major, err) < 0 ||
            j_oi64(v, "minor", path, INT64_MIN, INT64_MAX, &d->minor, err) < 0 ||
            j_str(v, "access", path, &d->access, err) < 0)
                return -1;
        return 0;
}

static int parse_memory(yajl_val o, const char *path, struct oci_memory *m, herr_t *err)
{
        if (j_oi64(o, "limit", path, INT64_MIN, INT64_MAX, &m->limit, err) < 0 ||
            j_oi64(o, "reservation", path, INT64_MIN, INT64_MAX, &m->reservation, err) < 0 ||
            j_oi64(o, "swap", path, INT64_MIN, INT64_MAX, &m->swap, err) < 0 ||
            j_oi64(o, "kernel", path, INT64_MIN, INT64_MAX, &m->kernel, err) < 0 ||
            j_oi64(o, "kernelTCP", path, INT64_MIN, INT64_MAX, &m->kernel_tcp, err) < 0 ||
            j_ou64(o, "swappiness", path, UINT64_MAX, &m->swappiness, err) < 0 ||
            j_obool(o, "disableOOMKiller", path, &m->disable_oom_killer, err) < 0 ||
            j_obool(o, "useHierarchy", path, &m->use_hierarchy, err) < 0 ||
            j_obool(o, "checkBeforeUpdate", path, &m->check_before_update, err) < 0)
                return -1;
        return 0;
}

static int parse_cpu(yajl_val o, const char *path, struct oci_cpu *c, herr_t *err)
{
        if (j_ou64(o, "shares", path, UINT64_MAX, &c->shares, err) < 0 ||
            j_oi64(o, "quota", path, INT64_MIN, INT64_MAX, &c->quota, err) < 0 ||
            j_ou64(o, "burst", path, UINT64_MAX, &c->burst, err) < 0 ||
            j_ou64(o, "period", path, UINT64_MAX, &c->period, err) < 0 ||
            j_oi64(o, "realtimeRuntime", path, INT64_MIN, INT64_MAX, &c->realtime_runtime, err) < 0 ||
            j_ou64(o, "realtimePeriod", path, UINT64_MAX, &c->realtime_period, err) < 0 ||
            j_str(o, "cpus", path, &c->cpus, err) < 0 ||
            j_str(o, "mems", path, &c->mems, err) < 0 ||
            j_oi64(o, "idle", path, INT64_MIN, INT64_MAX, &c->idle, err) < 0)
                return -1;
        return 0;
}

static int parse_weight_dev(yajl_val v, const char *path, void *elem, herr_t *err)
{
        struct oci_weight_device *d = elem;
        if (j_i64(v, "major", path, &d->major, err) < 0 ||
            j_i64(v, "minor", path, &d->minor, err) < 0 ||
            j_ou64(v, "weight", path, U16_MAX_, &d->weight, err) < 0 ||
            j_ou64(v, "leafWeight", path, U16_MAX_, &d->leaf_weight, err) < 0)
                return -1;
        return 0;
}

static int parse_throttle_dev(yajl_val v, const char *path, void *elem, herr_t *err)
{
        struct oci_throttle_device *d = elem;
        if (j_i64(v, "major", path, &d->major, err) < 0 ||
            j_i64(v, "minor", path, &d->minor, err) < 0 ||
            j_u64(v, "rate", path, UINT64_MAX, &d->rate, err) < 0)
                return -1;
        return 0;
}

static int parse_block_io(yajl_val o, const char *path, struct oci_block_io *b, herr_t *err)
{
        if (j_ou64(o, "weight", path, U16_MAX_, &b->weight, err) < 0 ||
            j_ou64(o, "leafWeight", path, U16_MAX_, &b->leaf_weight, err) < 0 ||
            j_objarr(o, "weightDevice", path, sizeof *b->weight_device, (void **)&b->weight_device,
                     &b->n_weight_device, parse_weight_dev, err) < 0)
                return -1;
        static const char *const keys[] = { "throttleReadBpsDevice", "throttleWriteBpsDevice",
                                            "throttleReadIOPSDevice", "throttleWriteIOPSDevice" };
        struct oci_throttle_device **lists[] = { &b->throttle_read_bps, &b->throttle_write_bps,
                                                 &b->throttle_read_iops, &b->throttle_write_iops };
        size_t *counts[] = { &b->n_throttle_read_bps, &b->n_throttle_write_bps,
                             &b->n_throttle_read_iops, &b->n_throttle_write_iops };
        for (size_t i = 0; i < 4; i++)
                if (j_objarr(o, keys[i], path, sizeof(struct oci_throttle_device),
                             (void **)lists[i], counts[i], parse_throttle_dev, err) < 0)
                        return -1;
        return 0;
}

static int parse_hugepage(yajl_val v, const char *path, void *elem, herr_t *err)
{
        struct oci_hugepage_limit *h = elem;
        char p[JPATH_MAX];
        if (j_str(v, "pageSize", path, &h->page_size, err) < 0)
                return -1;
        if (!h->page_size) {
                jp_key(p, path, "pageSize");
                return herr_set(err, 0, "%s: required", p);
        }
        return j_u64(v, "limit", path, UINT64_MAX, &h->limit, err);
}

static int parse_net_prio(yajl_val v, const char *path, void *elem, herr_t *err)
{
        struct oci_net_priority *n = elem;
        char p[JPATH_MAX];
        if (j_str(v, "name", path, &n->name, err) < 0)
                return -1;
        if (!n->name) {
                jp_key(p, path, "name");
                return herr_set(err, 0, "%s: required", p);
        }
        return j_u32(v, "priority", path, &n->priority, err);
}

static int parse_rdma(const char *name, yajl_val v, const char *path, void *elem, herr_t *err)
{
        struct oci_rdma *r = elem;
        if (!(r->device = strdup(name)))
                return herr_set(err, ENOMEM, "%s", path);
        if (j_ou64(v, "hcaHandles", path, U32_MAX_, &r->hca_handles, err) < 0 ||
            j_ou64(v, "hcaObjects", path, U32_MAX_, &r->hca_objects, err) < 0)
                return -1;
        return 0;
}

/* Allocate *dst and parse the sub-object key of o into it. */
#define SUBOBJ(o, key, rp, dst, fn, err)                                             \
        ({                                                                           \
                yajl_val s_;                                                         \
                char sp_[JPATH_MAX];                                                 \
                jp_key(sp_, rp, key);                                                \
                int r_ = j_obj(o, key, rp, &s_, err);                                \
                if (r_ == 0 && s_) {                                                 \
                        if (!((dst) = calloc(1, sizeof *(dst))))                     \
                                r_ = herr_set(err, ENOMEM, "%s", sp_);               \
                        else                                                         \
                                r_ = fn(s_, sp_, (dst), err);                        \
                }                                                                    \
                r_;                                                                  \
        })

static int parse_pids(yajl_val o, const char *path, struct oci_pids *p, herr_t *err)
{
        return j_i64(o, "limit", path, &p->limit, err);
}

static int parse_network(yajl_val o, const char *path, struct oci_network *n, herr_t *err)
{
        if (j_ou64(o, "classID", path, U32_MAX_, &n->class_id, err) < 0 ||
            j_objarr(o, "priorities", path, sizeof *n->priorities, (void **)&n->priorities,
                     &n->n_priorities, parse_net_prio, err) < 0)
                return -1;
        return 0;
}

static int parse_res(yajl_val o, const char *rp, struct oci_resources *r, herr_t *err)
{
        if (j_objarr(o, "devices", rp, sizeof *r->devices, (void **)&r->devices, &r->n_devices,
                     parse_dev_cgroup, err) < 0 ||
            SUBOBJ(o, "memory", rp, r->memory, parse_memory, err) < 0 ||
            SUBOBJ(o, "cpu", rp, r->cpu, parse_cpu, err) < 0 ||
            SUBOBJ(o, "pids", rp, r->pids, parse_pids, err) < 0 ||
            SUBOBJ(o, "blockIO", rp, r->block_io, parse_block_io, err) < 0 ||
            j_objarr(o, "hugepageLimits", rp, sizeof *r->hugepage_limits,
                     (void **)&r->hugepage_limits, &r->n_hugepage_limits, parse_hugepage, err) < 0 ||
            SUBOBJ(o, "network", rp, r->network, parse_network, err) < 0 ||
            j_objmap(o, "rdma", rp, sizeof *r->rdma, (void **)&r->rdma, &r->n_rdma, parse_rdma,
                     err) < 0 ||
            j_map(o, "unified", rp, &r->unified, &r->n_unified, err) < 0)
                return -1;
        return 0;
}

int cfg_parse_resources(yajl_val lin, const char *path, struct oci_resources **out, herr_t *err)
{
        return SUBOBJ(lin, "resources", path, *out, parse_res, err);
}
