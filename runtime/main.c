/* husk: a daemonless OCI container runtime. The command line follows
 * runc's: global flags, then a command, its flags and arguments. */
#include <errno.h>
#include <getopt.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../images/images.h"
#include "../spec/version.h"
#include "../seccomp/seccomp.h"
#include "../common/cleanup.h"
#include "cli.h"
#include "container.h"
#include "log.h"
#include "selfexe.h"
#include "vm_mode.h"

static const struct command *(*const command_tables[])(void) = {
        commands_lifecycle, commands_info, commands_exec, commands_dropin, commands_compare, commands_vm,
};

static const struct command *find_command(const char *name)
{
        for (size_t t = 0; t < ARRAY_SIZE(command_tables); t++)
                for (const struct command *c = command_tables[t](); c->name; c++)
                        if (!strcmp(c->name, name))
                                return c;
        return NULL;
}

static void print_help(void)
{
        printf("husk — a daemonless OCI container runtime\n\n"
               "Usage: husk [global options] COMMAND [options] [arguments]\n\nCommands:\n");
        for (size_t t = 0; t < ARRAY_SIZE(command_tables); t++)
                for (const struct command *c = command_tables[t](); c->name; c++)
                        printf("  %-10s %s\n", c->name, c->summary);
        printf("\nGlobal options:\n"
               "  --root DIR          state directory (default /run/husk)\n"
               "  --storage DIR       image store (default /var/lib/husk, or $HUSK_STORAGE)\n"
               "  --log FILE          also write errors and warnings to FILE\n"
               "  --log-format F      text (default) or json\n"
               "  --debug             debug messages\n"
               "  --vm                run containers in a KVM/QEMU microVM (husk check)\n"
               "  --systemd-cgroup    accepted; not supported yet (cgroupfs is used)\n"
               "  --version, -v       print the version\n"
               "  --help, -h          this help; `husk COMMAND --help` for a command\n");
}

static void print_version(void)
{
        const struct scmp_version *v = seccomp_version();
        printf("husk version %s\ncommit: %s\nspec: %s\nlibseccomp: %u.%u.%u\n", HUSK_VERSION, HUSK_COMMIT,
               OCI_VERSION, v->major, v->minor, v->micro);
}

/* Global flags, runc style (--flag VALUE or --flag=VALUE). Returns the
 * index of the command, or -1 with err. */
static int parse_global(int argc, char **argv, struct cli *c, herr_t *err)
{
        static const struct option opts[] = {
                { "root", required_argument, NULL, 'r' },
                { "storage", required_argument, NULL, 'S' },
                { "log", required_argument, NULL, 'l' },
                { "log-format", required_argument, NULL, 'f' },
                { "debug", no_argument, NULL, 'd' },
                { "vm", no_argument, NULL, 'V' },
                { "systemd-cgroup", no_argument, NULL, 's' },
                { "rootless", required_argument, NULL, 'R' },
                { "criu", required_argument, NULL, 'C' },
                { "version", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        opterr = 0;
        int o;
        while ((o = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
                switch (o) {
                case 'r': c->root = optarg; break;
                case 'S': c->storage = optarg; break;
                case 'l': c->log_path = optarg; break;
                case 'f': c->log_format = optarg; break;
                case 'd': c->debug = true; break;
                case 'V': c->vm = true; break;
                case 's': c->systemd_cgroup = true; break;
                case 'R': case 'C': break;
                case 'v': print_version(); exit(0);
                case 'h': print_help(); exit(0);
                default:
                        return herr_set(err, 0, "unknown global option '%s' (see husk --help)", argv[optind - 1]);
                }
        }
        return optind;
}

int main(int argc, char **argv)
{
        const char *storage = getenv("HUSK_STORAGE");
        struct cli c = { .root = "/run/husk", .log_format = "text", .argv0 = argv,
                         .storage = storage && *storage ? storage : IMAGE_DEFAULT_STORAGE };
        herr_t err = { 0 };
        int idx = parse_global(argc, argv, &c, &err);
        if (idx < 0) {
                fprintf(stderr, "husk: %s\n", err.msg);
                return EXIT_HUSK_ERROR;
        }
        int lr = log_init(c.log_path, c.log_format, c.debug);
        if (lr == -1) {
                fprintf(stderr, "husk: --log-format '%s': expected text or json\n", c.log_format);
                return EXIT_HUSK_ERROR;
        }
        if (lr == -2) {
                fprintf(stderr, "husk: --log %s: %s\n", c.log_path, strerror(errno));
                return EXIT_HUSK_ERROR;
        }
        if (idx >= argc) {
                print_help();
                return EXIT_HUSK_ERROR;
        }
        const struct command *cmd = find_command(argv[idx]);
        if (!cmd) {
                log_msg(LOG_LEVEL_ERROR, "unknown command '%s' (see husk --help)", argv[idx]);
                return EXIT_HUSK_ERROR;
        }
        int cargc = argc - idx;
        char **cargv = argv + idx;
        if (cli_wants_help(cargc, cargv)) {
                printf("Usage: husk %s\n\n%s\n", cmd->usage, cmd->summary);
                return 0;
        }
        if (c.systemd_cgroup)
                log_msg(LOG_LEVEL_WARN, "--systemd-cgroup is not supported yet: using cgroupfs directly");
        selfexe_remember_path();
        if (cmd->enters_container && selfexe_ensure_sealed(argv, &err) < 0) {
                log_msg(LOG_LEVEL_ERROR, "%s", err.msg);
                return EXIT_HUSK_ERROR;
        }
        seccomp_set_warn(husk_warn_str);
        optind = 1;
        int rc = cmd->run(&c, cargc, cargv, &err);
        if (rc != 0 && err.msg[0])
                log_msg(LOG_LEVEL_ERROR, "%s", err.msg);
        log_close();
        return rc;
}
