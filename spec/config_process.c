/* config.json "process" -> struct oci_process. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "config_priv.h"

static int parse_rlimit(yajl_val v, const char *path, void *elem, herr_t *err)
{
        struct oci_rlimit *r = elem;
        char p[JPATH_MAX];
        if (j_str(v, "type", path, &r->type, err) < 0)
                return -1;
        if (!r->type) {
                jp_key(p, path, "type");
                return herr_set(err, 0, "%s: required", p);
        }
        if (j_u64(v, "soft", path, UINT64_MAX, &r->soft, err) < 0 ||
            j_u64(v, "hard", path, UINT64_MAX, &r->hard, err) < 0)
                return -1;
        return 0;
}

static int parse_user(yajl_val proc, struct oci_user *u, herr_t *err)
{
        yajl_val o, a;
        const char *path = "process.user";
        char p[JPATH_MAX], ep[JPATH_MAX];
        if (j_obj(proc, "user", "process", &o, err) < 0)
                return -1;
        if (!o)
                return 0;
        if ((j_get(o, "uid") && j_u32(o, "uid", path, &u->uid, err) < 0) ||
            (j_get(o, "gid") && j_u32(o, "gid", path, &u->gid, err) < 0) ||
            j_ou64(o, "umask", path, U32_MAX_, &u->umask, err) < 0 ||
            j_str(o, "username", path, &u->username, err) < 0 ||
            j_arr(o, "additionalGids", path, &a, err) < 0)
                return -1;
        if (!a)
                return 0;
        jp_key(p, path, "additionalGids");
        u->additional_gids = calloc(a->u.array.len + 1, sizeof *u->additional_gids);
        if (!u->additional_gids)
                return herr_set(err, ENOMEM, "%s", p);
        u->n_additional_gids = a->u.array.len;
        for (size_t i = 0; i < a->u.array.len; i++) {
                uint64_t g;
                jp_idx(ep, p, i);
                if (jv_u64(a->u.array.values[i], ep, U32_MAX_, &g, err) < 0)
                        return -1;
                u->additional_gids[i] = (uint32_t)g;
        }
        return 0;
}

static int parse_caps(yajl_val proc, struct oci_process *p, herr_t *err)
{
        yajl_val o;
        const char *path = "process.capabilities";
        if (j_obj(proc, "capabilities", "process", &o, err) < 0)
                return -1;
        if (!o)
                return 0;
        struct oci_capabilities *c = p->capabilities = calloc(1, sizeof *c);
        if (!c)
                return herr_set(err, ENOMEM, "%s", path);
        if (j_strv(o, "bounding", path, &c->bounding, &c->n_bounding, err) < 0 ||
            j_strv(o, "effective", path, &c->effective, &c->n_effective, err) < 0 ||
            j_strv(o, "inheritable", path, &c->inheritable, &c->n_inheritable, err) < 0 ||
            j_strv(o, "permitted", path, &c->permitted, &c->n_permitted, err) < 0 ||
            j_strv(o, "ambient", path, &c->ambient, &c->n_ambient, err) < 0)
                return -1;
        return 0;
}

static int parse_scheduler(yajl_val proc, struct oci_process *p, herr_t *err)
{
        yajl_val o;
        const char *path = "process.scheduler";
        if (j_obj(proc, "scheduler", "process", &o, err) < 0)
                return -1;
        if (!o)
                return 0;
        struct oci_scheduler *s = p->scheduler = calloc(1, sizeof *s);
        if (!s)
                return herr_set(err, ENOMEM, "%s", path);
        if (j_str(o, "policy", path, &s->policy, err) < 0 ||
            j_oi64(o, "nice", path, I32_MIN_, I32_MAX_, &s->nice, err) < 0 ||
            j_oi64(o, "priority", path, I32_MIN_, I32_MAX_, &s->priority, err) < 0 ||
            j_strv(o, "flags", path, &s->flags, &s->n_flags, err) < 0 ||
            j_ou64(o, "runtime", path, UINT64_MAX, &s->runtime, err) < 0 ||
            j_ou64(o, "deadline", path, UINT64_MAX, &s->deadline, err) < 0 ||
            j_ou64(o, "period", path, UINT64_MAX, &s->period, err) < 0)
                return -1;
        return 0;
}

static int parse_small_objects(yajl_val proc, struct oci_process *p, herr_t *err)
{
        yajl_val cs, io, aff;
        if (j_obj(proc, "consoleSize", "process", &cs, err) < 0 ||
            j_obj(proc, "ioPriority", "process", &io, err) < 0 ||
            j_obj(proc, "execCPUAffinity", "process", &aff, err) < 0)
                return -1;
        if (cs) {
                if (!(p->console_size = calloc(1, sizeof *p->console_size)))
                        return herr_set(err, ENOMEM, "process.consoleSize");
                if (j_u32(cs, "height", "process.consoleSize", &p->console_size->height, err) < 0 ||
                    j_u32(cs, "width", "process.consoleSize", &p->console_size->width, err) < 0)
                        return -1;
        }
        if (io) {
                if (!(p->io_priority = calloc(1, sizeof *p->io_priority)))
                        return herr_set(err, ENOMEM, "process.ioPriority");
                opt_i64 prio = { 0 };
                if (j_str(io, "class", "process.ioPriority", &p->io_priority->class_, err) < 0 ||
                    j_oi64(io, "priority", "process.ioPriority", I32_MIN_, I32_MAX_, &prio, err) < 0)
                        return -1;
                p->io_priority->priority = prio.v;
        }
        if (aff) {
                if (!(p->exec_cpu_affinity = calloc(1, sizeof *p->exec_cpu_affinity)))
                        return herr_set(err, ENOMEM, "process.execCPUAffinity");
                if (j_str(aff, "initial", "process.execCPUAffinity", &p->exec_cpu_affinity->initial, err) < 0 ||
                    j_str(aff, "final", "process.execCPUAffinity", &p->exec_cpu_affinity->final, err) < 0)
                        return -1;
        }
        return 0;
}

int cfg_parse_process(yajl_val root, struct oci_config *c, herr_t *err)
{
        yajl_val o;
        const char *path = "process";
        if (j_obj(root, "process", "", &o, err) < 0)
                return -1;
        if (!o)
                return 0;
        struct oci_process *p = c->process = calloc(1, sizeof *p);
        if (!p)
                return herr_set(err, ENOMEM, "process");
        if (j_bool(o, "terminal", path, &p->terminal, err) < 0 ||
            parse_user(o, &p->user, err) < 0 ||
            j_strv(o, "args", path, &p->args, &p->n_args, err) < 0 ||
            j_str(o, "commandLine", path, &p->command_line, err) < 0 ||
            j_strv(o, "env", path, &p->env, &p->n_env, err) < 0 ||
            j_str(o, "cwd", path, &p->cwd, err) < 0 ||
            parse_caps(o, p, err) < 0 ||
            j_objarr(o, "rlimits", path, sizeof *p->rlimits, (void **)&p->rlimits, &p->n_rlimits,
                     parse_rlimit, err) < 0 ||
            j_bool(o, "noNewPrivileges", path, &p->no_new_privileges, err) < 0 ||
            j_str(o, "apparmorProfile", path, &p->apparmor_profile, err) < 0 ||
            j_oi64(o, "oomScoreAdj", path, I32_MIN_, I32_MAX_, &p->oom_score_adj, err) < 0 ||
            parse_scheduler(o, p, err) < 0 ||
            j_str(o, "selinuxLabel", path, &p->selinux_label, err) < 0 ||
            parse_small_objects(o, p, err) < 0)
                return -1;
        return 0;
}
