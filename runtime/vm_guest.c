/* `husk vm-guest ID CONFIG_JSON [NETWORK]`: the inside half of VM mode. A static
 * build of husk (build/vm/husk-guest) is /husk in the VM's initramfs; the
 * agent runs it with the container's config.json after mounting the shared
 * bundle rootfs at /newroot (husk.oci=1). It makes the container there with
 * husk's own code (namespaces, cgroup v2 limits, capabilities, seccomp,
 * mounts, rlimits, hostname, user), runs it like `husk run` and exits with
 * its status. createContainer and startContainer hooks run here, in the
 * container; the other hooks are the host's (runtime/vm_mode.c). NETWORK
 * (net/vmguest.c) is the host's allocation for a bridged container (eth0
 * moved into its network namespace) or "none". Runs as
 * root in the guest, in the initramfs root; pivot_root cannot leave the
 * initramfs, so the container root is entered with MS_MOVE + chroot. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/fileutil.h"
#include "../net/net.h"
#include "cli.h"
#include "container.h"
#include "supervise.h"
#include "terminal.h"
#include "vm_binds.h"
#include "vm_mode.h"

#define GUEST_ROOT VM_GUEST_ROOT
#define GUEST_ROOTFS "/newroot"

static size_t dropped_from, dropped_total;

/* Bind mounts whose source is neither shared from the host (vm_guest_binds)
 * nor in the guest (device nodes): skip them with a warning rather than
 * fail. The skipped entries are moved past n_mounts so oci_config_free
 * still frees them. */
static void drop_host_binds(struct oci_config *cfg)
{
        size_t keep = 0;
        for (size_t i = 0; i < cfg->n_mounts; i++) {
                struct oci_mount *m = &cfg->mounts[i];
                if (vm_mount_is_bind(m) && m->source && access(m->source, F_OK) < 0) {
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

/* The status pipe of the agent (fd 3, PROTO_STATUS to the host), or -1. */
static int status_fd = -1;

static void status_open(void)
{
        struct stat sb;
        if (fstat(3, &sb) == 0 && S_ISFIFO(sb.st_mode) && fcntl(3, F_SETFD, FD_CLOEXEC) == 0)
                status_fd = 3;
}

static void status_send(char what, const char *msg)
{
        char buf[HERR_MSG_MAX + 1];
        int n = snprintf(buf, sizeof(buf), "%c%s", what, msg ? msg : "");
        if (status_fd < 0 || n < 0)
                return;
        (void)write_all(status_fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
        close(status_fd);
        status_fd = -1;
}

/* In the guest, createContainer and startContainer hooks run in the
 * container (runtime/init.c; createContainer chrooted into the rootfs);
 * the others are the host's (runtime/vm_mode.c, lifecycle.c). */
static struct oci_hooks *guest_hooks(const struct oci_hooks *h, struct oci_hooks *out)
{
        if (!h || (!h->create_container.n && !h->start_container.n))
                return NULL;
        *out = (struct oci_hooks){ .create_container = h->create_container,
                                   .start_container = h->start_container };
        return out;
}

static int guest_run(const char *id, char *json, const char *net_text, herr_t *err)
{
        struct oci_config *cfg = NULL;
        struct net_opts net = { 0 };
        struct net_guest guest = { 0 };
        if (net_text && net_guest_parse(net_text, &net, &guest, err) < 0)
                return -1;
        if (oci_config_parse(json, strlen(json), &cfg, err) < 0) {
                free(guest.resolv);
                return herr_prefix(err, "config.json");
        }
        if (vm_guest_binds(cfg, err) < 0) {
                free(guest.resolv);
                oci_config_free(cfg);
                return -1;
        }
        struct oci_hooks *hooks = cfg->hooks, in_guest;
        char *host_root = cfg->root ? cfg->root->path : NULL;
        cfg->hooks = guest_hooks(hooks, &in_guest);
        if (cfg->root)
                cfg->root->path = GUEST_ROOTFS;
        drop_host_binds(cfg);
        struct create_opts o = {
                .root = GUEST_ROOT, .id = id, .console_fd = -1, .no_pivot = true,
                .config_json = json, .config_len = strlen(json),
                .net = net_text ? &net : NULL, /* net: the host's tap is our eth0 */
        };
        const char *bundle = getenv(VM_GUEST_BUNDLE_ENV);
        o.bundle = bundle && bundle[0] == '/' ? bundle : "/";
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
        /* the parsed config: the hooks of the host (poststart) stay there */
        if (container_start_cfg(GUEST_ROOT, id, cfg, err) < 0)
                goto out;
        status_send('S', NULL);
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
        free(guest.resolv);
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
        if (argc != 3 && argc != 4)
                return cli_usage_error("vm-guest", "expected ID CONFIG_JSON [NETWORK]", err), EXIT_HUSK_ERROR;
        vm_mode_guest = true;
        status_open();
        int rc = guest_run(argv[1], argv[2], argc == 4 ? argv[3] : NULL, err);
        if (rc < 0 && status_fd >= 0) { /* husk start reports it */
                status_send('E', err->msg);
                herr_clear(err);
        }
        return rc < 0 ? EXIT_HUSK_ERROR : rc;
}
