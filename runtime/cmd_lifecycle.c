/* create, start, kill, delete, state: thin argument handling around
 * container.h. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "cli.h"
#include "cmd_run.h"
#include "container.h"
#include "signals.h"
#include "vm_mode.h"

enum { OPT_BUNDLE = 'b', OPT_PIDFILE = 0x100, OPT_CONSOLE, OPT_NOPIVOT, OPT_NOKEYRING, OPT_PRESERVE,
       OPT_DETACH = 'd', OPT_KEEP = 0x180, OPT_IMAGE, OPT_NAME, OPT_VM, OPT_FORCE = 'f', OPT_ALL = 'a',
       OPT_NET = 0x300, OPT_PUBLISH = 'p' /* net */ };

static const struct option create_opts[] = {
        { "bundle", required_argument, NULL, OPT_BUNDLE },
        { "pid-file", required_argument, NULL, OPT_PIDFILE },
        { "console-socket", required_argument, NULL, OPT_CONSOLE },
        { "no-pivot", no_argument, NULL, OPT_NOPIVOT },
        { "no-new-keyring", no_argument, NULL, OPT_NOKEYRING },
        { "preserve-fds", required_argument, NULL, OPT_PRESERVE },
        { "detach", no_argument, NULL, OPT_DETACH },
        { "keep", no_argument, NULL, OPT_KEEP },
        { "image", required_argument, NULL, OPT_IMAGE },
        { "name", required_argument, NULL, OPT_NAME },
        { "net", required_argument, NULL, OPT_NET },         /* net */
        { "publish", required_argument, NULL, OPT_PUBLISH }, /* net */
        { "network", required_argument, NULL, OPT_NET },     /* net */
        { "vm", no_argument, NULL, OPT_VM },
        FRONTDOOR_LONG_OPTIONS,  /* --image mode only: runtime/frontdoor.h */
        { NULL, 0, NULL, 0 },
};


static int listen_fds(void)
{
        const char *s = getenv("LISTEN_FDS");
        long n = s ? strtol(s, NULL, 10) : 0;
        /* sd_listen_fds(3): the fds are ours only when LISTEN_PID is unset
         * or names us. */
        const char *p = getenv("LISTEN_PID");
        if (p && *p && strtol(p, NULL, 10) != (long)getpid())
                return 0;
        return n > 0 && n < 1024 ? (int)n : 0;
}

/* process.env gets LISTEN_FDS=n and LISTEN_PID=1 (the program is pid 1 of
 * the container), replacing any the config had. */
static int add_listen_env(struct oci_process *p, int n, herr_t *err)
{
        size_t k = 0;
        char **env = calloc(p->n_env + 3, sizeof *env);
        if (!env)
                return herr_set(err, ENOMEM, "process.env");
        for (size_t i = 0; i < p->n_env; i++) {
                if (!strncmp(p->env[i], "LISTEN_FDS=", 11) || !strncmp(p->env[i], "LISTEN_PID=", 11) ||
                    !strncmp(p->env[i], "LISTEN_FDNAMES=", 15)) {
                        free(p->env[i]);
                        continue;
                }
                env[k++] = p->env[i];
        }
        if (asprintf(&env[k], "LISTEN_FDS=%d", n) < 0 || !(env[k + 1] = strdup("LISTEN_PID=1"))) {
                free(env);
                return herr_set(err, ENOMEM, "process.env");
        }
        k += 2;
        free(p->env);
        p->env = env;
        p->n_env = k;
        return 0;
}

int parse_create_args(struct cli *c, const char *cmd, int argc, char **argv, struct create_args *a, herr_t *err)
{
        memset(a, 0, sizeof *a);
        a->o.console_fd = -1;
        a->img.storage = c->storage;
        a->o.vm = a->fd.vm = c->vm; /* husk --vm */
        const char *bundle = ".";
        int o;
        long v;
        opterr = 0;
        int prev = optind, r;
        while ((o = getopt_long(argc, argv, "+b:dp:" FRONTDOOR_SHORT, create_opts, NULL)) != -1) {
                switch (o) {
                case OPT_BUNDLE: bundle = optarg; break;
                case OPT_PIDFILE: a->o.pid_file = optarg; break;
                case OPT_CONSOLE: a->o.console_socket = optarg; break;
                case OPT_NOPIVOT: a->o.no_pivot = true; break;
                case OPT_NOKEYRING: a->o.no_new_keyring = true; break;
                case OPT_PRESERVE:
                        if (cli_int("--preserve-fds", optarg, 0, 1000, &v, err) < 0)
                                return -1;
                        a->o.preserve_fds = (int)v;
                        break;
                case OPT_DETACH: a->detach = true; break;
                case OPT_KEEP: a->keep = true; break;
                case OPT_IMAGE: a->img.ref = optarg; break;
                case OPT_NAME: a->img.name = optarg; break;
                case OPT_NET: /* net */
                case OPT_PUBLISH:
                        if (network_cli_opt(&a->net, o == OPT_NET ? "net" : "publish", optarg, err) < 0)
                                return -1;
                        break;
                case OPT_VM: /* a microVM (runtime/vm_mode.h); --dry-run shows the annotation */
                        a->o.vm = true;
                        a->fd.vm = true;
                        break;
                default:
                        if ((r = frontdoor_opt(&a->fd, o, optarg, argv[prev], err)) < 0)
                                return -1;
                        if (r == 0)
                                return frontdoor_bad_option(cmd, argc, argv, prev, "+b:dp:" FRONTDOOR_SHORT, err);
                }
                prev = optind;
        }
        if (strcmp(cmd, "run") && (a->fd.timeout_ms || a->fd.rm))
                return herr_set(err, 0, "%s %s: only with husk run (in the foreground)", cmd,
                                a->fd.timeout_ms ? "--timeout" : "--rm");
        if (a->fd.first_flag && !a->img.ref)
                return herr_set(err, 0, "%s %s: only with --image (a bundle's config.json says it all)", cmd,
                                a->fd.first_flag);
        /* An image gets its own bridged network unless --net says otherwise. */
        if (a->img.ref && !a->net.mode_set && !a->net.opts.n_ports) {
                a->net.opts.mode = NET_MODE_BRIDGE;
                a->net.mode_set = true;
        }
        if (network_cli_finish(&a->net, &a->o.net, err) < 0) /* net */
                return -1;
        if (a->o.net) {
                static const enum fd_net modes[] = { [NET_MODE_DEFAULT] = FD_NET_DEFAULT, [NET_MODE_NONE] = FD_NET_NONE,
                                                     [NET_MODE_HOST] = FD_NET_HOST, [NET_MODE_BRIDGE] = FD_NET_BRIDGE };
                a->fd.net = modes[a->o.net->mode];
        }
        if (a->img.ref) {
                if (image_run_args(&a->img, argc, argv, optind, err) < 0 ||
                    frontdoor_finish(&a->fd, a->img.cmd, a->detach, a->keep, err) < 0)
                        return -1;
                a->img.opts = &a->fd.run;
                if (image_run_prepare(&a->img, false, err) < 0)
                        return frontdoor_image_hint(a->img.ref, c->storage, err);
                a->img_ready = true;
                a->o.id = a->img.id;
                a->o.image = a->img.ref;
                a->o.storage = a->img.storage;
                bundle = a->img.bundle;
        } else {
                if (optind != argc - 1)
                        return cli_usage_error(cmd, optind >= argc ? "missing container id" : "too many arguments",
                                               err);
                a->o.id = argv[optind];
                if (state_check_id(a->o.id, err) < 0)
                        return -1;
        }
        a->bundle_abs = realpath(bundle, NULL);
        if (!a->bundle_abs)
                return herr_sys(err, "--bundle %s", bundle);
        a->o.bundle = a->bundle_abs;
        int nlisten = listen_fds();
        a->o.preserve_fds += nlisten;
        reserve_fds(a->o.preserve_fds);
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/config.json", a->bundle_abs);
        size_t len;
        if (read_file(path, 4u << 20, &a->json, &len, err) < 0) {
                herr_clear(err);
                herr_set(err, errno, "config.json");
                return herr_prefix(err, "bundle %s", a->bundle_abs);
        }
        a->o.config_json = a->json;
        a->o.config_len = len;
        if (oci_config_parse(a->json, len, &a->cfg, err) < 0)
                return herr_prefix(err, "config.json");
        /* LISTEN_FDS passthrough: the program sees them as if systemd had
         * started it (LISTEN_PID is the container's pid 1). */
        if (nlisten && a->cfg->process && add_listen_env(a->cfg->process, nlisten, err) < 0)
                return -1;
        return 0;
}

void free_create_args(struct create_args *a)
{
        /* A container that was never created gives its image rootfs back;
         * a created one does at delete. */
        if (a->img_ready && !a->created)
                image_run_release(a->img.storage, a->img.id);
        image_run_free(&a->img);
        frontdoor_free(&a->fd);
        oci_config_free(a->cfg);
        free(a->json);
        free(a->bundle_abs);
}

static int cmd_create(struct cli *c, int argc, char **argv, herr_t *err)
{
        struct create_args a;
        struct container_state st = { 0 };
        bool image = frontdoor_wants_image(argc, argv);
        int rc = parse_create_args(c, "create", argc, argv, &a, err);
        if (rc == 0 && a.fd.dry_run) {
                printf("%s\n", a.json);
        } else if (rc == 0) {
                a.o.root = c->root;
                rc = container_create(&a.o, a.cfg, &st, err);
        }
        container_state_free(&st);
        a.created = rc == 0 && !a.fd.dry_run;
        free_create_args(&a);
        return rc ? (image ? EXIT_ENGINE_ERROR : EXIT_HUSK_ERROR) : 0;
}

static int one_id(const char *cmd, int argc, char **argv, const char **id, herr_t *err)
{
        if (optind != argc - 1)
                return cli_usage_error(cmd, optind >= argc ? "missing container id" : "too many arguments", err);
        *id = argv[optind];
        return 0;
}

static int no_options(const char *cmd, int argc, char **argv, herr_t *err)
{
        static const struct option none[] = { { NULL, 0, NULL, 0 } };
        opterr = 0;
        if (getopt_long(argc, argv, "+", none, NULL) != -1)
                return cli_usage_error(cmd, "unknown option", err);
        return 0;
}

static int cmd_start(struct cli *c, int argc, char **argv, herr_t *err)
{
        const char *id = NULL;
        if (no_options("start", argc, argv, err) < 0 || one_id("start", argc, argv, &id, err) < 0)
                return EXIT_HUSK_ERROR;
        return container_start(c->root, id, err) < 0 ? EXIT_HUSK_ERROR : 0;
}

static int cmd_kill(struct cli *c, int argc, char **argv, herr_t *err)
{
        static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, { NULL, 0, NULL, 0 } };
        bool all = false;
        int o;
        opterr = 0;
        while ((o = getopt_long(argc, argv, "+a", opts, NULL)) != -1) {
                if (o != 'a')
                        return cli_usage_error("kill", "unknown option", err), EXIT_HUSK_ERROR;
                all = true;
        }
        if (optind >= argc || argc - optind > 2)
                return cli_usage_error("kill", optind >= argc ? "missing container id" : "too many arguments",
                                       err), EXIT_HUSK_ERROR;
        const char *id = argv[optind];
        int sig = SIGTERM;
        if (argc - optind == 2 && (sig = signal_parse(argv[optind + 1])) < 0)
                return herr_set(err, 0, "kill: unknown signal '%s' (use a name like TERM or KILL, or a number)",
                                argv[optind + 1]), EXIT_HUSK_ERROR;
        return container_kill(c->root, id, sig, all, err) < 0 ? EXIT_HUSK_ERROR : 0;
}

static int cmd_delete(struct cli *c, int argc, char **argv, herr_t *err)
{
        static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
        bool force = false;
        int o;
        opterr = 0;
        while ((o = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
                if (o != 'f')
                        return cli_usage_error("delete", "unknown option", err), EXIT_HUSK_ERROR;
                force = true;
        }
        const char *id = NULL;
        if (one_id("delete", argc, argv, &id, err) < 0)
                return EXIT_HUSK_ERROR;
        /* runc: delete --force of a container that does not exist succeeds
         * (the shims call it again after delete). */
        char dpath[PATH_MAX];
        if (force && state_check_id(id, err) == 0 &&
            snprintf(dpath, sizeof dpath, "%s/%s", c->root, id) < (int)sizeof dpath &&
            access(dpath, F_OK) < 0 && errno == ENOENT)
                return 0;
        return container_delete(c->root, id, force, err) < 0 ? EXIT_HUSK_ERROR : 0;
}

static int cmd_state(struct cli *c, int argc, char **argv, herr_t *err)
{
        const char *id = NULL;
        if (no_options("state", argc, argv, err) < 0 || one_id("state", argc, argv, &id, err) < 0)
                return EXIT_HUSK_ERROR;
        _cleanup_close_ int dirfd = -1;
        if (store_open_reader(c->root, id, &dirfd, err) < 0)
                return EXIT_HUSK_ERROR;
        struct container_state st;
        _cleanup_free_ char *json = NULL;
        int rc = 0;
        if (dirfd < 0 || state_load(dirfd, &st, err) < 0) {
                /* Still being created: only the id is known. */
                herr_clear(err);
                memset(&st, 0, sizeof st);
                st.id = strdup(id);
                st.bundle = strdup("");
                rc = state_oci_json(&st, "creating", true, &json, err);
        } else {
                const char *status = state_status(dirfd, &st);
                /* VM mode: why the VM ended, for the user (README, VM mode). */
                if (st.vm && !strcmp(status, "stopped") && vm_container_annotate_exit(dirfd, &st) < 0)
                        rc = herr_set(err, ENOMEM, "container '%s': state", id);
                if (rc == 0)
                        rc = state_oci_json(&st, status, true, &json, err);
        }
        if (rc == 0)
                printf("%s\n", json);
        container_state_free(&st);
        return rc < 0 ? EXIT_HUSK_ERROR : 0;
}

static int cmd_not_supported(struct cli *c, int argc, char **argv, herr_t *err)
{
        (void)c;
        (void)argc;
        return herr_set(err, 0, "%s: not supported by husk", argv[0]), EXIT_HUSK_ERROR;
}

static const struct command table[] = {
        { "create", "create a container from a bundle; its program waits for start",
          "create [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] [--no-pivot]\n"
          "            [--no-new-keyring] [--preserve-fds N] [--vm]\n"
          "            [--net none|host|bridge] [-p HOSTPORT:CPORT[/tcp|udp]]... ID\n"
          "       husk create --image REF [--name ID | ID] [ENGINE FLAGS] [--] [CMD ARGS...]\n"
          "       (ENGINE FLAGS: see husk run --help)",
          cmd_create, true },
        { "start", "run the program of a created container", "start ID", cmd_start, false },
        { "run", "create and start a container; wait for it unless --detach",
          "run [--bundle DIR] [--detach] [--keep] [--pid-file FILE] [--console-socket SOCK]\n"
          "         [--no-pivot] [--no-new-keyring] [--preserve-fds N] [--vm]\n"
          "         [--net none|host|bridge] [-p HOSTPORT:CPORT[/tcp|udp]]... ID\n"
          "       husk run --image REF [--name ID | ID] [-d|--detach] [--rm|--keep] [--dry-run]\n"
          "         [-e KEY=VAL] [--env-file FILE] [-w DIR] [-u UID[:GID]] [-v HOST:CTR[:ro]]\n"
          "         [--tmpfs PATH[:OPTS]] [--read-only] [--memory SIZE] [--cpus N] [--pids-limit N]\n"
          "         [--net none|host|bridge] [-p [IP:]HOST:CTR[/udp]] [--hostname NAME]\n"
          "         [--cap-add CAP] [--cap-drop CAP] [--security-opt seccomp=unconfined|FILE]\n"
          "         [-t|--tty] [-i|--interactive] [--vm] [--timeout DURATION] [--] [CMD ARGS...]\n"
          "\n"
          "  --image mode: the exit status is the container's (128+N for signal N),\n"
          "  124 when --timeout killed it, 125 for an error of husk itself.\n"
          "  --dry-run prints the config.json the flags make instead of running it.",
          cmd_run, true },
        { "kill", "send a signal to a container (default TERM)", "kill [--all] ID [SIGNAL]", cmd_kill, false },
        { "delete", "delete a stopped container (--force: any)", "delete [--force] ID", cmd_delete, false },
        { "state", "print the OCI state of a container", "state ID", cmd_state, false },
        { "checkpoint", "not supported", "checkpoint ID", cmd_not_supported, false },
        { "restore", "not supported", "restore ID", cmd_not_supported, false },
        { NULL, NULL, NULL, NULL, false },
};

const struct command *commands_lifecycle(void)
{
        return table;
}
