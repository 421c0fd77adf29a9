/* husk create: from a bundle to a container waiting for start.
 * Runs in the runtime namespace as root. On any failure, everything made so
 * far is undone (init killed, cgroup removed, state directory removed). */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../cgroups/cgroups.h"
#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "network.h" /* net */
#include "../seccomp/seccomp.h"
#include "process.h"
#include "rootfs.h"
#include "hooks.h"
#include "init.h"
#include "sync.h"
#include "terminal.h"
#include "vm_mode.h"
#include "fault.h"

struct creation {
        const struct create_opts *o;
        struct oci_config *cfg;
        struct container_state *st;
        int dirfd;
        int start_fd;
        int sync_fd;
        int console_fd;
        int pidfd;
        struct ns_plan ns;
        bool hooks_started;
        struct seccomp_prog seccomp;
};


/* The device filter: the config's rules, then the default devices, then
 * the nodes of linux.devices (later rules win). */
static int apply_device_rules(struct creation *c, herr_t *err)
{
        const struct oci_linux *l = c->cfg->linux_;
        const struct oci_resources *res = l ? l->resources : NULL;
        const struct oci_device_cgroup *defs;
        size_t nd = cg_default_device_rules(&defs);
        size_t nr = res ? res->n_devices : 0, nl = l ? l->n_devices : 0;
        if (nl > 64)
                return herr_set(err, E2BIG, "linux.devices: more than 64 entries");
        _cleanup_free_ struct oci_device_cgroup *rules = calloc(nr + nd + nl, sizeof *rules);
        if (!rules)
                return herr_set(err, ENOMEM, "device rules");
        for (size_t i = 0; i < nr; i++)
                rules[i] = res->devices[i];
        for (size_t i = 0; i < nd; i++)
                rules[nr + i] = defs[i];
        static char rwm[] = "rwm";
        char types[64][2];
        size_t n = nr + nd;
        for (size_t i = 0; i < nl; i++) {
                const struct oci_device *d = &l->devices[i];
                if (d->type[0] == 'p')
                        continue; /* fifos need no device rule */
                types[i][0] = d->type[0] == 'u' ? 'c' : d->type[0];
                types[i][1] = '\0';
                rules[n++] = (struct oci_device_cgroup){
                        .allow = true,
                        .type = types[i],
                        .major = { true, d->major },
                        .minor = { true, d->minor },
                        .access = rwm,
                };
        }
        if (cg_devices_apply(c->st->cgroup, rules, n, err) < 0)
                return herr_prefix(err, "linux.resources.devices");
        return 0;
}

static int setup_cgroup(struct creation *c, herr_t *err)
{
        const struct oci_linux *l = c->cfg->linux_;
        const struct oci_resources *res = l ? l->resources : NULL;
        if (!cg_root())   /* no v2 at all: only a config without limits runs */
                return cg_check_available(res, err);
        if (cg_resolve_path(l ? l->cgroups_path : NULL, c->o->id, &c->st->cgroup, err) < 0)
                return -1;
        if (cg_create_owned(c->st->cgroup, c->o->id, res, err) < 0) {
                free(c->st->cgroup);
                c->st->cgroup = NULL;
                return -1;
        }
        return apply_device_rules(c, err);
}

static int state_json(struct creation *c, const char *status, char **out, herr_t *err)
{
        return state_oci_json(c->st, status, false, out, err);
}

/* prestart and createRuntime, in the runtime namespace, then hand the
 * state to the init for createContainer. */
/* The init is gone (a send failed): the error it sent before it exited,
 * if any, says why. */
static int init_died(struct creation *c, herr_t *err)
{
        int e = errno;
        struct sync_msg m;
        while (sync_recv(c->sync_fd, &m) == 0) {
                bool is_error = m.type == SYNC_ERROR;
                if (is_error)
                        herr_set(err, 0, "%s", m.data ? m.data : "container init failed");
                sync_msg_free(&m);
                if (is_error)
                        return -1;
        }
        return herr_set(err, e, "container init");
}

static int run_create_hooks(struct creation *c, herr_t *err)
{
        _cleanup_free_ char *json = NULL;
        if (state_json(c, "creating", &json, err) < 0)
                return -1;
        const struct oci_hooks *h = c->cfg->hooks;
        if (h && (hooks_run(&h->prestart, "prestart", json, err) < 0 ||
                  hooks_run(&h->create_runtime, "createRuntime", json, err) < 0))
                return -1;
        if (sync_send_str(c->sync_fd, SYNC_CONTINUE, json) < 0)
                return init_died(c, err);
        return 0;
}

static bool has_create_hooks(const struct oci_config *cfg)
{
        const struct oci_hooks *h = cfg->hooks;
        return h && (h->prestart.n || h->create_runtime.n);
}

static int spawn(struct creation *c, herr_t *err)
{
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                return herr_sys(err, "socketpair");
        struct init_args a = {
                .cfg = c->cfg,
                .rootfs = c->st->rootfs,
                .bundle = c->o->bundle,
                .ns = &c->ns,
                .sync_fd = sp[1],
                .start_fd = c->start_fd,
                .console_fd = c->console_fd,
                .no_pivot = c->o->no_pivot,
                .no_new_keyring = c->o->no_new_keyring,
                .preserve_fds = c->o->preserve_fds,
                .seccomp = c->seccomp.insns ? &c->seccomp : NULL,
        };
        fflush(NULL);
        _cleanup_close_ int cgfd = c->st->cgroup ? cg_open(c->st->cgroup, err) : -1;
        if (c->st->cgroup && cgfd < 0) {
                close(sp[0]);
                close(sp[1]);
                return -1;
        }
        pid_t stage1 = cgfd >= 0 ? cg_clone_into(cgfd, err) : fork();
        if (stage1 < 0) {
                close(sp[0]);
                close(sp[1]);
                return cgfd >= 0 ? -1 : herr_sys(err, "fork");
        }
        if (stage1 == 0) {
                close(sp[0]);
                init_stage1(&a);
        }
        close(sp[1]);
        c->sync_fd = sp[0];
        ns_plan_close(&c->ns);
        struct sync_msg m;
        int rc = 0;
        if (sync_send(c->sync_fd, SYNC_CONTINUE, NULL, 0, -1) < 0)
                rc = herr_sys(err, "container init");
        while (!rc) {
                if (sync_recv(c->sync_fd, &m) < 0) {
                        rc = herr_set(err, 0, "container init exited during setup");
                        break;
                }
                if (m.type == SYNC_USERNS) {
                        if (ns_write_id_maps(stage1, c->cfg->linux_, err) < 0 ||
                            sync_send(c->sync_fd, SYNC_USERNS_DONE, NULL, 0, -1) < 0)
                                rc = -1;
                } else if (m.type == SYNC_PID && m.len == sizeof(int32_t)) {
                        int32_t p;
                        memcpy(&p, m.data, sizeof p);
                        c->st->pid = p;
                        c->pidfd = (int)syscall(SYS_pidfd_open, p, 0);
                        c->st->pid_start = pid_start_time(p);
                        sync_msg_free(&m);
                        break;
                } else if (m.type == SYNC_ERROR) {
                        rc = herr_set(err, 0, "%s", m.data ? m.data : "container init failed");
                } else {
                        rc = herr_set(err, 0, "container init: protocol error");
                }
                sync_msg_free(&m);
        }
        int status;
        while (waitpid(stage1, &status, 0) < 0 && errno == EINTR)
                ;
        /* Sync point 1 of the init: stage 1 is gone, go on. */
        HUSK_FAULT_POINT("create.before-init-continue");
        if (!rc && sync_send(c->sync_fd, SYNC_CONTINUE, NULL, 0, -1) < 0)
                rc = herr_sys(err, "container init");
        return rc;
}

static void kill_init(struct creation *c)
{
        if (c->pidfd < 0)
                return;
        (void)syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
        struct pollfd p = { .fd = c->pidfd, .events = POLLIN };
        (void)poll(&p, 1, 5000);
        /* Reap it when we are its subreaper (run). */
        (void)waitpid(c->st->pid, NULL, WNOHANG);
}

/* Compile linux.seccomp here, where <--root> is reachable (the init loads
 * it after pivot_root); the cache makes it cheap after the first time. */
static int prepare_seccomp(struct creation *c, herr_t *err)
{
        const struct oci_seccomp *s = c->cfg->linux_ ? c->cfg->linux_->seccomp : NULL;
        char dir[PATH_MAX];
        if (!s)
                return 0;
        if (snprintf(dir, sizeof dir, "%s/.seccomp-cache", c->o->root) >= (int)sizeof dir)
                return herr_set(err, ENAMETOOLONG, "--root %s", c->o->root);
        if (seccomp_prepare(s, dir, &c->seccomp, err) < 0)
                return herr_prefix(err, "config.json");
        return 0;
}

static int create_steps(struct creation *c, herr_t *err)
{
        struct sync_msg m;
        if (container_record(c->st, c->o, c->cfg, err) < 0)
                return -1;
        if (network_prepare(c->o->net, c->cfg, c->o->root, c->o->id, err) < 0) /* net */
                return -1;
        if (ns_plan_open(c->cfg, &c->ns, err) < 0)
                return -1;
        if (container_save_config(c->dirfd, c->o, err) < 0)
                return -1;
        if (c->cfg->process->terminal && c->console_fd < 0) {
                if (!c->o->console_socket)
                        return herr_set(err, 0, "process.terminal is true: --console-socket is required");
                c->console_fd = console_socket_connect(c->o->console_socket, err);
                if (c->console_fd < 0)
                        return -1;
        }
        if (setup_cgroup(c, err) < 0)
                return -1;
        HUSK_FAULT_POINT("create.after-cgroup");
        c->start_fd = container_start_socket(c->dirfd, err);
        if (c->start_fd < 0)
                return -1;
        if (prepare_seccomp(c, err) < 0)
                return -1;
        if (spawn(c, err) < 0)
                return -1;
        HUSK_FAULT_POINT("create.after-spawn");
        /* Without runtime-namespace hooks the init need not wait for us
         * at sync point 3: its CONTINUE is queued right away. */
        bool queued = !has_create_hooks(c->cfg);
        if (queued && run_create_hooks(c, err) < 0)
                return -1;
        if (sync_expect(c->sync_fd, SYNC_HOOKS, &m, "container init", err) < 0)
                return -1;
        sync_msg_free(&m);
        if (network_setup(c->o->net, c->cfg, c->o->root, c->o->id, c->st->pid, err) < 0) /* net */
                return -1;
        c->hooks_started = true;
        if (!queued && run_create_hooks(c, err) < 0) {
                c->hooks_started = true;
                return -1;
        }
        if (sync_expect(c->sync_fd, SYNC_READY, &m, "container init", err) < 0) {
                c->hooks_started = true;
                return -1;
        }
        sync_msg_free(&m);
        if (state_save(c->dirfd, c->st, err) < 0)
                return -1;
        HUSK_FAULT_POINT("create.after-state");
        if (c->o->pid_file && write_pid_file(c->o->pid_file, c->st->pid, err) < 0)
                return -1;
        return 0;
}

static void undo(struct creation *c)
{
        herr_t e2 = { 0 };
        kill_init(c);
        if (c->st->cgroup && cg_destroy(c->st->cgroup, &e2) < 0)
                husk_warn("%s", e2.msg);
        if (c->hooks_started && c->cfg->hooks) {
                _cleanup_free_ char *json = NULL;
                if (state_json(c, "stopped", &json, &e2) == 0 &&
                    hooks_run(&c->cfg->hooks->poststop, "poststop", json, &e2) < 0)
                        husk_warn("%s", e2.msg);
        }
        network_teardown(c->o->root, c->o->id); /* net */
        if (store_remove(c->o->root, c->o->id, &e2) < 0)
                husk_warn("%s", e2.msg);
}

int container_create(const struct create_opts *o, struct oci_config *cfg, struct container_state *st,
                     herr_t *err)
{
        if (oci_config_validate_runnable(cfg, err) < 0)
                return herr_prefix(err, "config.json");
        if (create_check_config(cfg, err) < 0)
                return -1;
        if (cfg->linux_ && cfg->linux_->seccomp && seccomp_validate(cfg->linux_->seccomp, err) < 0)
                return herr_prefix(err, "config.json");
        if (vm_mode_wanted(cfg, o->vm))
                return vm_container_create(o, cfg, st, err);
        process_warn_caps(cfg->process, husk_warn_str);
        struct creation c = {
                .o = o,
                .cfg = cfg,
                .st = st,
                .start_fd = -1,
                .sync_fd = -1,
                .console_fd = o->console_fd,
                .pidfd = -1,
        };
        for (int t = 0; t < OCI_NS_COUNT; t++)
                c.ns.fds[t] = -1;
        memset(st, 0, sizeof *st);
        c.dirfd = store_create(o->root, o->id, err);
        if (c.dirfd < 0)
                return -1;
        HUSK_FAULT_POINT("create.after-statedir");
        int rc = create_steps(&c, err);
        if (rc < 0)
                undo(&c);
        ns_plan_close(&c.ns);
        if (c.start_fd >= 0)
                close(c.start_fd);
        if (c.sync_fd >= 0)
                close(c.sync_fd);
        if (c.console_fd >= 0 && c.console_fd != o->console_fd)
                close(c.console_fd);
        if (c.pidfd >= 0)
                close(c.pidfd);
        seccomp_prog_free(&c.seccomp);
        close(c.dirfd);
        return rc;
}
