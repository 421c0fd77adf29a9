/* husk start, kill, delete. */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../cgroups/cgroups.h"
#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "../seccomp/seccomp.h"
#include "fault.h"
#include "hooks.h"
#include "image_run.h"
#include "network.h" /* net */
#include "log.h"
#include "sync.h"
#include "vm_exec.h"
#include "vm_mode.h"

void husk_warn(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        log_vmsg(LOG_LEVEL_WARN, fmt, ap);
        va_end(ap);
}

void husk_warn_str(const char *msg)
{
        husk_warn("%s", msg);
}

int container_config(int dirfd, struct oci_config **cfg, herr_t *err)
{
        _cleanup_close_ int fd = openat(dirfd, "config.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return herr_sys(err, "state: config.json");
        _cleanup_free_ char *json = NULL;
        size_t len;
        if (read_fd(fd, 4u << 20, &json, &len, err) < 0)
                return herr_prefix(err, "state: config.json");
        if (oci_config_parse(json, len, cfg, err) < 0)
                return herr_prefix(err, "state: config.json");
        return 0;
}

static int connect_start(int dirfd, herr_t *err)
{
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return herr_sys(err, "socket");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/" STATE_START_SOCK, dirfd);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                int e = errno;
                close(fd);
                return herr_set(err, e, "connect to the container init");
        }
        return fd;
}


int container_open(const char *root, const char *id, int lock, struct opened *o, herr_t *err)
{
        memset(o, 0, sizeof *o);
        o->dirfd = store_open(root, id, lock, err);
        if (o->dirfd < 0)
                return -1;
        if (state_load(o->dirfd, &o->st, err) < 0) {
                close(o->dirfd);
                o->dirfd = -1;
                return herr_prefix(err, "container '%s' is being created or its state is damaged", id);
        }
        o->status = state_status(o->dirfd, &o->st);
        return 0;
}

void container_close(struct opened *o)
{
        if (o->dirfd >= 0)
                close(o->dirfd);
        container_state_free(&o->st);
}

/* config-linux.md listenerPath: the seccomp notify fd with the state. */
static int send_listener(struct opened *o, const struct oci_config *cfg, int fd, herr_t *err)
{
        const struct oci_seccomp *sc = cfg->linux_ ? cfg->linux_->seccomp : NULL;
        if (!sc || !sc->listener_path)
                return herr_set(err, 0, "linux.seccomp: a listener fd without listenerPath");
        _cleanup_free_ char *state = NULL, *doc = NULL;
        if (state_oci_json(&o->st, "creating", false, &state, err) < 0 ||
            seccomp_process_state_json(state, o->st.pid, sc->listener_metadata, &doc, err) < 0 ||
            seccomp_send_listener(sc->listener_path, fd, doc, err) < 0)
                return herr_prefix(err, "linux.seccomp.listenerPath %s", sc->listener_path);
        return 0;
}

static int start_steps(struct opened *o, const struct oci_config *cfg, herr_t *err)
{
        _cleanup_free_ char *json = NULL;
        if (state_oci_json(&o->st, "created", false, &json, err) < 0)
                return -1;
        _cleanup_close_ int conn = connect_start(o->dirfd, err);
        if (conn < 0)
                return -1;
        HUSK_FAULT_POINT("start.before-exec");
        if (sync_send_str(conn, SYNC_START, json) < 0)
                return herr_sys(err, "container init");
        /* Only remove the socket once the init has it: from now on the
         * container is no longer "created". */
        (void)unlinkat(o->dirfd, STATE_START_SOCK, 0);
        struct sync_msg m;
        for (;;) {
                if (sync_recv(conn, &m) < 0)
                        break; /* EOF: the init executed the program */
                if (m.type == SYNC_ERROR) {
                        herr_set(err, 0, "%s", m.data ? m.data : "container init failed");
                        sync_msg_free(&m);
                        return -1;
                }
                if (m.type == SYNC_FD && m.fd >= 0 && send_listener(o, cfg, m.fd, err) < 0) {
                        sync_msg_free(&m);
                        return -1;
                }
                sync_msg_free(&m);
        }
        free(json);
        json = NULL;
        if (state_oci_json(&o->st, "running", false, &json, err) < 0)
                return -1;
        if (cfg->hooks && hooks_run(&cfg->hooks->poststart, "poststart", json, err) < 0) {
                /* runtime.md: a failed poststart hook stops the container. */
                if (o->st.pid > 0 && pid_alive(o->st.pid, o->st.pid_start))
                        kill(o->st.pid, SIGKILL);
                return -1;
        }
        return 0;
}

int container_start(const char *root, const char *id, herr_t *err)
{
        return container_start_cfg(root, id, NULL, err);
}

int container_start_cfg(const char *root, const char *id, const struct oci_config *parsed, herr_t *err)
{
        struct opened o;
        if (container_open(root, id, LOCK_EX, &o, err) < 0)
                return -1;
        int rc = -1;
        struct oci_config *cfg = NULL;
        if (strcmp(o.status, "created") != 0)
                herr_set(err, 0, "container '%s' is %s, not created: cannot start", id, o.status);
        else if (parsed || container_config(o.dirfd, &cfg, err) == 0)
                rc = start_steps(&o, parsed ? parsed : cfg, err);
        oci_config_free(cfg);
        container_close(&o);
        return rc;
}

static int signal_init(const struct container_state *st, int sig, herr_t *err)
{
        _cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
        /* Check the start time after opening the pidfd: the pid cannot be
         * reused while we hold it. */
        if (pfd < 0 || !pid_alive(st->pid, st->pid_start))
                return herr_set(err, ESRCH, "container '%s' is not running", st->id);
        if (syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) < 0)
                return herr_sys(err, "container '%s': signal %d", st->id, sig);
        return 0;
}

int container_kill(const char *root, const char *id, int sig, bool all, herr_t *err)
{
        struct opened o;
        if (container_open(root, id, LOCK_SH, &o, err) < 0)
                return -1;
        int rc;
        if (!strcmp(o.status, "stopped") && !all)
                rc = herr_set(err, 0, "container '%s' is stopped: cannot signal it", id);
        else if (all && o.st.vm && !strcmp(o.status, "running")) /* in the guest */
                rc = vm_container_kill_all(o.dirfd, id, o.status, sig, err);
        else if (all && o.st.cgroup && !o.st.vm) /* VM mode before start: the monitor */
                rc = cg_signal_all(o.st.cgroup, sig, err);
        else if (!strcmp(o.status, "stopped"))
                rc = 0;
        else
                rc = signal_init(&o.st, sig, err);
        container_close(&o);
        return rc;
}

static int wait_gone(const struct container_state *st, int timeout_ms)
{
        _cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
        if (pfd < 0 || !pid_alive(st->pid, st->pid_start))
                return 0;
        struct pollfd p = { .fd = pfd, .events = POLLIN };
        return poll(&p, 1, timeout_ms) > 0 ? 0 : -1;
}

static int destroy(struct opened *o, const char *root, const struct oci_config *parsed, herr_t *err)
{
        if (strcmp(o->status, "stopped") != 0) {
                herr_t e2 = { 0 };
                if (o->st.cgroup)
                        (void)cg_signal_all(o->st.cgroup, SIGKILL, &e2);
                if (pid_alive(o->st.pid, o->st.pid_start))
                        (void)signal_init(&o->st, SIGKILL, &e2);
                /* A frozen cgroup must be thawed for SIGKILL to land. */
                if (!strcmp(o->status, "paused") && o->st.cgroup)
                        (void)cg_freeze(o->st.cgroup, false, &e2);
                if (wait_gone(&o->st, 10000) < 0)
                        return herr_set(err, 0, "container '%s': init %d did not die", o->st.id, o->st.pid);
        }
        HUSK_FAULT_POINT("delete.after-kill");
        if (o->st.vm)
                vm_container_cleanup(o->dirfd);
        if (o->st.cgroup && cg_destroy(o->st.cgroup, err) < 0)
                return -1;
        struct oci_config *cfg = NULL;
        herr_t e3 = { 0 };
        if (!parsed && container_config(o->dirfd, &cfg, &e3) < 0)
                husk_warn("container '%s': %s: poststop hooks not run", o->st.id, e3.msg);
        const struct oci_config *c = parsed ? parsed : cfg;
        if (c && c->hooks) {
                _cleanup_free_ char *json = NULL;
                if (state_oci_json(&o->st, "stopped", false, &json, &e3) == 0 &&
                    hooks_run(&c->hooks->poststop, "poststop", json, &e3) < 0)
                        husk_warn("%s", e3.msg);
        }
        oci_config_free(cfg);
        if (o->st.image && o->st.storage)
                image_run_release(o->st.storage, o->st.id);
        network_teardown(root, o->st.id); /* net */
        return store_remove(root, o->st.id, err);
}

/* A create killed before state.json was written may have left its cgroup
 * and init behind: config.json (saved before the cgroup is made) names the
 * cgroup; destroy it (killing what is in it) if it is recorded as ours. */
static int destroy_half_created(int dirfd, const char *id, herr_t *err)
{
        struct oci_config *cfg = NULL;
        herr_t e2 = { 0 };
        if (container_config(dirfd, &cfg, &e2) < 0)
                return 0; /* killed before the config was saved: nothing else */
        _cleanup_free_ char *cg = NULL;
        int rc = 0;
        if (cg_root() && cg_resolve_path(cfg->linux_ ? cfg->linux_->cgroups_path : NULL, id, &cg, &e2) == 0) {
                char owner[256];
                ssize_t n = getxattr(cg, "trusted.husk.owner", owner, sizeof owner - 1);
                if (n >= 0) {
                        owner[n] = '\0';
                        if (!strcmp(owner, id))
                                rc = cg_destroy(cg, err);
                }
        }
        oci_config_free(cfg);
        return rc;
}

int container_delete(const char *root, const char *id, bool force, herr_t *err)
{
        return container_delete_cfg(root, id, force, NULL, err);
}

int container_delete_cfg(const char *root, const char *id, bool force, const struct oci_config *parsed,
                         herr_t *err)
{
        struct opened o;
        if (container_open(root, id, LOCK_EX, &o, err) < 0) {
                /* A state directory without state.json is a create that
                 * died half-way: --force removes it. */
                if (!force)
                        return -1;
                herr_t e2 = { 0 };
                int fd = store_open(root, id, LOCK_EX, &e2);
                if (fd < 0)
                        return -1;
                herr_clear(err);
                network_teardown(root, id); /* net */
                int rc = destroy_half_created(fd, id, err);
                if (rc == 0)
                        vm_container_cleanup(fd); /* a VM monitor's run dir, if any */
                close(fd);
                return rc < 0 ? -1 : store_remove(root, id, err);
        }
        int rc;
        if (!force && strcmp(o.status, "stopped") != 0)
                rc = herr_set(err, 0, "container '%s' is %s: stop it first or use --force", id, o.status);
        else
                rc = destroy(&o, root, parsed, err);
        container_close(&o);
        return rc;
}
