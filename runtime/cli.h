/* runtime/cli.h: the command table of husk and what every command gets. */
#ifndef HUSK_RUNTIME_CLI_H
#define HUSK_RUNTIME_CLI_H

#include <stdbool.h>

#include "../common/error.h"

/* Exit status for errors of husk itself (distinct from a container's). */
#define EXIT_HUSK_ERROR 1

struct cli {
        const char *root;
        const char *storage;   /* --storage: the image store */
        const char *log_path;
        const char *log_format;
        bool debug;
        bool systemd_cgroup;
        bool vm;               /* --vm: every container created runs in a VM */
        char **argv0;          /* the full original argv, for re-exec */
};

struct command {
        const char *name;
        const char *summary;
        const char *usage;     /* printed by `husk CMD --help` */
        int (*run)(struct cli *c, int argc, char **argv, herr_t *err);
        bool enters_container; /* re-exec from a sealed copy first */
};

const struct command *commands_lifecycle(void);
const struct command *commands_info(void);
const struct command *commands_compare(void);
const struct command *commands_exec(void);   /* cmd_exec.c */
const struct command *commands_dropin(void); /* cmd_dropin.c: ps ID, pause, resume, update, events */

/* Parse an integer option value; err names the flag. */
int cli_int(const char *flag, const char *val, long min, long max, long *out, herr_t *err);
/* True when argv has --help or -h before any positional argument. */
bool cli_wants_help(int argc, char **argv);
/* An unexpected or missing positional argument. */
int cli_usage_error(const char *cmd, const char *what, herr_t *err);

#endif
