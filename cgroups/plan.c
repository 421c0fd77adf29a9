/* cgroups/plan.c: linux.resources -> cgroup v2 file writes (pure), and
 * applying such a plan to a directory. See cgroups.h for the mapping. */
#include "cgroups.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cpulist.h"
#include "../common/cleanup.h"
#include "internal.h"
#include "../common/fileutil.h"

#define R "linux.resources."

static int add(struct cg_plan *p, herr_t *err, unsigned flags, const char *field,
               const char *file, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int add(struct cg_plan *p, herr_t *err, unsigned flags, const char *field,
               const char *file, const char *fmt, ...)
{
        struct cg_write *nw = realloc(p->w, (p->n + 1) * sizeof *nw);
        if (!nw)
                return herr_set(err, ENOMEM, "cgroup plan");
        p->w = nw;
        struct cg_write *w = &p->w[p->n];
        memset(w, 0, sizeof *w);
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&w->value, fmt, ap);
        va_end(ap);
        w->file = strdup(file);
        w->field = strdup(field);
        w->flags = flags;
        p->n++;
        if (r < 0)
                w->value = NULL;
        if (!w->value || !w->file || !w->field)
                return herr_set(err, ENOMEM, "cgroup plan");
        return 0;
}

void cg_plan_free(struct cg_plan *p)
{
        for (size_t i = 0; i < p->n; i++) {
                free(p->w[i].file);
                free(p->w[i].value);
                free(p->w[i].field);
        }
        free(p->w);
        p->w = NULL;
        p->n = 0;
}

/* ------------------------------------------------------------ memory */

/* A byte limit: -1 is "max", other negatives are errors. */
static int mem_value(const char *field, int64_t v, char *buf, size_t size, herr_t *err)
{
        if (v == -1) {
                snprintf(buf, size, "max");
                return 0;
        }
        if (v < 0)
                return cg_fail(err, EINVAL, R "memory.%s: %" PRId64 " is negative (-1 means unlimited)",
                                field, v);
        snprintf(buf, size, "%" PRId64, v);
        return 0;
}

static int plan_swap(struct cg_plan *p, const struct oci_memory *m, herr_t *err)
{
        int64_t swap = m->swap.v;
        if (swap == -1)
                return add(p, err, 0, R "memory.swap", "memory.swap.max", "max");
        if (swap < 0)
                return cg_fail(err, EINVAL, R "memory.swap: %" PRId64 " is negative (-1 means unlimited)",
                                swap);
        if (!m->limit.set || m->limit.v == -1)
                return cg_fail(err, EINVAL, R "memory.swap: a swap limit needs a memory limit "
                                "(OCI swap counts memory+swap)");
        if (swap < m->limit.v)
                return cg_fail(err, EINVAL, R "memory.swap: %" PRId64 " is below memory.limit %" PRId64
                                " (OCI swap counts memory+swap)", swap, m->limit.v);
        return add(p, err, 0, R "memory.swap", "memory.swap.max", "%" PRId64, swap - m->limit.v);
}

static int plan_memory(struct cg_plan *p, const struct oci_memory *m, herr_t *err)
{
        char v[32];
        if (m->kernel.set && m->kernel.v > 0)
                return cg_fail(err, EINVAL, R "memory.kernel: cgroup v2 has no separate kernel memory limit");
        if (m->kernel_tcp.set && m->kernel_tcp.v > 0)
                return cg_fail(err, EINVAL, R "memory.kernelTCP: cgroup v2 has no kernel TCP memory limit");
        if (m->swappiness.set)
                return cg_fail(err, EINVAL, R "memory.swappiness: cgroup v2 has no per-cgroup swappiness");
        if (m->disable_oom_killer.set && m->disable_oom_killer.v)
                return cg_fail(err, EINVAL, R "memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer");
        if (m->limit.set) {
                if (mem_value("limit", m->limit.v, v, sizeof v, err) < 0)
                        return -1;
                if (add(p, err, 0, R "memory.limit", "memory.max", "%s", v) < 0)
                        return -1;
        }
        if (m->reservation.set) {
                if (mem_value("reservation", m->reservation.v, v, sizeof v, err) < 0)
                        return -1;
                if (add(p, err, 0, R "memory.reservation", "memory.low", "%s", v) < 0)
                        return -1;
        }
        if (m->swap.set && plan_swap(p, m, err) < 0)
                return -1;
        return 0;
}

/* --------------------------------------------------------------- cpu */

/* "0-3,7": numbers and ascending ranges separated by single commas. */
static int plan_cpu_max(struct cg_plan *p, const struct oci_cpu *c, herr_t *err)
{
        uint64_t period = 100000;
        if (c->period.set && c->period.v != 0) {
                period = c->period.v;
                if (period < 1000 || period > 1000000)
                        return cg_fail(err, EINVAL, R "cpu.period: %" PRIu64
                                        " is outside 1000..1000000 microseconds", period);
        }
        bool quota = c->quota.set && c->quota.v != 0 && c->quota.v != -1;
        if (quota && c->quota.v < 1000)
                return cg_fail(err, EINVAL, R "cpu.quota: %" PRId64
                                " is below 1000 microseconds (-1 means unlimited)", c->quota.v);
        if (quota)
                return add(p, err, 0, R "cpu.quota", "cpu.max", "%" PRId64 " %" PRIu64, c->quota.v, period);
        return add(p, err, 0, R "cpu.quota", "cpu.max", "max %" PRIu64, period);
}

static int plan_cpu(struct cg_plan *p, const struct oci_cpu *c, herr_t *err)
{
        if ((c->realtime_runtime.set && c->realtime_runtime.v != 0) ||
            (c->realtime_period.set && c->realtime_period.v != 0))
                return cg_fail(err, EINVAL, R "cpu.realtimeRuntime/realtimePeriod: cgroup v2 has no "
                                "realtime group scheduling");
        if (c->shares.set && c->shares.v != 0) {
                uint64_t s = c->shares.v;
                if (s < 2 || s > 262144)
                        return cg_fail(err, EINVAL, R "cpu.shares: %" PRIu64 " is outside 2..262144", s);
                if (add(p, err, 0, R "cpu.shares", "cpu.weight", "%" PRIu64, 1 + ((s - 2) * 9999) / 262142) < 0)
                        return -1;
        }
        if ((c->quota.set || (c->period.set && c->period.v != 0)) && plan_cpu_max(p, c, err) < 0)
                return -1;
        if (c->burst.set) {
                if (c->quota.set && c->quota.v > 0 && c->burst.v > (uint64_t)c->quota.v)
                        return cg_fail(err, EINVAL, R "cpu.burst: %" PRIu64 " is larger than quota %" PRId64,
                                        c->burst.v, c->quota.v);
                if (add(p, err, 0, R "cpu.burst", "cpu.max.burst", "%" PRIu64, c->burst.v) < 0)
                        return -1;
        }
        if (c->idle.set) {
                if (c->idle.v != 0 && c->idle.v != 1)
                        return cg_fail(err, EINVAL, R "cpu.idle: %" PRId64 " is neither 0 nor 1", c->idle.v);
                if (add(p, err, 0, R "cpu.idle", "cpu.idle", "%" PRId64, c->idle.v) < 0)
                        return -1;
        }
        if (c->cpus && *c->cpus) {
                if (cpulist_parse(c->cpus, NULL) < 0)
                        return cg_fail(err, EINVAL, R "cpu.cpus: '%s' is not a list like 0-3,7", c->cpus);
                if (add(p, err, 0, R "cpu.cpus", "cpuset.cpus", "%s", c->cpus) < 0)
                        return -1;
        }
        if (c->mems && *c->mems) {
                if (cpulist_parse(c->mems, NULL) < 0)
                        return cg_fail(err, EINVAL, R "cpu.mems: '%s' is not a list like 0-3,7", c->mems);
                if (add(p, err, 0, R "cpu.mems", "cpuset.mems", "%s", c->mems) < 0)
                        return -1;
        }
        return 0;
}

/* ---------------------------------------------------------- block io */

static uint64_t blkio_to_io_weight(uint64_t w)
{
        return 1 + (w - 10) * 9999 / 990;
}

static int check_weight(const char *field, uint64_t w, herr_t *err)
{
        if (w < 10 || w > 1000)
                return cg_fail(err, EINVAL, R "blockIO.%s: %" PRIu64 " is outside 10..1000", field, w);
        return 0;
}

static int check_dev(const char *field, int64_t major, int64_t minor, herr_t *err)
{
        if (major < 0 || minor < 0 || major > 0xfff || minor > 0xfffff)
                return cg_fail(err, EINVAL, R "blockIO.%s: device %" PRId64 ":%" PRId64 " is not valid",
                                field, major, minor);
        return 0;
}

static int plan_io_weights(struct cg_plan *p, const struct oci_block_io *b, herr_t *err)
{
        if (b->leaf_weight.set)
                return cg_fail(err, EINVAL, R "blockIO.leafWeight: cgroup v2 has no leaf weight");
        if (b->weight.set && b->weight.v != 0) {
                if (check_weight("weight", b->weight.v, err) < 0)
                        return -1;
                if (add(p, err, 0, R "blockIO.weight", "io.weight", "default %" PRIu64,
                        blkio_to_io_weight(b->weight.v)) < 0 ||
                    add(p, err, CG_W_OPTIONAL, R "blockIO.weight", "io.bfq.weight", "%" PRIu64, b->weight.v) < 0)
                        return -1;
        }
        for (size_t i = 0; i < b->n_weight_device; i++) {
                const struct oci_weight_device *d = &b->weight_device[i];
                if (d->leaf_weight.set)
                        return cg_fail(err, EINVAL, R "blockIO.weightDevice[%zu].leafWeight: cgroup v2 has no "
                                        "leaf weight", i);
                if (check_dev("weightDevice", d->major, d->minor, err) < 0)
                        return -1;
                if (!d->weight.set)
                        continue;
                if (check_weight("weightDevice.weight", d->weight.v, err) < 0)
                        return -1;
                if (add(p, err, 0, R "blockIO.weightDevice", "io.weight", "%" PRId64 ":%" PRId64 " %" PRIu64,
                        d->major, d->minor, blkio_to_io_weight(d->weight.v)) < 0 ||
                    add(p, err, CG_W_OPTIONAL, R "blockIO.weightDevice", "io.bfq.weight",
                        "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor, d->weight.v) < 0)
                        return -1;
        }
        return 0;
}

/* One io.max line per device: all four throttles of that device. */
struct io_max {
        int64_t major, minor;
        uint64_t v[4];
        bool set[4];
};

static const char *const io_keys[4] = {"rbps", "wbps", "riops", "wiops"};

static int collect_throttle(struct io_max *devs, size_t *n, size_t cap, int k,
                            const struct oci_throttle_device *t, size_t nt, herr_t *err)
{
        static const char *const names[4] = {"throttleReadBpsDevice", "throttleWriteBpsDevice",
                                             "throttleReadIOPSDevice", "throttleWriteIOPSDevice"};
        for (size_t i = 0; i < nt; i++) {
                if (check_dev(names[k], t[i].major, t[i].minor, err) < 0)
                        return -1;
                size_t j = 0;
                while (j < *n && !(devs[j].major == t[i].major && devs[j].minor == t[i].minor))
                        j++;
                if (j == *n) {
                        if (*n == cap)
                                return cg_fail(err, E2BIG, R "blockIO: too many devices");
                        memset(&devs[j], 0, sizeof devs[j]);
                        devs[j].major = t[i].major;
                        devs[j].minor = t[i].minor;
                        (*n)++;
                }
                devs[j].v[k] = t[i].rate;
                devs[j].set[k] = true;
        }
        return 0;
}

static int plan_io_max(struct cg_plan *p, const struct oci_block_io *b, herr_t *err)
{
        size_t cap = b->n_throttle_read_bps + b->n_throttle_write_bps + b->n_throttle_read_iops +
                     b->n_throttle_write_iops, n = 0;
        if (cap == 0)
                return 0;
        _cleanup_free_ struct io_max *devs = calloc(cap, sizeof *devs);
        if (!devs)
                return herr_set(err, ENOMEM, "cgroup plan");
        if (collect_throttle(devs, &n, cap, 0, b->throttle_read_bps, b->n_throttle_read_bps, err) < 0 ||
            collect_throttle(devs, &n, cap, 1, b->throttle_write_bps, b->n_throttle_write_bps, err) < 0 ||
            collect_throttle(devs, &n, cap, 2, b->throttle_read_iops, b->n_throttle_read_iops, err) < 0 ||
            collect_throttle(devs, &n, cap, 3, b->throttle_write_iops, b->n_throttle_write_iops, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                char line[256];
                int len = snprintf(line, sizeof line, "%" PRId64 ":%" PRId64, devs[i].major, devs[i].minor);
                for (int k = 0; k < 4; k++) {
                        if (!devs[i].set[k])
                                continue;
                        if (devs[i].v[k] == 0)
                                len += snprintf(line + len, sizeof line - len, " %s=max", io_keys[k]);
                        else
                                len += snprintf(line + len, sizeof line - len, " %s=%" PRIu64, io_keys[k],
                                                devs[i].v[k]);
                }
                if (add(p, err, 0, R "blockIO.throttle", "io.max", "%s", line) < 0)
                        return -1;
        }
        return 0;
}

/* ------------------------------------------------- hugetlb, rdma, ... */

static bool valid_page_size(const char *s)
{
        size_t n = strspn(s, "0123456789");
        return n > 0 && s[0] != '0' && (!strcmp(s + n, "KB") || !strcmp(s + n, "MB") || !strcmp(s + n, "GB"));
}

static int plan_hugetlb(struct cg_plan *p, const struct oci_resources *r, herr_t *err)
{
        for (size_t i = 0; i < r->n_hugepage_limits; i++) {
                const struct oci_hugepage_limit *h = &r->hugepage_limits[i];
                if (!h->page_size || !valid_page_size(h->page_size))
                        return cg_fail(err, EINVAL, R "hugepageLimits[%zu].pageSize: '%s' is not like 2MB or 1GB",
                                        i, h->page_size ? h->page_size : "");
                char file[64];
                snprintf(file, sizeof file, "hugetlb.%s.max", h->page_size);
                if (add(p, err, 0, R "hugepageLimits", file, "%" PRIu64, h->limit) < 0)
                        return -1;
                snprintf(file, sizeof file, "hugetlb.%s.rsvd.max", h->page_size);
                if (add(p, err, CG_W_OPTIONAL, R "hugepageLimits", file, "%" PRIu64, h->limit) < 0)
                        return -1;
        }
        return 0;
}

static int plan_rdma(struct cg_plan *p, const struct oci_resources *r, herr_t *err)
{
        for (size_t i = 0; i < r->n_rdma; i++) {
                const struct oci_rdma *d = &r->rdma[i];
                if (!d->device || !*d->device || strpbrk(d->device, " \t\n=/"))
                        return cg_fail(err, EINVAL, R "rdma: device name '%s' is not valid",
                                        d->device ? d->device : "");
                if (!d->hca_handles.set && !d->hca_objects.set)
                        return cg_fail(err, EINVAL, R "rdma.%s: needs hcaHandles or hcaObjects", d->device);
                if ((d->hca_handles.set && d->hca_handles.v > UINT32_MAX) ||
                    (d->hca_objects.set && d->hca_objects.v > UINT32_MAX))
                        return cg_fail(err, EINVAL, R "rdma.%s: limits are uint32", d->device);
                char h[40] = "", o[40] = "";
                if (d->hca_handles.set)
                        snprintf(h, sizeof h, " hca_handle=%" PRIu64, d->hca_handles.v);
                if (d->hca_objects.set)
                        snprintf(o, sizeof o, " hca_object=%" PRIu64, d->hca_objects.v);
                if (add(p, err, 0, R "rdma", "rdma.max", "%s%s%s", d->device, h, o) < 0)
                        return -1;
        }
        return 0;
}

static const char *const cgroup_core_allowed[] = {"cgroup.max.depth", "cgroup.max.descendants",
                                                  "cgroup.pressure"};

static int check_unified_key(const char *k, herr_t *err)
{
        const char *dot = k ? strchr(k, '.') : NULL;
        if (!k || !dot || dot == k || !dot[1] || strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(k) ||
            strstr(k, ".."))
                return cg_fail(err, EINVAL, R "unified: key '%s' is not a cgroup file name "
                                "like memory.high", k ? k : "");
        if (!strncmp(k, "cgroup.", 7)) {
                for (size_t i = 0; i < ARRAY_SIZE(cgroup_core_allowed); i++)
                        if (!strcmp(k, cgroup_core_allowed[i]))
                                return 0;
                return cg_fail(err, EPERM, R "unified: key '%s' is managed by husk and cannot be set", k);
        }
        return 0;
}

static int plan_unified(struct cg_plan *p, const struct oci_resources *r, herr_t *err)
{
        for (size_t i = 0; i < r->n_unified; i++) {
                const struct oci_kv *kv = &r->unified[i];
                if (check_unified_key(kv->key, err) < 0)
                        return -1;
                char field[128];
                snprintf(field, sizeof field, R "unified.%s", kv->key);
                if (add(p, err, 0, field, kv->key, "%s", kv->value ? kv->value : "") < 0)
                        return -1;
        }
        return 0;
}

int cg_plan(const struct oci_resources *r, struct cg_plan *plan, herr_t *err)
{
        plan->w = NULL;
        plan->n = 0;
        if (!r)
                return 0;
        if (r->network && (r->network->class_id.set || r->network->n_priorities))
                return cg_fail(err, EINVAL, R "network: classID/priorities are cgroup v1 only");
        int rc = 0;
        if (r->memory)
                rc = plan_memory(plan, r->memory, err);
        if (rc == 0 && r->cpu)
                rc = plan_cpu(plan, r->cpu, err);
        if (rc == 0 && r->pids) {
                if (r->pids->limit < -1)
                        rc = cg_fail(err, EINVAL, R "pids.limit: %" PRId64 " is negative (-1 means unlimited)",
                                      r->pids->limit);
                else if (r->pids->limit == -1)
                        rc = add(plan, err, 0, R "pids.limit", "pids.max", "max");
                else
                        rc = add(plan, err, 0, R "pids.limit", "pids.max", "%" PRId64, r->pids->limit);
        }
        if (rc == 0 && r->block_io)
                rc = plan_io_weights(plan, r->block_io, err) < 0 ? -1 : plan_io_max(plan, r->block_io, err);
        if (rc == 0)
                rc = plan_hugetlb(plan, r, err);
        if (rc == 0)
                rc = plan_rdma(plan, r, err);
        if (rc == 0)
                rc = plan_unified(plan, r, err);
        if (rc < 0)
                cg_plan_free(plan);
        return rc;
}

/* ------------------------------------------------------------- apply */

void cg_file_controller(const char *file, char *buf, size_t size)
{
        size_t n = strcspn(file, ".");
        if (n >= size)
                n = size - 1;
        memcpy(buf, file, n);
        buf[n] = '\0';
        if (!strcmp(buf, "cgroup"))
                buf[0] = '\0';
}

static bool word_in(const char *list, const char *w)
{
        size_t n = strlen(w);
        for (const char *p = list; (p = strstr(p, w)); p += n)
                if ((p == list || p[-1] == ' ' || p[-1] == '\n') && (p[n] == ' ' || p[n] == '\n' || !p[n]))
                        return true;
        return false;
}

int cg_plan_check(const struct cg_plan *plan, const char *offered, herr_t *err)
{
        for (size_t i = 0; i < plan->n; i++) {
                char c[64];
                cg_file_controller(plan->w[i].file, c, sizeof c);
                if (!offered) {   /* no v2 hierarchy at all */
                        if (*c)
                                return cg_fail(err, ENOTSUP, "%s: cgroup v2 controller '%s' is not available "
                                                "(this host has no cgroup v2 hierarchy)", plan->w[i].field, c);
                        return cg_fail(err, ENOTSUP, "%s: %s needs a cgroup v2 hierarchy (this host has "
                                        "none)", plan->w[i].field, plan->w[i].file);
                }
                if (!*c || word_in(offered, c))
                        continue;
                _cleanup_free_ char *o = strdup(offered);
                if (o) {
                        o[strcspn(o, "\n")] = '\0';
                }
                return cg_fail(err, ENOTSUP, "%s: cgroup v2 controller '%s' is not available "
                                "(this host offers: %s)", plan->w[i].field, c, o && *o ? o : "none");
        }
        return 0;
}

/* One write() per line: the kernel parses a single line per write in
 * files like io.max or rdma.max ("259:0 rbps=1\n253:0 wiops=2"). */
static int write_lines(int fd, const char *v)
{
        if (!*v)
                return write_all(fd, v, 0);
        for (const char *l = v; *l;) {
                size_t n = strcspn(l, "\n");
                if (l[n] == '\n')
                        n++;
                if (write_all(fd, l, n) < 0)
                        return -1;
                l += n;
        }
        return 0;
}

int cg_plan_apply(const struct cg_plan *plan, const char *dir, herr_t *err)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return herr_sys(err, "cgroup %s", dir);
        for (size_t i = 0; i < plan->n; i++) {
                const struct cg_write *w = &plan->w[i];
                _cleanup_close_ int fd = openat(dfd, w->file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0 && errno == ENOENT && (w->flags & CG_W_OPTIONAL))
                        continue;
                if (fd < 0 && errno == ENOENT)
                        return cg_fail(err, ENOENT, "%s: %s/%s does not exist (not supported by this kernel "
                                        "or controller not enabled)", w->field, dir, w->file);
                if (fd < 0)
                        return herr_sys(err, "%s: open %s/%s", w->field, dir, w->file);
                if (write_lines(fd, w->value) < 0)
                        return herr_sys(err, "%s: write '%s' to %s/%s", w->field, w->value, dir, w->file);
        }
        return 0;
}

int cg_check_available(const struct oci_resources *res, herr_t *err)
{
        struct cg_plan plan;
        if (cg_plan(res, &plan, err) < 0)
                return -1;
        _cleanup_free_ char *offered = NULL;
        int rc = 0;
        if (plan.n && cg_root())
                rc = cg_root_controllers(&offered, err);
        if (rc == 0)
                rc = cg_plan_check(&plan, offered, err);
        cg_plan_free(&plan);
        return rc;
}
