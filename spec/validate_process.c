/* Validation of "process": capabilities, rlimits, scheduler, I/O priority,
 * CPU affinity (config.md, POSIX process). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/capability.h>

#include "config_priv.h"
#include "../common/cpulist.h"

static const char *const rlimit_names[] = {
        "RLIMIT_AS",     "RLIMIT_CORE",   "RLIMIT_CPU",    "RLIMIT_DATA",
        "RLIMIT_FSIZE",  "RLIMIT_LOCKS",  "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE",
        "RLIMIT_NICE",   "RLIMIT_NOFILE", "RLIMIT_NPROC",  "RLIMIT_RSS",
        "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK",
        NULL,
};

static const char *const sched_policies[] = {
        "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH",
        "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE", NULL,
};

static const char *const sched_flags[] = {
        "SCHED_FLAG_RESET_ON_FORK",  "SCHED_FLAG_RECLAIM",        "SCHED_FLAG_DL_OVERRUN",
        "SCHED_FLAG_KEEP_POLICY",    "SCHED_FLAG_KEEP_PARAMS",    "SCHED_FLAG_UTIL_CLAMP_MIN",
        "SCHED_FLAG_UTIL_CLAMP_MAX", NULL,
};

static const char *const ioprio_classes[] = {
        "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE", NULL,
};

/* "CAP_" followed by a name libcap knows. cap_from_name() alone also takes
 * numbers and lower case; the spec uses the upper-case CAP_ names. */
static bool cap_name_valid(const char *name)
{
        cap_value_t v;
        if (strncmp(name, "CAP_", 4) != 0 || !name[4])
                return false;
        for (const char *p = name + 4; *p; p++)
                if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return false;
        return cap_from_name(name, &v) == 0;
}

static int validate_cap_set(char **set, size_t n, const char *name, herr_t *err)
{
        for (size_t i = 0; i < n; i++)
                if (!cap_name_valid(set[i]))
                        return herr_set(err, 0, "process.capabilities.%s[%zu]: unknown capability '%s'",
                                        name, i, set[i]);
        return 0;
}

static int validate_caps(const struct oci_capabilities *c, herr_t *err)
{
        if (!c)
                return 0;
        if (validate_cap_set(c->bounding, c->n_bounding, "bounding", err) < 0 ||
            validate_cap_set(c->effective, c->n_effective, "effective", err) < 0 ||
            validate_cap_set(c->inheritable, c->n_inheritable, "inheritable", err) < 0 ||
            validate_cap_set(c->permitted, c->n_permitted, "permitted", err) < 0 ||
            validate_cap_set(c->ambient, c->n_ambient, "ambient", err) < 0)
                return -1;
        return 0;
}

static int validate_rlimits(const struct oci_process *p, herr_t *err)
{
        for (size_t i = 0; i < p->n_rlimits; i++) {
                const struct oci_rlimit *r = &p->rlimits[i];
                if (!r->type)
                        return herr_set(err, 0, "process.rlimits[%zu].type: required", i);
                if (cfg_lookup(rlimit_names, r->type) < 0)
                        return herr_set(err, 0, "process.rlimits[%zu].type: unknown rlimit '%s'",
                                        i, r->type);
                for (size_t j = 0; j < i; j++)
                        if (strcmp(p->rlimits[j].type, r->type) == 0)
                                return herr_set(err, 0, "process.rlimits[%zu].type: duplicate rlimit '%s'",
                                                i, r->type);
                if (r->soft > r->hard)
                        return herr_set(err, 0, "process.rlimits[%zu]: soft limit %llu exceeds hard limit %llu",
                                        i, (unsigned long long)r->soft, (unsigned long long)r->hard);
        }
        return 0;
}

static int validate_scheduler(const struct oci_scheduler *s, herr_t *err)
{
        if (!s)
                return 0;
        if (!s->policy)
                return herr_set(err, 0, "process.scheduler.policy: required");
        if (cfg_lookup(sched_policies, s->policy) < 0)
                return herr_set(err, 0, "process.scheduler.policy: unknown policy '%s'", s->policy);
        for (size_t i = 0; i < s->n_flags; i++)
                if (cfg_lookup(sched_flags, s->flags[i]) < 0)
                        return herr_set(err, 0, "process.scheduler.flags[%zu]: unknown flag '%s'",
                                        i, s->flags[i]);
        return 0;
}

static int validate_io_priority(const struct oci_io_priority *io, herr_t *err)
{
        if (!io)
                return 0;
        if (!io->class_)
                return herr_set(err, 0, "process.ioPriority.class: required");
        if (cfg_lookup(ioprio_classes, io->class_) < 0)
                return herr_set(err, 0, "process.ioPriority.class: unknown class '%s'", io->class_);
        if (io->priority < 0 || io->priority > 7)
                return herr_set(err, 0, "process.ioPriority.priority: %lld out of range (0..7)",
                                (long long)io->priority);
        return 0;
}

static int validate_cpu_list(const char *s, const char *path, herr_t *err)
{
        if (s && *s && cpulist_parse(s, NULL) < 0)
                return herr_set(err, 0, "%s: '%s' is not a CPU list like 0-3,7%s", path, s,
                                errno == ERANGE ? " (CPU number too large)" : "");
        return 0;
}

int cfg_validate_process(const struct oci_process *p, herr_t *err)
{
        if (!p->cwd)
                return herr_set(err, 0, "process.cwd: required");
        if (validate_caps(p->capabilities, err) < 0 || validate_rlimits(p, err) < 0 ||
            validate_scheduler(p->scheduler, err) < 0 || validate_io_priority(p->io_priority, err) < 0)
                return -1;
        if (p->exec_cpu_affinity &&
            (validate_cpu_list(p->exec_cpu_affinity->initial, "process.execCPUAffinity.initial", err) < 0 ||
             validate_cpu_list(p->exec_cpu_affinity->final, "process.execCPUAffinity.final", err) < 0))
                return -1;
        return 0;
}
