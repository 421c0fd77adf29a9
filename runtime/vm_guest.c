/* `husk vm-guest ID CONFIG_JSON`: the inside half of VM mode. A static
 * build of husk (build/vm/husk-guest) is /husk in the VM's initramfs; the
 * agent runs it with the container's config.json after mounting the shared
 * bundle rootfs at /newroot (husk.oci=1). It makes the container there with
 * husk's own code (namespaces, cgroup v2 limits, capabilities, seccomp,
 * mounts, rlimits, hostname, user), runs it like `husk run` and exits with
 * its status. Hooks are the host's business (runtime/vm_mode.c). Runs as
 * root in the guest, in the initramfs root; pivot_root cannot leave the
 * initramfs, so the container root is entered with MS_MOVE + chroot. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "container.h"
#include "supervise.h"
#include "terminal.h"
#include "vm_mode.h"

#define GUEST_ROOT VM_GUEST_ROOT
#define GUEST_ROOTFS "/newroot"

static size_t dropped_from, dropped_total;



static bool is_bind(const struct oci_mount *m)
{
        if (m->type && !strcmp(m->type, "bind"))
                return true;
        for (size_t i = 0; i < m->n_options; i++)
                if (!strcmp(m->options[i], "bind") || !strcmp(m->options[i], "rbind"))
                        return true;
        return false;
}

/* Bind mounts of host paths cannot be made in the guest: skip those whose
 * source is missing here (with a warning) rather than fail. The skipped
 * entries are moved past n_mounts so oci_config_free still frees them. */
static void drop_host_binds(struct oci_config *cfg)
{
        size_t keep = 0;
        for (size_t i = 0; i < cfg->n_mounts; i++) {
                struct oci_mount *m = &cfg->mounts[i];
                if (is_bind(m) && m->source && access(m->source, F_OK) < 0) {
                        fprintf(stderr, "husk: warning: VM mode: mounts: bind of host path %s on %s skipped\n",
                                m->source, m->destination);
                        continue;
                }
                if (keep != i) {
                        struct oci_mount t = cfg->mounts[keep];
                        cfg->mounts[keep] = *m;
                        *m = t;
                }
                keep++;
        }
        dropped_from = keep;
        dropped_total = cfg->n_mounts;
        cfg->n_mounts = keep;
}

static int guest_run(const char *id, char *json, herr_t *err)
{
        struct oci_config *cfg = NULL;
        if (oci_config_parse(json, strlen(json), &cfg, err) < 0)
                return herr_prefix(err, "config.json");
        struct oci_hooks *hooks = cfg->hooks;
        char *host_root = cfg->root ? cfg->root->path : NULL;
        cfg->hooks = NULL;
        if (cfg->root)
                cfg->root->path = GUEST_ROOTFS;
        drop_host_binds(cfg);
        struct create_opts o = {
                .root = GUEST_ROOT, .id = id, .bundle = "/", .console_fd = -1, .no_pivot = true,
                .config_json = json, .config_len = strlen(json),
        };
        struct container_state st = { 0 };
        int pair[2] = { -1, -1 }, master = -1, rc = -1;
        int sfd = block_signals(NULL);
        if (sfd < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
                herr_sys(err, "vm-guest: signalfd/subreaper");
                goto out;
        }
        if (cfg->process && cfg->process->terminal) {
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
                        herr_sys(err, "socketpair");
                        goto out;
                }
                o.console_fd = pair[1];
        }
        if (container_create(&o, cfg, &st, err) < 0)
                goto out;
        if (pair[0] >= 0 && (master = terminal_recv(pair[0], err)) < 0)
                goto out;
        if (container_start(GUEST_ROOT, id, err) < 0)
                goto out;
        struct relay r;
        if (master >= 0)
                relay_begin(&r, master, err);
        rc = supervise(st.pid, sfd, -1, NULL, master >= 0 ? &r : NULL);
        if (master >= 0)
                relay_end(&r);
out:
        if (master >= 0)
                close(master);
        if (pair[0] >= 0)
                close(pair[0]);
        if (pair[1] >= 0)
                close(pair[1]);
        if (sfd >= 0)
                close(sfd);
        container_state_free(&st);
        cfg->hooks = hooks;
        cfg->n_mounts = dropped_total;
        if (cfg->root)
                cfg->root->path = host_root;
        oci_config_free(cfg);
        return rc;
}

int cmd_vm_guest(struct cli *c, int argc, char **argv, herr_t *err)
{
        (void)c;
        if (argc != 3)
                return cli_usage_error("vm-guest", "expected ID CONFIG_JSON", err), EXIT_HUSK_ERROR;
        vm_mode_guest = true;
        int rc = guest_run(argv[1], argv[2], err);
        return rc < 0 ? EXIT_HUSK_ERROR : rc;
}
