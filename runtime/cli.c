#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cli_int(const char *flag, const char *val, long min, long max, long *out, herr_t *err)
{
        char *end;
        errno = 0;
        long v = strtol(val, &end, 10);
        if (errno || end == val || *end || v < min || v > max)
                return herr_set(err, 0, "%s '%s': expected an integer from %ld to %ld", flag, val, min, max);
        *out = v;
        return 0;
}

bool cli_wants_help(int argc, char **argv)
{
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--"))
                        return false;
                if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
                        return true;
                if (argv[i][0] != '-')
                        return false;
        }
        return false;
}

int cli_usage_error(const char *cmd, const char *what, herr_t *err)
{
        return herr_set(err, 0, "%s: %s (see husk %s --help)", cmd, what, cmd);
}
