#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/capability.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"

static const struct {
        const char *name;
        int resource;
} rlimit_names[] = {
        { "RLIMIT_AS", RLIMIT_AS },         { "RLIMIT_CORE", RLIMIT_CORE },
        { "RLIMIT_CPU", RLIMIT_CPU },       { "RLIMIT_DATA", RLIMIT_DATA },
        { "RLIMIT_FSIZE", RLIMIT_FSIZE },   { "RLIMIT_LOCKS", RLIMIT_LOCKS },
        { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
        { "RLIMIT_NICE", RLIMIT_NICE },     { "RLIMIT_NOFILE", RLIMIT_NOFILE },
        { "RLIMIT_NPROC", RLIMIT_NPROC },   { "RLIMIT_RSS", RLIMIT_RSS },
        { "RLIMIT_RTPRIO", RLIMIT_RTPRIO }, { "RLIMIT_RTTIME", RLIMIT_RTTIME },
        { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

static int set_rlimits(const struct oci_process *p, herr_t *err)
{
        for (size_t i = 0; i < p->n_rlimits; i++) {
                const struct oci_rlimit *r = &p->rlimits[i];
                int res = -1;
                for (size_t j = 0; j < ARRAY_SIZE(rlimit_names); j++)
                        if (!strcmp(rlimit_names[j].name, r->type))
                                res = rlimit_names[j].resource;
                if (res < 0)
                        return herr_set(err, 0, "process.rlimits[%zu]: unknown type '%s'", i, r->type);
                struct rlimit rl = { .rlim_cur = r->soft, .rlim_max = r->hard };
                if (setrlimit(res, &rl) == 0)
                        continue;
                int e = errno;
                struct rlimit cur;
                getrlimit(res, &cur);
                if (e == EPERM && r->hard > cur.rlim_max)
                        return herr_set(err, 0,
                                        "process.rlimits %s: hard limit %llu is above husk's own hard limit %llu "
                                        "(raising it needs CAP_SYS_RESOURCE)",
                                        r->type, (unsigned long long)r->hard,
                                        (unsigned long long)cur.rlim_max);
                return herr_set(err, e, "process.rlimits %s (soft %llu, hard %llu)", r->type,
                                (unsigned long long)r->soft, (unsigned long long)r->hard);
        }
        return 0;
}

static int set_oom_score_adj(const struct oci_process *p, herr_t *err)
{
        if (!p->oom_score_adj.set)
                return 0;
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)p->oom_score_adj.v);
        if (write_file_str("/proc/self/oom_score_adj", buf, err) < 0)
                return herr_prefix(err, "process.oomScoreAdj %s", buf);
        return 0;
}

#define IOPRIO_CLASS_SHIFT 13
static int set_io_priority(const struct oci_process *p, herr_t *err)
{
        if (!p->io_priority)
                return 0;
        static const char *classes[] = { NULL, "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE" };
        int cls = -1;
        for (int i = 1; i < 4; i++)
                if (!strcmp(p->io_priority->class_, classes[i]))
                        cls = i;
        if (cls < 0)
                return herr_set(err, 0, "process.ioPriority.class: unknown '%s'", p->io_priority->class_);
        int prio = (cls << IOPRIO_CLASS_SHIFT) | (int)p->io_priority->priority;
        if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, prio) < 0)
                return herr_sys(err, "process.ioPriority");
        return 0;
}

struct husk_sched_attr {
        uint32_t size, sched_policy;
        uint64_t sched_flags;
        int32_t sched_nice;
        uint32_t sched_priority;
        uint64_t sched_runtime, sched_deadline, sched_period;
};

static int set_scheduler(const struct oci_process *p, herr_t *err)
{
        const struct oci_scheduler *s = p->scheduler;
        if (!s)
                return 0;
        static const struct { const char *n; int v; } pol[] = {
                { "SCHED_OTHER", SCHED_OTHER }, { "SCHED_FIFO", SCHED_FIFO },
                { "SCHED_RR", SCHED_RR },       { "SCHED_BATCH", SCHED_BATCH },
                { "SCHED_ISO", 4 },             { "SCHED_IDLE", SCHED_IDLE },
                { "SCHED_DEADLINE", 6 },
        };
        static const struct { const char *n; uint64_t v; } flg[] = {
                { "SCHED_FLAG_RESET_ON_FORK", 0x01 }, { "SCHED_FLAG_RECLAIM", 0x02 },
                { "SCHED_FLAG_DL_OVERRUN", 0x04 },    { "SCHED_FLAG_KEEP_POLICY", 0x08 },
                { "SCHED_FLAG_KEEP_PARAMS", 0x10 },   { "SCHED_FLAG_UTIL_CLAMP_MIN", 0x20 },
                { "SCHED_FLAG_UTIL_CLAMP_MAX", 0x40 },
        };
        struct husk_sched_attr a = { .size = sizeof a };
        bool found = false;
        for (size_t i = 0; i < ARRAY_SIZE(pol); i++)
                if (!strcmp(s->policy, pol[i].n)) {
                        a.sched_policy = (uint32_t)pol[i].v;
                        found = true;
                }
        if (!found)
                return herr_set(err, 0, "process.scheduler.policy: unknown '%s'", s->policy);
        for (size_t i = 0; i < s->n_flags; i++) {
                found = false;
                for (size_t j = 0; j < ARRAY_SIZE(flg); j++)
                        if (!strcmp(s->flags[i], flg[j].n)) {
                                a.sched_flags |= flg[j].v;
                                found = true;
                        }
                if (!found)
                        return herr_set(err, 0, "process.scheduler.flags[%zu]: unknown '%s'", i, s->flags[i]);
        }
        a.sched_nice = s->nice.set ? (int32_t)s->nice.v : 0;
        a.sched_priority = s->priority.set ? (uint32_t)s->priority.v : 0;
        a.sched_runtime = s->runtime.set ? s->runtime.v : 0;
        a.sched_deadline = s->deadline.set ? s->deadline.v : 0;
        a.sched_period = s->period.set ? s->period.v : 0;
        if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
                return herr_sys(err, "process.scheduler (%s)", s->policy);
        return 0;
}

static bool lsm_active(const char *name)
{
        if (!strcmp(name, "apparmor")) {
                char *v = NULL;
                herr_t e;
                bool on = read_file("/sys/module/apparmor/parameters/enabled", 16, &v, NULL, &e) == 0 &&
                          v[0] == 'Y';
                free(v);
                return on;
        }
        return access("/sys/fs/selinux/enforce", F_OK) == 0;
}

static int set_lsm_labels(const struct oci_process *p, herr_t *err)
{
        if (p->apparmor_profile && *p->apparmor_profile) {
                if (!lsm_active("apparmor"))
                        return herr_set(err, 0, "process.apparmorProfile '%s': AppArmor is not enabled on this host",
                                        p->apparmor_profile);
                char buf[512];
                snprintf(buf, sizeof buf, "exec %s", p->apparmor_profile);
                if (write_file_str("/proc/self/attr/apparmor/exec", buf, err) < 0 &&
                    write_file_str("/proc/self/attr/exec", buf, err) < 0)
                        return herr_prefix(err, "process.apparmorProfile");
        }
        if (p->selinux_label && *p->selinux_label) {
                if (!lsm_active("selinux"))
                        return herr_set(err, 0, "process.selinuxLabel '%s': SELinux is not enabled on this host",
                                        p->selinux_label);
                if (write_file_str("/proc/self/attr/exec", p->selinux_label, err) < 0)
                        return herr_prefix(err, "process.selinuxLabel");
        }
        return 0;
}

int process_set_attrs(const struct oci_process *p, herr_t *err)
{
        if (set_rlimits(p, err) < 0 || set_oom_score_adj(p, err) < 0 || set_io_priority(p, err) < 0 ||
            set_scheduler(p, err) < 0 || set_lsm_labels(p, err) < 0)
                return -1;
        return 0;
}

/* ------------------------------------------------------- ids and capabilities */

static int cap_list(char **names, size_t n, cap_value_t *out, size_t *nout, process_warn_fn warn,
                    const char *set, herr_t *err)
{
        *nout = 0;
        for (size_t i = 0; i < n; i++) {
                cap_value_t v;
                if (cap_from_name(names[i], &v) < 0)
                        return herr_set(err, 0, "process.capabilities.%s: unknown capability '%s'", set, names[i]);
                if (!CAP_IS_SUPPORTED(v) || prctl(PR_CAPBSET_READ, v) != 1) {
                        if (warn) {
                                char msg[256];
                                snprintf(msg, sizeof msg,
                                         "process.capabilities.%s: %s is not available to husk on this host, dropped",
                                         set, names[i]);
                                warn(msg);
                        }
                        continue;
                }
                out[(*nout)++] = v;
        }
        return 0;
}

void process_warn_caps(const struct oci_process *p, process_warn_fn warn)
{
        const struct oci_capabilities *c = p->capabilities;
        if (!c)
                return;
        struct { char **v; size_t n; const char *set; } sets[] = {
                { c->bounding, c->n_bounding, "bounding" },   { c->effective, c->n_effective, "effective" },
                { c->permitted, c->n_permitted, "permitted" }, { c->inheritable, c->n_inheritable, "inheritable" },
                { c->ambient, c->n_ambient, "ambient" },
        };
        for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
                cap_value_t tmp[128];
                size_t n;
                herr_t e;
                if (sets[s].n <= 128)
                        (void)cap_list(sets[s].v, sets[s].n, tmp, &n, warn, sets[s].set, &e);
        }
}

static int set_caps(const struct oci_capabilities *c, process_warn_fn warn, herr_t *err)
{
        enum { MAXC = 128 };
        cap_value_t e[MAXC], p[MAXC], i[MAXC], a[MAXC];
        size_t ne, np, ni, na;
        if (c->n_bounding > MAXC || c->n_effective > MAXC || c->n_permitted > MAXC ||
            c->n_inheritable > MAXC || c->n_ambient > MAXC)
                return herr_set(err, E2BIG, "process.capabilities: too many entries");
        if (cap_list(c->effective, c->n_effective, e, &ne, warn, "effective", err) < 0 ||
            cap_list(c->permitted, c->n_permitted, p, &np, warn, "permitted", err) < 0 ||
            cap_list(c->inheritable, c->n_inheritable, i, &ni, warn, "inheritable", err) < 0 ||
            cap_list(c->ambient, c->n_ambient, a, &na, warn, "ambient", err) < 0)
                return -1;
        cap_t caps = cap_init();
        if (!caps)
                return herr_sys(err, "capabilities");
        int rc = 0;
        if ((ne && cap_set_flag(caps, CAP_EFFECTIVE, (int)ne, e, CAP_SET) < 0) ||
            (np && cap_set_flag(caps, CAP_PERMITTED, (int)np, p, CAP_SET) < 0) ||
            (ni && cap_set_flag(caps, CAP_INHERITABLE, (int)ni, i, CAP_SET) < 0))
                rc = herr_sys(err, "process.capabilities");
        if (!rc && cap_set_proc(caps) < 0)
                rc = herr_sys(err, "process.capabilities: set effective/permitted/inheritable");
        cap_free(caps);
        if (rc)
                return rc;
        if (cap_reset_ambient() < 0 && errno != EINVAL)
                return herr_sys(err, "process.capabilities.ambient: reset");
        for (size_t k = 0; k < na; k++)
                if (cap_set_ambient(a[k], CAP_SET) < 0)
                        return herr_sys(err, "process.capabilities.ambient: %s (it must also be permitted and inheritable)",
                                        cap_to_name(a[k]));
        return 0;
}

static int drop_bounding(const struct oci_capabilities *c, herr_t *err)
{
        for (cap_value_t v = 0; v <= CAP_LAST_CAP || CAP_IS_SUPPORTED(v); v++) {
                if (!CAP_IS_SUPPORTED(v))
                        break;
                bool keep = false;
                for (size_t k = 0; k < c->n_bounding; k++) {
                        cap_value_t x;
                        if (cap_from_name(c->bounding[k], &x) == 0 && x == v)
                                keep = true;
                }
                if (!keep && prctl(PR_CAPBSET_DROP, v, 0, 0, 0) < 0 && errno != EINVAL)
                        return herr_sys(err, "process.capabilities.bounding: drop %s", cap_to_name(v));
        }
        return 0;
}

int process_set_ids(const struct oci_process *p, process_warn_fn warn, herr_t *err)
{
        static const struct oci_capabilities none = { 0 };
        const struct oci_capabilities *c = p->capabilities ? p->capabilities : &none;
        if (drop_bounding(c, err) < 0)
                return -1;
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return herr_sys(err, "PR_SET_KEEPCAPS");
        size_t ng = p->user.n_additional_gids;
        gid_t *groups = ng ? calloc(ng, sizeof(gid_t)) : NULL;
        for (size_t k = 0; groups && k < ng; k++)
                groups[k] = p->user.additional_gids[k];
        int rc = setgroups(ng, groups);
        free(groups);
        /* EPERM: setgroups is denied in this user namespace; fine when no
         * supplementary groups were asked for. */
        if (rc < 0 && !(errno == EPERM && ng == 0))
                return herr_sys(err, "process.user.additionalGids");
        if (setresgid(p->user.gid, p->user.gid, p->user.gid) < 0)
                return herr_set(err, errno, "process.user.gid %u%s", p->user.gid,
                                errno == EINVAL ? " is not mapped in the container's user namespace" : "");
        if (setresuid(p->user.uid, p->user.uid, p->user.uid) < 0)
                return herr_set(err, errno, "process.user.uid %u%s", p->user.uid,
                                errno == EINVAL ? " is not mapped in the container's user namespace" : "");
        if (set_caps(c, warn, err) < 0)
                return -1;
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return herr_sys(err, "PR_SET_KEEPCAPS");
        if (p->user.umask.set)
                umask((mode_t)p->user.umask.v & 0777);
        if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return herr_sys(err, "process.noNewPrivileges");
        return 0;
}

int process_chdir(const struct oci_process *p, herr_t *err)
{
        const char *cwd = p->cwd && *p->cwd ? p->cwd : "/";
        struct open_how how = {
                .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return herr_sys(err, "open /");
        const char *rel = cwd;
        while (*rel == '/')
                rel++;
        int fd = (int)syscall(SYS_openat2, root, *rel ? rel : ".", &how, sizeof how);
        if (fd < 0)
                return herr_sys(err, "process.cwd %s", cwd);
        int rc = fchdir(fd);
        int e = errno;
        close(fd);
        if (rc < 0)
                return herr_set(err, e, "process.cwd %s", cwd);
        return 0;
}

static const char *env_path(const struct oci_process *p)
{
        for (size_t i = 0; i < p->n_env; i++)
                if (!strncmp(p->env[i], "PATH=", 5))
                        return p->env[i] + 5;
        return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

int process_exec(const struct oci_process *p, herr_t *err)
{
        const char *file = p->args[0];
        char **envp = p->env ? p->env : (char *[]){ NULL };
        if (strchr(file, '/')) {
                execve(file, p->args, envp);
                return herr_sys(err, "exec %s", file);
        }
        const char *path = env_path(p);
        int saved = ENOENT;
        char buf[PATH_MAX];
        for (const char *s = path; s;) {
                const char *colon = strchr(s, ':');
                size_t dl = colon ? (size_t)(colon - s) : strlen(s);
                if (snprintf(buf, sizeof buf, "%.*s/%s", (int)dl, dl ? s : ".", file) < (int)sizeof buf) {
                        execve(buf, p->args, envp);
                        if (errno != ENOENT && errno != ENOTDIR)
                                saved = errno;
                }
                s = colon ? colon + 1 : NULL;
        }
        return herr_set(err, saved, "exec %s%s", file,
                        saved == ENOENT ? " (not found in $PATH of process.env)" : "");
}
