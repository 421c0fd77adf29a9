/* runtime/frontdoor.c: the container-engine flags of `husk run --image`.
 * Every value is checked here, before anything is mounted or created, and
 * every error says what is wrong and what would be right. */
#include "frontdoor.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"

static int push(char ***v, size_t *n, char *s, herr_t *err)
{
        if (!s)
                return herr_set(err, ENOMEM, "options");
        char **nv = realloc(*v, (*n + 2) * sizeof *nv);
        if (!nv) {
                free(s);
                return herr_set(err, ENOMEM, "options");
        }
        nv[(*n)++] = s;
        nv[*n] = NULL;
        *v = nv;
        return 0;
}

static int add_mount(struct frontdoor *f, char *dst, const char *type, char *src, char **opts, herr_t *err)
{
        struct oci_gen_mount *nm = realloc(f->mounts, (f->n_mounts + 1) * sizeof *nm);
        if (!nm || !dst || !src) {
                free(nm ? NULL : dst);
                return herr_set(err, ENOMEM, "options");
        }
        f->mounts = nm;
        nm[f->n_mounts++] = (struct oci_gen_mount){ dst, type, src, (const char *const *)opts };
        return 0;
}

int frontdoor_duration(const char *s, long long *ms)
{
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (end == s || errno || !(v > 0) || isinf(v) || isnan(v))
                return -1;
        double mul;
        if (!*end || !strcmp(end, "s"))
                mul = 1000;
        else if (!strcmp(end, "ms"))
                mul = 1;
        else if (!strcmp(end, "m"))
                mul = 60000;
        else if (!strcmp(end, "h"))
                mul = 3600000;
        else
                return -1;
        if (v * mul > 1e12)
                return -1;
        *ms = (long long)(v * mul);
        return *ms > 0 ? 0 : -1;
}

int frontdoor_size(const char *s, long long *bytes)
{
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (end == s || errno || !(v > 0) || isinf(v) || isnan(v) || !isdigit((unsigned char)*s))
                return -1;
        double mul = 1;
        switch (tolower((unsigned char)*end)) {
        case '\0': break;
        case 'b': mul = 1; break;
        case 'k': mul = 1024.0; break;
        case 'm': mul = 1024.0 * 1024; break;
        case 'g': mul = 1024.0 * 1024 * 1024; break;
        default: return -1;
        }
        if (*end && end[1] && !(tolower((unsigned char)end[1]) == 'b' && !end[2] && *end != 'b'))
                return -1;
        if (v * mul > 9e18)
                return -1;
        *bytes = (long long)(v * mul);
        return *bytes > 0 ? 0 : -1;
}

static int parse_env_file(struct frontdoor *f, const char *path, herr_t *err)
{
        _cleanup_free_ char *buf = NULL;
        if (read_file(path, 1 << 20, &buf, NULL, err) < 0)
                return herr_prefix(err, "--env-file %s", path);
        char *save = NULL;
        for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                size_t n = strlen(l);
                if (n && l[n - 1] == '\r')
                        l[--n] = '\0';
                while (*l == ' ' || *l == '\t')
                        l++;
                if (!*l || *l == '#')
                        continue;
                if (*l == '=')
                        return herr_set(err, 0, "--env-file %s: '%s': expected KEY=VALUE lines", path, l);
                char *kv;
                if (strchr(l, '=')) {
                        kv = strdup(l);
                } else {
                        /* KEY alone: the value of husk's environment, or skipped. */
                        const char *v = getenv(l);
                        if (!v)
                                continue;
                        if (asprintf(&kv, "%s=%s", l, v) < 0)
                                kv = NULL;
                }
                if (push(&f->env, &f->n_env, kv, err) < 0)
                        return -1;
        }
        return 0;
}

static int parse_env(struct frontdoor *f, const char *arg, herr_t *err)
{
        if (!*arg || *arg == '=' || *arg == '-')
                return herr_set(err, 0, "-e '%s': expected KEY=VALUE (or KEY to pass husk's own value)", arg);
        if (strchr(arg, '='))
                return push(&f->env, &f->n_env, strdup(arg), err);
        const char *v = getenv(arg);
        if (!v)
                return 0;
        char *kv;
        if (asprintf(&kv, "%s=%s", arg, v) < 0)
                kv = NULL;
        return push(&f->env, &f->n_env, kv, err);
}

static int parse_volume(struct frontdoor *f, const char *arg, herr_t *err)
{
        _cleanup_free_ char *s = strdup(arg);
        if (!s)
                return herr_set(err, ENOMEM, "-v");
        char *host = s, *ctr = strchr(s, ':'), *mode = NULL;
        if (ctr) {
                *ctr++ = '\0';
                if ((mode = strchr(ctr, ':')))
                        *mode++ = '\0';
        }
        if (!ctr || !*host || !*ctr || (mode && strcmp(mode, "ro") && strcmp(mode, "rw")))
                return herr_set(err, 0, "-v '%s': expected HOST:CONTAINER[:ro|rw], e.g. -v /srv/data:/data:ro",
                                arg);
        if (*ctr != '/')
                return herr_set(err, 0, "-v '%s': the container path '%s' must be absolute, e.g. /%s", arg, ctr,
                                ctr);
        char *abs = realpath(host, NULL);
        if (!abs)
                return herr_set(err, errno, "-v '%s': host path %s", arg, host);
        char **opts = calloc(3, sizeof *opts);
        if (!opts) {
                free(abs);
                return herr_set(err, ENOMEM, "-v");
        }
        opts[0] = "rbind";
        opts[1] = mode && !strcmp(mode, "ro") ? "ro" : "rw";
        return add_mount(f, strdup(ctr), "bind", abs, opts, err);
}

static int parse_tmpfs(struct frontdoor *f, const char *arg, herr_t *err)
{
        _cleanup_free_ char *s = strdup(arg);
        if (!s)
                return herr_set(err, ENOMEM, "--tmpfs");
        char *extra = strchr(s, ':');
        if (extra)
                *extra++ = '\0';
        if (*s != '/')
                return herr_set(err, 0, "--tmpfs '%s': expected an absolute container path[:OPTIONS], "
                                "e.g. --tmpfs /run:size=64m", arg);
        size_t n = 3;
        for (char *p = extra; p && *p; p++)
                n += *p == ',';
        char **opts = calloc(n + 2, sizeof *opts);
        char *copy = extra ? strdup(extra) : NULL;
        if (!opts || (extra && !copy)) {
                free(opts);
                free(copy);
                return herr_set(err, ENOMEM, "--tmpfs");
        }
        size_t i = 0;
        opts[i++] = "nosuid";
        opts[i++] = "nodev";
        bool mode = false;
        char *save = NULL;
        for (char *o = copy ? strtok_r(copy, ",", &save) : NULL; o; o = strtok_r(NULL, ",", &save)) {
                mode |= !strncmp(o, "mode=", 5);
                opts[i++] = o;
        }
        if (!mode)
                opts[i++] = "mode=1777";
        if (copy && push(&f->owned, &f->n_owned, copy, err) < 0) {
                free(opts);
                return -1;
        }
        return add_mount(f, strdup(s), "tmpfs", strdup("tmpfs"), opts, err);
}


/* "net_admin", "CAP_NET_ADMIN", "ALL" -> "CAP_NET_ADMIN" / "ALL". */
static int parse_cap(char ***v, size_t *n, const char *flag, const char *arg, herr_t *err)
{
        if (!strcasecmp(arg, "ALL"))
                return push(v, n, strdup("ALL"), err);
        char name[64];
        snprintf(name, sizeof name, "%s%s", strncasecmp(arg, "CAP_", 4) ? "cap_" : "", arg);
        for (char *c = name; *c; c++)
                *c = (char)tolower((unsigned char)*c);
        cap_value_t cv;
        if (strlen(arg) > 40 || cap_from_name(name, &cv) < 0 || !strncmp(name + 4, "", 1) ||
            isdigit((unsigned char)name[4]))
                return herr_set(err, 0, "%s '%s': unknown capability; expected a name like NET_ADMIN or "
                                "CAP_SYS_TIME, or ALL", flag, arg);
        for (char *c = name; *c; c++)
                *c = (char)toupper((unsigned char)*c);
        return push(v, n, strdup(name), err);
}

static int parse_security(struct frontdoor *f, const char *arg, herr_t *err)
{
        if (strncmp(arg, "seccomp=", 8) && strncmp(arg, "seccomp:", 8))
                return herr_set(err, 0, "--security-opt '%s': expected seccomp=unconfined or seccomp=FILE "
                                "(an OCI linux.seccomp JSON object)", arg);
        const char *v = arg + 8;
        free(f->seccomp_json);
        f->seccomp_json = NULL;
        if (!strcmp(v, "unconfined")) {
                f->seccomp = OCI_GEN_SECCOMP_NONE;
                return 0;
        }
        if (!*v)
                return herr_set(err, 0, "--security-opt '%s': expected seccomp=unconfined or seccomp=FILE", arg);
        if (read_file(v, 4u << 20, &f->seccomp_json, NULL, err) < 0)
                return herr_prefix(err, "--security-opt seccomp=%s", v);
        f->seccomp = OCI_GEN_SECCOMP_JSON;
        return 0;
}

int frontdoor_opt(struct frontdoor *f, int opt, const char *arg, const char *flag, herr_t *err)
{
        long long n;
        char *end;
        switch (opt) {
        case FD_OPT_ENV: case FD_OPT_ENV_FILE: case FD_OPT_WORKDIR: case FD_OPT_USER: case FD_OPT_VOLUME:
        case FD_OPT_TMPFS: case FD_OPT_READ_ONLY: case FD_OPT_MEMORY: case FD_OPT_CPUS: case FD_OPT_PIDS:
        case FD_OPT_HOSTNAME: case FD_OPT_CAP_ADD: case FD_OPT_CAP_DROP:
        case FD_OPT_SECURITY: case FD_OPT_TTY: case FD_OPT_INTERACTIVE: case FD_OPT_VM: case FD_OPT_TIMEOUT:
        case FD_OPT_RM: case FD_OPT_DRY_RUN:
                break;
        default:
                return 0;
        }
        if (!f->first_flag)
                f->first_flag = flag;
        switch (opt) {
        case FD_OPT_ENV: return parse_env(f, arg, err) < 0 ? -1 : 1;
        case FD_OPT_ENV_FILE: return parse_env_file(f, arg, err) < 0 ? -1 : 1;
        case FD_OPT_WORKDIR:
                if (*arg != '/')
                        return herr_set(err, 0, "-w '%s': expected an absolute path, e.g. -w /tmp", arg);
                f->workdir = arg;
                return 1;
        case FD_OPT_USER: {
                const char *c = strchr(arg, ':');
                if (!*arg || *arg == ':' || (c && (!c[1] || strchr(c + 1, ':'))))
                        return herr_set(err, 0, "-u '%s': expected USER[:GROUP] (names or numeric ids), "
                                        "e.g. -u 1000:1000", arg);
                f->user = arg;
                return 1;
        }
        case FD_OPT_VOLUME: return parse_volume(f, arg, err) < 0 ? -1 : 1;
        case FD_OPT_TMPFS: return parse_tmpfs(f, arg, err) < 0 ? -1 : 1;
        case FD_OPT_READ_ONLY: f->read_only = true; return 1;
        case FD_OPT_MEMORY:
                if (frontdoor_size(arg, &n) < 0 || n < 4096 * 1024)
                        return herr_set(err, 0, "--memory '%s': expected a size of at least 4m with a unit "
                                        "b, k, m or g, e.g. --memory 256m", arg);
                f->memory = n;
                return 1;
        case FD_OPT_CPUS: {
                errno = 0;
                double c = strtod(arg, &end);
                if (end == arg || *end || errno || !(c >= 0.01) || c > 1024)
                        return herr_set(err, 0, "--cpus '%s': expected a number of CPUs from 0.01, "
                                        "e.g. --cpus 1.5", arg);
                f->cpu_quota = (long long)(c * 100000 + 0.5);
                return 1;
        }
        case FD_OPT_PIDS:
                errno = 0;
                n = strtoll(arg, &end, 10);
                if (end == arg || *end || errno || n < 1 || n > INT_MAX)
                        return herr_set(err, 0, "--pids-limit '%s': expected a positive number, "
                                        "e.g. --pids-limit 64", arg);
                f->pids = n;
                return 1;
        case FD_OPT_HOSTNAME: {
                size_t len = strlen(arg);
                bool ok = len > 0 && len <= 64 && arg[0] != '-' && arg[0] != '.';
                for (const char *c = arg; ok && *c; c++)
                        ok = isalnum((unsigned char)*c) || *c == '-' || *c == '.';
                if (!ok)
                        return herr_set(err, 0, "--hostname '%s': expected up to 64 letters, digits, '-' "
                                        "and '.', e.g. --hostname web1", arg);
                f->hostname = arg;
                return 1;
        }
        case FD_OPT_CAP_ADD: return parse_cap(&f->cap_add, &f->n_cap_add, "--cap-add", arg, err) < 0 ? -1 : 1;
        case FD_OPT_CAP_DROP:
                return parse_cap(&f->cap_drop, &f->n_cap_drop, "--cap-drop", arg, err) < 0 ? -1 : 1;
        case FD_OPT_SECURITY: return parse_security(f, arg, err) < 0 ? -1 : 1;
        case FD_OPT_TTY: f->tty = true; return 1;
        case FD_OPT_INTERACTIVE: f->interactive = true; return 1;
        case FD_OPT_VM: f->vm = true; return 1;
        case FD_OPT_TIMEOUT:
                if (frontdoor_duration(arg, &f->timeout_ms) < 0)
                        return herr_set(err, 0, "--timeout '%s': expected a duration like 30s, 500ms, 2m "
                                        "or 1h", arg);
                return 1;
        case FD_OPT_RM: f->rm = true; return 1;
        case FD_OPT_DRY_RUN: f->dry_run = true; return 1;
        }
        return 0;
}

static bool in(char **v, const char *s)
{
        for (; v && *v; v++)
                if (!strcmp(*v, s))
                        return true;
        return false;
}

/* The image default set, minus --cap-drop, plus --cap-add. */
static int build_caps(struct frontdoor *f, herr_t *err)
{
        size_t n = 0;
        bool drop_all = in(f->cap_drop, "ALL"), add_all = in(f->cap_add, "ALL");
        if (add_all) {
                for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
                        char *name = cap_to_name(c);
                        if (!name)
                                return herr_set(err, ENOMEM, "capabilities");
                        for (char *p = name; *p; p++)
                                *p = (char)toupper((unsigned char)*p);
                        int rc = in(f->cap_drop, name) ? 0 : push(&f->caps, &n, strdup(name), err);
                        cap_free(name);
                        if (rc < 0)
                                return -1;
                }
        } else {
                if (!drop_all)
                        for (const char *const *c = image_default_caps; *c; c++)
                                if (!in(f->cap_drop, *c) && push(&f->caps, &n, strdup(*c), err) < 0)
                                        return -1;
                for (char **c = f->cap_add; c && *c; c++)
                        if (!in(f->caps, *c) && push(&f->caps, &n, strdup(*c), err) < 0)
                                return -1;
        }
        if (!f->caps && !(f->caps = calloc(1, sizeof *f->caps)))
                return herr_set(err, ENOMEM, "capabilities");
        return 0;
}

int frontdoor_finish(struct frontdoor *f, char **args, bool detach, bool keep, herr_t *err)
{
        if (f->rm && keep)
                return herr_set(err, 0, "--rm with --keep: choose one (a foreground run is removed unless --keep)");
        if (detach && f->rm)
                return herr_set(err, 0, "--rm with --detach: husk has no daemon to remove a detached container "
                                "when it exits; use `husk delete ID` afterwards");
        if (detach && f->timeout_ms)
                return herr_set(err, 0, "--timeout with --detach: the limit is kept by the foreground husk; "
                                "run without --detach");
        if (f->cap_add || f->cap_drop) {
                if (build_caps(f, err) < 0)
                        return -1;
        }
        struct oci_gen_opts *g = &f->gen;
        oci_gen_defaults(g, false);
        g->caps = f->caps ? (const char *const *)f->caps : image_default_caps;
        g->root_readonly = f->read_only;
        g->seccomp = f->seccomp;
        g->seccomp_json = f->seccomp_json;
        g->mounts = f->mounts;
        g->n_mounts = f->n_mounts;
        g->network_ns = f->net != FD_NET_HOST;
        g->memory_limit = f->memory;
        g->pids_limit = f->pids;
        g->cpu_quota = f->cpu_quota;
        g->cpu_period = f->cpu_quota ? 100000 : 0;
        size_t a = 0;
        if (f->vm) {
                f->annotations[a++] = "run.oci.handler";
                f->annotations[a++] = "vm";
        }
        f->annotations[a] = NULL;
        g->annotations = f->annotations;
        f->run = (struct image_run_opts){
                .args = args, .env = f->env, .cwd = f->workdir, .user = f->user,
                .hostname = f->hostname, .terminal = f->tty, .gen = g,
        };
        return 0;
}

bool frontdoor_wants_image(int argc, char **argv)
{
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--"))
                        break;
                if (!strcmp(argv[i], "--image") || !strncmp(argv[i], "--image=", 8))
                        return true;
        }
        return false;
}

static void free_strv(char **v)
{
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}

void frontdoor_free(struct frontdoor *f)
{
        free_strv(f->env);
        for (size_t i = 0; i < f->n_mounts; i++) {
                free((char *)f->mounts[i].destination);
                free((char *)f->mounts[i].source);
                free((void *)f->mounts[i].options);
        }
        free(f->mounts);
        free_strv(f->cap_add);
        free_strv(f->cap_drop);
        free_strv(f->caps);
        free(f->seccomp_json);
        free_strv(f->owned);
        memset(f, 0, sizeof *f);
}

int frontdoor_bad_option(const char *cmd, int argc, char **argv, int prev, const char *shorts, herr_t *err)
{
        const char *tok = prev < argc ? argv[prev] : "?";
        char one[3] = { '-', (char)optopt, '\0' };
        bool missing = optopt > 255 || (optopt > 0 && strchr(shorts, optopt) && optopt != ':');
        if (!missing && optopt > 0)
                tok = one;                 /* an unknown letter of -xyz */
        if (missing)
                return herr_set(err, 0, "%s: option '%s' needs a value (see husk %s --help)", cmd, tok, cmd);
        return herr_set(err, 0, "%s: unknown option '%s' (see husk %s --help)", cmd, tok, cmd);
}

int frontdoor_image_hint(const char *ref, const char *storage, herr_t *err)
{
        if (err->errnum == ENOENT && strstr(err->msg, "no such image")) {
                const char *def = IMAGE_DEFAULT_STORAGE;
                bool other = storage && strcmp(storage, def);
                return herr_set(err, 0, "--image %s: no such image in %s (see `husk%s%s image ls`; add one with "
                                "`husk image import`)", ref, storage ? storage : def, other ? " --storage " : "",
                                other ? storage : "");
        }
        return -1;
}
