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

enum { OPT_BUNDLE = 'b', OPT_PIDFILE = 0x100, OPT_CONSOLE, OPT_NOPIVOT, OPT_NOKEYRING, OPT_PRESERVE,
       OPT_DETACH = 'd', OPT_KEEP, OPT_VM, OPT_FORCE = 'f', OPT_ALL = 'a' };

static const struct option create_opts[] = {
        { "bundle", required_argument, NULL, OPT_BUNDLE },
        { "pid-file", required_argument, NULL, OPT_PIDFILE },
        { "console-socket", required_argument, NULL, OPT_CONSOLE },
        { "no-pivot", no_argument, NULL, OPT_NOPIVOT },
        { "no-new-keyring", no_argument, NULL, OPT_NOKEYRING },
        { "preserve-fds", required_argument, NULL, OPT_PRESERVE },
        { "detach", no_argument, NULL, OPT_DETACH },
        { "keep", no_argument, NULL, OPT_KEEP },
        { "vm", no_argument, NULL, OPT_VM },
        { NULL, 0, NULL, 0 },
};

/* Reserve the preserved fd numbers so none of husk's own fds lands there. */
static void reserve_fds(int n)
{
        for (int fd = 3; fd < 3 + n; fd++)
                if (fcntl(fd, F_GETFD) < 0) {
                        int nf = open("/dev/null", O_RDWR);
                        if (nf >= 0 && nf != fd) {
                                dup2(nf, fd);
                                close(nf);
                        }
                }
}

static int listen_fds(void)
{
        const char *s = getenv("LISTEN_FDS");
        long n = s ? strtol(s, NULL, 10) : 0;
        return n > 0 && n < 1024 ? (int)n : 0;
}

int parse_create_args(const char *cmd, int argc, char **argv, struct create_args *a, herr_t *err)
{
        memset(a, 0, sizeof *a);
        a->o.console_fd = -1;
        const char *bundle = ".";
        int o;
        long v;
        opterr = 0;
        while ((o = getopt_long(argc, argv, "+b:d", create_opts, NULL)) != -1) {
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
                case OPT_VM: a->o.vm = true; break;
                default:
                        return cli_usage_error(cmd, "unknown option or missing value", err);
                }
        }
        if (optind != argc - 1)
                return cli_usage_error(cmd, optind >= argc ? "missing container id" : "too many arguments", err);
        a->o.id = argv[optind];
        if (state_check_id(a->o.id, err) < 0)
                return -1;
        a->bundle_abs = realpath(bundle, NULL);
        if (!a->bundle_abs)
                return herr_sys(err, "--bundle %s", bundle);
        a->o.bundle = a->bundle_abs;
        a->o.preserve_fds += listen_fds();
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
        return 0;
}

void free_create_args(struct create_args *a)
{
        oci_config_free(a->cfg);
        free(a->json);
        free(a->bundle_abs);
}

static int cmd_create(struct cli *c, int argc, char **argv, herr_t *err)
{
        struct create_args a;
        struct container_state st = { 0 };
        int rc = parse_create_args("create", argc, argv, &a, err);
        if (rc == 0) {
                a.o.root = c->root;
                a.o.vm |= c->vm;
                rc = container_create(&a.o, a.cfg, &st, err);
        }
        container_state_free(&st);
        free_create_args(&a);
        return rc ? EXIT_HUSK_ERROR : 0;
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
        return container_delete(c->root, id, force, err) < 0 ? EXIT_HUSK_ERROR : 0;
}

static int cmd_state(struct cli *c, int argc, char **argv, herr_t *err)
{
        const char *id = NULL;
        if (no_options("state", argc, argv, err) < 0 || one_id("state", argc, argv, &id, err) < 0)
                return EXIT_HUSK_ERROR;
        _cleanup_close_ int dirfd = store_open(c->root, id, LOCK_SH, err);
        if (dirfd < 0)
                return EXIT_HUSK_ERROR;
        struct container_state st;
        _cleanup_free_ char *json = NULL;
        int rc = 0;
        if (state_load(dirfd, &st, err) < 0) {
                /* Still being created: only the id is known. */
                herr_clear(err);
                memset(&st, 0, sizeof st);
                st.id = strdup(id);
                st.bundle = strdup("");
                rc = state_oci_json(&st, "creating", true, &json, err);
        } else {
                rc = state_oci_json(&st, state_status(dirfd, &st), true, &json, err);
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
          "            [--no-new-keyring] [--preserve-fds N] [--vm] ID",
          cmd_create, true },
        { "start", "run the program of a created container", "start ID", cmd_start, false },
        { "run", "create and start a container; wait for it unless --detach",
          "run [--bundle DIR] [--detach] [--keep] [--pid-file FILE] [--console-socket SOCK]\n"
          "         [--no-pivot] [--no-new-keyring] [--preserve-fds N] [--vm] ID",
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
