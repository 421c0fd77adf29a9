/* husk exec: runc's flags around container_exec(). Without --process the
 * process is the container's own (config.json at create) with args, env,
 * cwd, user, capabilities... replaced or extended by the flags, as runc
 * does. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "cli.h"
#include "container.h"
#include "exec.h"

enum { OPT_CONSOLE = 0x100, OPT_CWD, OPT_PIDFILE, OPT_LABEL, OPT_APPARMOR, OPT_NNP, OPT_PRESERVE, OPT_CGROUP,
       OPT_IGNORE_PAUSED, OPT_GIDS = 'g', OPT_ENV = 'e', OPT_TTY = 't', OPT_USER = 'u', OPT_PROCESS = 'p',
       OPT_DETACH = 'd', OPT_CAP = 'c' };

static const struct option opts[] = {
        { "console-socket", required_argument, NULL, OPT_CONSOLE },
        { "cwd", required_argument, NULL, OPT_CWD },
        { "env", required_argument, NULL, OPT_ENV },
        { "tty", no_argument, NULL, OPT_TTY },
        { "user", required_argument, NULL, OPT_USER },
        { "additional-gids", required_argument, NULL, OPT_GIDS },
        { "process", required_argument, NULL, OPT_PROCESS },
        { "detach", no_argument, NULL, OPT_DETACH },
        { "pid-file", required_argument, NULL, OPT_PIDFILE },
        { "process-label", required_argument, NULL, OPT_LABEL },
        { "apparmor", required_argument, NULL, OPT_APPARMOR },
        { "no-new-privs", no_argument, NULL, OPT_NNP },
        { "cap", required_argument, NULL, OPT_CAP },
        { "preserve-fds", required_argument, NULL, OPT_PRESERVE },
        { "cgroup", required_argument, NULL, OPT_CGROUP },
        { "ignore-paused", no_argument, NULL, OPT_IGNORE_PAUSED },
        { NULL, 0, NULL, 0 },
};

#define MAX_LIST 128

struct exec_flags {
        const char *process_file, *cwd, *user, *label, *apparmor;
        const char *env[MAX_LIST], *caps[MAX_LIST], *gids[MAX_LIST];
        size_t n_env, n_caps, n_gids;
        bool tty, nnp;
};

static int push(const char **list, size_t *n, const char *v, const char *flag, herr_t *err)
{
        if (*n >= MAX_LIST)
                return herr_set(err, 0, "exec %s: at most %d values", flag, MAX_LIST);
        list[(*n)++] = v;
        return 0;
}

/* Append (or replace, for the same NAME=) an env entry. */
static int env_set(struct oci_process *p, const char *kv, herr_t *err)
{
        const char *eq = strchr(kv, '=');
        size_t kl = eq ? (size_t)(eq - kv) : strlen(kv);
        char *dup = strdup(kv);
        if (!dup)
                return herr_set(err, ENOMEM, "exec --env");
        for (size_t i = 0; i < p->n_env; i++)
                if (!strncmp(p->env[i], kv, kl) && (p->env[i][kl] == '=' || p->env[i][kl] == 0)) {
                        free(p->env[i]);
                        p->env[i] = dup;
                        return 0;
                }
        char **nv = realloc(p->env, (p->n_env + 2) * sizeof *nv);
        if (!nv) {
                free(dup);
                return herr_set(err, ENOMEM, "exec --env");
        }
        nv[p->n_env++] = dup;
        nv[p->n_env] = NULL;
        p->env = nv;
        return 0;
}

static int strv_add(char ***v, size_t *n, const char *s)
{
        for (size_t i = 0; i < *n; i++)
                if (!strcmp((*v)[i], s))
                        return 0;
        char **nv = realloc(*v, (*n + 2) * sizeof *nv);
        if (!nv)
                return -1;
        *v = nv;
        if (!(nv[*n] = strdup(s)))
                return -1;
        nv[++*n] = NULL;
        return 0;
}

static int parse_u32(const char *flag, const char *s, uint32_t *out, herr_t *err)
{
        long v;
        if (cli_int(flag, s, 0, UINT32_MAX, &v, err) < 0)
                return -1;
        *out = (uint32_t)v;
        return 0;
}

static bool numeric(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

/* Look name (or number) up in the container's etc/passwd or etc/group,
 * resolved inside its root. Fields: 0 name, 2 id, 3 primary gid. Returns
 * 1 when found, 0 when not, -1 on error. */
static int lookup_db(int rootfd, const char *db, const char *name, uint32_t *id, uint32_t *gid, herr_t *err)
{
        struct open_how how = { .flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        int fd = (int)syscall(SYS_openat2, rootfd, db, &how, sizeof how);
        if (fd < 0)
                return errno == ENOENT ? 0 : herr_sys(err, "the container's /%s", db);
        _cleanup_free_ char *text = NULL;
        size_t len;
        int rc = read_fd(fd, 4u << 20, &text, &len, err);
        close(fd);
        if (rc < 0)
                return -1;
        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[4] = { 0 };
                char *p = line;
                for (int i = 0; i < 4 && p; i++) {
                        f[i] = p;
                        p = strchr(p, ':');
                        if (p)
                                *p++ = 0;
                }
                if (!f[2] || !numeric(f[2]) || (strcmp(f[0], name) && strcmp(f[2], name)))
                        continue;
                *id = (uint32_t)strtoul(f[2], NULL, 10);
                if (gid && f[3] && numeric(f[3]))
                        *gid = (uint32_t)strtoul(f[3], NULL, 10);
                return 1;
        }
        return 0;
}

/* --user USER[:GROUP] with names resolved in the container (runc). */
static int resolve_user(const char *root, const char *id, const char *spec, struct oci_process *p, herr_t *err)
{
        char user[256], *group = NULL;
        snprintf(user, sizeof user, "%s", spec);
        char *colon = strchr(user, ':');
        if (colon) {
                *colon = 0;
                group = colon + 1;
        }
        if (!*user)
                return herr_set(err, 0, "exec --user '%s': expected USER[:GROUP]", spec);
        int rootfd = -1, rc = -1;
        {
                _cleanup_close_ int dirfd = store_open(root, id, LOCK_SH, err);
                struct container_state st = { 0 };
                if (dirfd < 0 || state_load(dirfd, &st, err) < 0)
                        return -1;
                char path[64];
                snprintf(path, sizeof path, "/proc/%d/root", (int)st.pid);
                rootfd = pid_alive(st.pid, st.pid_start) ? open(path, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
                if (rootfd >= 0 && st.vm) { /* the monitor runs on the host: names are in the rootfs */
                        close(rootfd);
                        rootfd = st.rootfs ? open(st.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
                }
                container_state_free(&st);
                if (rootfd < 0)
                        return herr_set(err, 0, "exec --user %s: container '%s' is not running", spec, id);
        }
        uint32_t gid = 0;
        int found = lookup_db(rootfd, "etc/passwd", user, &p->user.uid, &gid, err);
        if (found < 0)
                goto out;
        if (!found) {
                if (!numeric(user)) {
                        herr_set(err, 0, "exec --user %s: no user '%s' in the container's /etc/passwd", spec, user);
                        goto out;
                }
                if (parse_u32("--user", user, &p->user.uid, err) < 0)
                        goto out;
                gid = 0;
        }
        p->user.gid = gid;
        if (group) {
                if (numeric(group)) {
                        if (parse_u32("--user", group, &p->user.gid, err) < 0)
                                goto out;
                } else {
                        int g = lookup_db(rootfd, "etc/group", group, &p->user.gid, NULL, err);
                        if (g <= 0) {
                                if (g == 0)
                                        herr_set(err, 0, "exec --user %s: no group '%s' in the container's /etc/group",
                                                 spec, group);
                                goto out;
                        }
                }
        }
        rc = 0;
out:
        if (rootfd >= 0)
                close(rootfd);
        return rc;
}

/* VM mode: the flags that cannot reach a process in the guest (it gets
 * the container's capabilities, groups, LSM labels and no_new_privs). */
static int vm_flags_check(const char *root, const char *id, const struct exec_flags *f, herr_t *err)
{
        struct container_state st = { 0 };
        {
                _cleanup_close_ int dirfd = store_open(root, id, LOCK_SH, err);
                if (dirfd < 0 || state_load(dirfd, &st, err) < 0)
                        return -1;
        }
        bool vm = st.vm;
        container_state_free(&st);
        const char *flag = f->n_caps ? "--cap" : f->n_gids ? "--additional-gids" : f->apparmor ? "--apparmor"
                         : f->label ? "--process-label" : f->nnp ? "--no-new-privs" : NULL;
        if (vm && flag)
                return herr_set(err, 0, "exec %s: not supported for VM-mode container '%s' (the process in the "
                                        "guest gets the container's own)", flag, id);
        return 0;
}

static int apply_flags(struct oci_process *p, const struct exec_flags *f, int nargs, char **args, herr_t *err)
{
        if (nargs > 0) {
                char **nv = calloc((size_t)nargs + 1, sizeof *nv);
                if (!nv)
                        return herr_set(err, ENOMEM, "exec");
                for (int i = 0; i < nargs; i++)
                        if (!(nv[i] = strdup(args[i])))
                                return herr_set(err, ENOMEM, "exec");
                for (size_t i = 0; i < p->n_args; i++)
                        free(p->args[i]);
                free(p->args);
                p->args = nv;
                p->n_args = (size_t)nargs;
        }
        for (size_t i = 0; i < f->n_env; i++)
                if (env_set(p, f->env[i], err) < 0)
                        return -1;
        if (f->cwd) {
                if (f->cwd[0] != '/')
                        return herr_set(err, 0, "exec --cwd %s: must be an absolute path", f->cwd);
                free(p->cwd);
                p->cwd = strdup(f->cwd);
        }
        if (f->n_gids) {
                uint32_t *g = calloc(f->n_gids, sizeof *g);
                if (!g)
                        return herr_set(err, ENOMEM, "exec");
                for (size_t i = 0; i < f->n_gids; i++)
                        if (parse_u32("--additional-gids", f->gids[i], &g[i], err) < 0) {
                                free(g);
                                return -1;
                        }
                free(p->user.additional_gids);
                p->user.additional_gids = g;
                p->user.n_additional_gids = f->n_gids;
        }
        if (f->n_caps) {
                if (!p->capabilities && !(p->capabilities = calloc(1, sizeof *p->capabilities)))
                        return herr_set(err, ENOMEM, "exec");
                struct oci_capabilities *c = p->capabilities;
                for (size_t i = 0; i < f->n_caps; i++) {
                        const char *cap = f->caps[i];
                        char name[64];
                        snprintf(name, sizeof name, "%s%s", strncasecmp(cap, "CAP_", 4) ? "CAP_" : "", cap);
                        for (char *s = name; *s; s++)
                                if (*s >= 'a' && *s <= 'z')
                                        *s = (char)(*s - 'a' + 'A');
                        if (strv_add(&c->bounding, &c->n_bounding, name) < 0 ||
                            strv_add(&c->effective, &c->n_effective, name) < 0 ||
                            strv_add(&c->permitted, &c->n_permitted, name) < 0 ||
                            strv_add(&c->inheritable, &c->n_inheritable, name) < 0)
                                return herr_set(err, ENOMEM, "exec --cap");
                }
        }
        if (f->nnp)
                p->no_new_privileges = true;
        if (f->apparmor) {
                free(p->apparmor_profile);
                p->apparmor_profile = strdup(f->apparmor);
        }
        if (f->label) {
                free(p->selinux_label);
                p->selinux_label = strdup(f->label);
        }
        if (f->tty)
                p->terminal = true;
        if (!p->args || !p->n_args)
                return herr_set(err, 0, "exec: no command given (ARGS or --process)");
        return 0;
}

static int cmd_exec(struct cli *c, int argc, char **argv, herr_t *err)
{
        struct exec_flags f = { 0 };
        struct exec_opts o = { .root = c->root };
        long v;
        int opt;
        opterr = 0;
        while ((opt = getopt_long(argc, argv, "+e:tu:g:p:dc:", opts, NULL)) != -1) {
                switch (opt) {
                case OPT_CONSOLE: o.console_socket = optarg; break;
                case OPT_CWD: f.cwd = optarg; break;
                case OPT_ENV:
                        if (push(f.env, &f.n_env, optarg, "--env", err) < 0)
                                return EXIT_HUSK_ERROR;
                        break;
                case OPT_TTY: f.tty = true; break;
                case OPT_USER: f.user = optarg; break;
                case OPT_GIDS:
                        if (push(f.gids, &f.n_gids, optarg, "--additional-gids", err) < 0)
                                return EXIT_HUSK_ERROR;
                        break;
                case OPT_PROCESS: f.process_file = optarg; break;
                case OPT_DETACH: o.detach = true; break;
                case OPT_PIDFILE: o.pid_file = optarg; break;
                case OPT_LABEL: f.label = optarg; break;
                case OPT_APPARMOR: f.apparmor = optarg; break;
                case OPT_NNP: f.nnp = true; break;
                case OPT_CAP:
                        if (push(f.caps, &f.n_caps, optarg, "--cap", err) < 0)
                                return EXIT_HUSK_ERROR;
                        break;
                case OPT_PRESERVE:
                        if (cli_int("--preserve-fds", optarg, 0, 1000, &v, err) < 0)
                                return EXIT_HUSK_ERROR;
                        o.preserve_fds = (int)v;
                        break;
                case OPT_CGROUP:
                        return herr_set(err, 0, "exec --cgroup: not supported by husk (the process joins the "
                                                "container's cgroup)"), EXIT_HUSK_ERROR;
                case OPT_IGNORE_PAUSED: break;
                default:
                        return cli_usage_error("exec", "unknown option or missing value", err), EXIT_HUSK_ERROR;
                }
        }
        if (optind >= argc)
                return cli_usage_error("exec", "missing container id", err), EXIT_HUSK_ERROR;
        o.id = argv[optind++];
        if (state_check_id(o.id, err) < 0)
                return EXIT_HUSK_ERROR;
        struct oci_config *cfg = NULL;
        if (f.process_file) {
                if (optind < argc)
                        return herr_set(err, 0, "exec: --process and ARGS cannot be combined"), EXIT_HUSK_ERROR;
                _cleanup_free_ char *json = NULL;
                size_t len;
                if (!strcmp(f.process_file, "-") ? read_fd(0, 4u << 20, &json, &len, err)
                                                  : read_file(f.process_file, 4u << 20, &json, &len, err))
                        return herr_prefix(err, "exec --process"), EXIT_HUSK_ERROR;
                if (exec_parse_process(json, len, &cfg, err) < 0)
                        return herr_prefix(err, "exec --process %s", f.process_file), EXIT_HUSK_ERROR;
        } else {
                if (optind >= argc)
                        return herr_set(err, 0, "exec: no command given (ARGS or --process)"), EXIT_HUSK_ERROR;
                _cleanup_close_ int dirfd = store_open(c->root, o.id, LOCK_SH, err);
                if (dirfd < 0 || container_config(dirfd, &cfg, err) < 0)
                        return EXIT_HUSK_ERROR;
                if (!cfg->process && !(cfg->process = calloc(1, sizeof *cfg->process))) {
                        oci_config_free(cfg);
                        return herr_set(err, ENOMEM, "exec"), EXIT_HUSK_ERROR;
                }
                /* The container's own terminal setting is not inherited. */
                cfg->process->terminal = false;
        }
        int rc = vm_flags_check(c->root, o.id, &f, err);
        if (rc == 0)
                rc = apply_flags(cfg->process, &f, argc - optind, argv + optind, err);
        if (rc == 0 && f.user)
                rc = resolve_user(c->root, o.id, f.user, cfg->process, err);
        if (rc == 0)
                rc = container_exec(&o, cfg->process, err);
        oci_config_free(cfg);
        return rc < 0 ? EXIT_HUSK_ERROR : rc;
}

static const struct command table[] = {
        { "exec", "run a new process in a running container",
          "exec [--process FILE | ARGS...] [--detach] [--pid-file FILE] [--console-socket SOCK] [--tty]\n"
          "          [--cwd DIR] [--env K=V]... [--user USER[:GROUP]] [--additional-gids GID]... [--cap CAP]...\n"
          "          [--no-new-privs] [--preserve-fds N] [--apparmor P] [--process-label L] ID [ARGS...]",
          cmd_exec, true },
        { NULL, NULL, NULL, NULL, false },
};

const struct command *commands_exec(void)
{
        return table;
}
