#include <stdbool.h>

#include "image_run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "../images/images.h"
#include "log.h"
#include "state.h"

int image_run_args(struct image_run *r, int argc, char **argv, int i, herr_t *err)
{
        bool dashdash = i > 0 && !strcmp(argv[i - 1], "--");
        const char *id = r->name;
        if (!dashdash && i < argc && !r->name) {
                id = argv[i++];
                if (i < argc && !strcmp(argv[i], "--"))
                        i++;
        }
        if (i < argc)
                r->cmd = argv + i;
        if (id) {
                if (state_check_id(id, err) < 0)
                        return -1;
                r->id = strdup(id);
        } else {
                unsigned char rnd[6];
                if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
                        return herr_sys(err, "generate a container id");
                if (asprintf(&r->id, "husk-%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
                             rnd[4], rnd[5]) < 0)
                        r->id = NULL;
        }
        if (!r->id)
                return herr_set(err, ENOMEM, "container id");
        return 0;
}

int image_run_prepare(struct image_run *r, bool terminal, herr_t *err)
{
        struct image_run_opts o = { .args = r->cmd, .terminal = terminal };
        if (r->opts) {
                r->opts->args = r->cmd;
                o = *r->opts;
        }
        if (image_prepare_bundle(r->storage, r->ref, r->id, &o, NULL, &r->bundle, err) < 0)
                return herr_prefix(err, "--image %s", r->ref);
        return 0;
}

void image_run_release(const char *storage, const char *id)
{
        herr_t e = { 0 };
        if (image_rootfs_release(storage, id, &e) < 0)
                log_msg(LOG_LEVEL_WARN, "image rootfs of '%s': %s", id, e.msg);
}

void image_run_free(struct image_run *r)
{
        free(r->id);
        free(r->bundle);
        memset(r, 0, sizeof *r);
}
