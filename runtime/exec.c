/* husk exec: a new process in a running container.
 *
 *   husk exec (parent)     checks the container, opens the init's
 *                          namespaces and root, forks C1 into the cgroup
 *   C1                     setns: user first, then the others, mnt last;
 *                          chroot to the init's root; forks C2 (so C2 is
 *                          in the pid namespace), reports C2's pid, exits
 *   C2                     pty, attributes, seccomp, ids, cwd, execve
 *
 * C2 reports a failure over the sync socket (SYNC_ERROR); a successful
 * execve closes the socket (CLOEXEC), which the parent sees as EOF. In the
 * foreground the parent is a subreaper, so C2 becomes its child when C1
 * exits; it forwards signals to C2 and returns C2's exit status. Until the
 * execve, C2 holds no fd of husk other than the sync socket and the console
 * socket, and is not dumpable until its attributes are set; husk itself
 * runs from a sealed memfd (enters_container). */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "../cgroups/cgroups.h"
#include "../common/cleanup.h"
#include "../common/cpulist.h"
#include "../common/fileutil.h"
#include "../namespaces/namespaces.h"
#include "../seccomp/seccomp.h"
#include "container.h"
#include "log.h"
#include "process.h"
#include "state.h"
#include "sync.h"
#include "supervise.h"
#include "terminal.h"
#include "vm_exec.h"

int json_one_object(const char *json, size_t len, const char *what, herr_t *err)
{
        _cleanup_free_ char *copy = strndup(json, len);
        if (!copy)
                return herr_set(err, ENOMEM, "%s", what);
        char msg[256] = "";
        yajl_val v = yajl_tree_parse(copy, msg, sizeof msg);
        if (!v) {
                msg[strcspn(msg, "\n")] = 0;
                return herr_set(err, 0, "%s: invalid JSON%s%s", what, msg[0] ? ": " : "", msg);
        }
        bool ok = YAJL_IS_OBJECT(v);
        yajl_tree_free(v);
        if (!ok)
                return herr_set(err, 0, "%s: expected a JSON object", what);
        return 0;
}

int exec_parse_process(const char *json, size_t len, struct oci_config **holder, herr_t *err)
{
        *holder = NULL;
        if (json_one_object(json, len, "process", err) < 0)
                return -1;
        static const char pre[] = "{\"ociVersion\":\"1.0.2\",\"process\":";
        size_t n = sizeof pre - 1 + len + 2;
        _cleanup_free_ char *doc = malloc(n + 1);
        if (!doc)
                return herr_set(err, ENOMEM, "process.json");
        snprintf(doc, n + 1, "%s%.*s}", pre, (int)len, json);
        if (oci_config_parse(doc, strlen(doc), holder, err) < 0)
                return -1;
        const struct oci_process *p = (*holder)->process;
        if (!p || !p->n_args) {
                oci_config_free(*holder);
                *holder = NULL;
                return herr_set(err, 0, "process.args: must not be empty");
        }
        return 0;
}

struct child {
        const struct exec_opts *o;
        const struct oci_process *p;
        const struct oci_config *cfg;
        int ns[OCI_NS_COUNT];
        int rootfd;
        int sock;
        int console;
        const cpu_set_t *final_cpus; /* execCPUAffinity.final, or NULL */
};

static __attribute__((noreturn)) void child_fail(int sock, herr_t *err)
{
        (void)sync_send_str(sock, SYNC_ERROR, err->msg);
        _exit(1);
}

static bool same_ns(int fd, const char *name)
{
        char path[64];
        struct stat a, b;
        snprintf(path, sizeof path, "/proc/self/ns/%s", name);
        return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static bool keeps_sys_admin(const struct oci_process *p)
{
        const struct oci_capabilities *c = p->capabilities;
        for (size_t i = 0; c && i < c->n_effective; i++)
                if (!strcmp(c->effective[i], "CAP_SYS_ADMIN"))
                        return true;
        return false;
}

static int load_seccomp(const struct child *c, herr_t *err)
{
        if (c->o->no_seccomp || !c->cfg->linux_ || !c->cfg->linux_->seccomp)
                return 0;
        int nfd = -1;
        if (seccomp_load_config(c->cfg->linux_->seccomp, &nfd, err) < 0)
                return -1;
        if (nfd >= 0) {
                int rc = sync_send(c->sock, SYNC_FD, "seccomp", 7, nfd);
                close(nfd);
                if (rc < 0)
                        return herr_sys(err, "send the seccomp listener to husk exec");
        }
        return 0;
}

/* Close every fd from `from` up except the two kept ones. */
static void close_from_except(int from, int k1, int k2)
{
        int k[2] = { k1 < k2 ? k1 : k2, k1 < k2 ? k2 : k1 };
        int lo = from;
        for (int i = 0; i < 2; i++) {
                if (k[i] < lo)
                        continue;
                if (k[i] > lo)
                        (void)syscall(SYS_close_range, lo, k[i] - 1, 0);
                lo = k[i] + 1;
        }
        (void)syscall(SYS_close_range, lo, ~0U, 0);
}

static __attribute__((noreturn)) void child2(struct child *c)
{
        herr_t err = { 0 };
        const struct oci_process *p = c->p;
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        close_from_except(3 + c->o->preserve_fds, c->sock, c->console);
        int slave = -1;
        if (p->terminal) {
                if (setsid() < 0)
                        herr_sys(&err, "setsid"), child_fail(c->sock, &err);
                _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                int master;
                if (root < 0)
                        herr_sys(&err, "open /"), child_fail(c->sock, &err);
                if (terminal_open(root, p->console_size, &master, &slave, &err) < 0)
                        child_fail(c->sock, &err);
                int rc = c->console >= 0 ? terminal_send(c->console, master, &err)
                                         : (sync_send(c->sock, SYNC_FD, "tty", 3, master) < 0
                                                    ? herr_sys(&err, "send the pty to husk exec")
                                                    : 0);
                close(master);
                if (rc < 0)
                        child_fail(c->sock, &err);
                if (terminal_attach(slave, &err) < 0)
                        child_fail(c->sock, &err);
                close(slave);
        }
        if (c->console >= 0)
                close(c->console);
        if (c->final_cpus && sched_setaffinity(0, sizeof *c->final_cpus, c->final_cpus) < 0)
                herr_sys(&err, "process.execCPUAffinity.final"), child_fail(c->sock, &err);
        (void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
        if (process_set_attrs(p, &err) < 0)
                child_fail(c->sock, &err);
        bool late = p->no_new_privileges || keeps_sys_admin(p);
        if (!late && load_seccomp(c, &err) < 0)
                child_fail(c->sock, &err);
        if (process_set_ids(p, NULL, &err) < 0 || process_chdir(p, &err) < 0)
                child_fail(c->sock, &err);
        if (late && load_seccomp(c, &err) < 0)
                child_fail(c->sock, &err);
        for (int fd = 3; fd < 3 + c->o->preserve_fds; fd++) {
                int fl = fcntl(fd, F_GETFD);
                if (fl >= 0)
                        (void)fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
        }
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        signal(sig, SIG_DFL);
        process_exec(p, &err);
        child_fail(c->sock, &err);
}

static __attribute__((noreturn)) void child1(struct child *c)
{
        herr_t err = { 0 };
        (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        /* The user namespace first (it owns the others), the mount
         * namespace last (it changes our root). */
        static const enum oci_ns_type order[] = { OCI_NS_USER, OCI_NS_IPC, OCI_NS_UTS, OCI_NS_NETWORK,
                                                  OCI_NS_PID, OCI_NS_CGROUP, OCI_NS_TIME, OCI_NS_MOUNT };
        for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
                enum oci_ns_type t = order[i];
                int fd = c->ns[t];
                if (fd < 0 || same_ns(fd, ns_proc_name(t)))
                        continue;
                if (setns(fd, 0) < 0)
                        herr_sys(&err, "join the container's %s namespace", ns_proc_name(t)),
                                child_fail(c->sock, &err);
        }
        if (fchdir(c->rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0)
                herr_sys(&err, "enter the container's root"), child_fail(c->sock, &err);
        for (int t = 0; t < OCI_NS_COUNT; t++)
                if (c->ns[t] >= 0)
                        close(c->ns[t]);
        close(c->rootfd);
        pid_t pid = fork();
        if (pid < 0)
                herr_sys(&err, "fork the exec process"), child_fail(c->sock, &err);
        if (pid == 0)
                child2(c);
        int32_t p32 = pid;
        (void)sync_send(c->sock, SYNC_PID, &p32, sizeof p32, -1);
        _exit(0);
}





/* process.execCPUAffinity (of the exec'd process, else of the container's
 * process, as runc does): initial pins husk exec itself before the helper
 * is cloned into the container's cgroup, final is set by C2 after it. */
static int exec_affinity(const struct oci_process *p, const struct oci_config *cfg, cpu_set_t *final,
                         bool *has_final, herr_t *err)
{
        const struct oci_cpu_affinity *a = p->exec_cpu_affinity;
        if (!a && cfg->process)
                a = cfg->process->exec_cpu_affinity;
        *has_final = false;
        if (!a)
                return 0;
        if (a->initial && *a->initial) {
                cpu_set_t initial;
                if (cpulist_parse(a->initial, &initial) < 0)
                        return herr_sys(err, "process.execCPUAffinity.initial '%s'", a->initial);
                if (sched_setaffinity(0, sizeof initial, &initial) < 0)
                        return herr_sys(err, "process.execCPUAffinity.initial '%s'", a->initial);
        }
        if (a->final && *a->final) {
                if (cpulist_parse(a->final, final) < 0)
                        return herr_sys(err, "process.execCPUAffinity.final '%s'", a->final);
                *has_final = true;
        }
        return 0;
}

static int send_listener(const struct container_state *st, const struct oci_config *cfg, int fd, pid_t pid,
                         herr_t *err)
{
        const struct oci_seccomp *sc = cfg->linux_ ? cfg->linux_->seccomp : NULL;
        if (!sc || !sc->listener_path)
                return herr_set(err, 0, "linux.seccomp: a listener fd without listenerPath");
        _cleanup_free_ char *state = NULL, *doc = NULL;
        if (state_oci_json(st, "running", false, &state, err) < 0 ||
            seccomp_process_state_json(state, pid, sc->listener_metadata, &doc, err) < 0 ||
            seccomp_send_listener(sc->listener_path, fd, doc, err) < 0)
                return herr_prefix(err, "linux.seccomp.listenerPath %s", sc->listener_path);
        return 0;
}

int container_exec(const struct exec_opts *o, struct oci_process *p, herr_t *err)
{
        reserve_fds(o->preserve_fds);
        if (p->terminal && o->detach && !o->console_socket)
                return herr_set(err, 0, "exec --detach with a terminal: --console-socket is required");
        _cleanup_close_ int dirfd = store_open(o->root, o->id, LOCK_SH, err);
        if (dirfd < 0)
                return -1;
        struct container_state st;
        if (state_load(dirfd, &st, err) < 0)
                return herr_prefix(err, "container '%s' is being created or its state is damaged", o->id);
        int rc = -1, sock[2] = { -1, -1 }, console = -1, cgfd = -1, rootfd = -1, sfd = -1, master = -1, pidfd = -1;
        int ns[OCI_NS_COUNT];
        for (int t = 0; t < OCI_NS_COUNT; t++)
                ns[t] = -1;
        struct oci_config *cfg = NULL;
        pid_t c1 = -1, c2 = -1;
        sigset_t old;
        bool blocked = false;
        const char *status = state_status(dirfd, &st);
        if (strcmp(status, "running") && strcmp(status, "created")) {
                herr_set(err, 0, "container '%s' is %s: cannot exec into it", o->id, status);
                goto out;
        }
        if (st.vm) {
                rc = vm_container_exec(o, p, &dirfd, status, err);
                goto out;
        }
        if (container_config(dirfd, &cfg, err) < 0)
                goto out;
        pidfd = (int)syscall(SYS_pidfd_open, st.pid, 0);
        if (pidfd < 0 || !pid_alive(st.pid, st.pid_start)) {
                herr_set(err, ESRCH, "container '%s' is not running", o->id);
                goto out;
        }
        if (ns_open_of_pid(st.pid, ns, err) < 0) {
                if (!pid_alive(st.pid, st.pid_start))
                        herr_set(err, ESRCH, "container '%s' is not running", o->id);
                goto out;
        }
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/root", (int)st.pid);
        rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0) {
                if (errno == ENOENT || !pid_alive(st.pid, st.pid_start))
                        herr_set(err, ESRCH, "container '%s' is not running", o->id);
                else
                        herr_sys(err, "%s", path);
                goto out;
        }
        if (!pid_alive(st.pid, st.pid_start)) {
                herr_set(err, ESRCH, "container '%s' is not running", o->id);
                goto out;
        }
        if (o->console_socket && p->terminal && (console = console_socket_connect(o->console_socket, err)) < 0) {
                herr_prefix(err, "--console-socket %s", o->console_socket);
                goto out;
        }
        cpu_set_t final_cpus;
        bool has_final;
        if (exec_affinity(p, cfg, &final_cpus, &has_final, err) < 0) {
                herr_prefix(err, "exec into container '%s'", o->id);
                goto out;
        }
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) < 0) {
                herr_sys(err, "socketpair");
                goto out;
        }
        if (st.cgroup && (cgfd = cg_open(st.cgroup, err)) < 0)
                goto out;
        if (!o->detach) {
                if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
                        herr_sys(err, "PR_SET_CHILD_SUBREAPER");
                        goto out;
                }
                sfd = block_signals(&old);
                blocked = true;
        }
        struct child ch = { .o = o, .p = p, .cfg = cfg, .rootfd = rootfd, .sock = sock[1], .console = console,
                            .final_cpus = has_final ? &final_cpus : NULL };
        memcpy(ch.ns, ns, sizeof ns);
        c1 = cgfd >= 0 ? cg_clone_into(cgfd, err) : fork();
        if (c1 < 0) {
                if (cgfd < 0)
                        herr_sys(err, "fork");
                herr_prefix(err, "exec into container '%s'", o->id);
                goto out;
        }
        if (c1 == 0)
                child1(&ch);
        close(sock[1]);
        sock[1] = -1;
        if (console >= 0) {
                close(console);
                console = -1;
        }
        struct sync_msg m;
        herr_t cerr = { 0 };
        for (;;) {
                if (sync_recv(sock[0], &m) < 0)
                        break;
                if (m.type == SYNC_ERROR) {
                        herr_set(&cerr, 0, "%s", m.data ? m.data : "exec failed");
                } else if (m.type == SYNC_PID && m.len == sizeof(int32_t)) {
                        int32_t v;
                        memcpy(&v, m.data, sizeof v);
                        c2 = v;
                } else if (m.type == SYNC_FD && m.fd >= 0 && m.data && !strcmp(m.data, "tty")) {
                        master = m.fd;
                        m.fd = -1;
                } else if (m.type == SYNC_FD && m.fd >= 0) {
                        herr_t e2 = { 0 };
                        if (send_listener(&st, cfg, m.fd, c2, &e2) < 0)
                                husk_warn("%s", e2.msg);
                }
                sync_msg_free(&m);
        }
        int c1st;
        while (waitpid(c1, &c1st, 0) < 0 && errno == EINTR)
                ;
        if (cerr.msg[0]) {
                *err = cerr;
                herr_prefix(err, "exec into container '%s'", o->id);
                if (c2 > 0 && !o->detach)
                        while (waitpid(c2, NULL, 0) < 0 && errno == EINTR)
                                ;
                goto out;
        }
        siginfo_t si = { 0 };
        if (c2 <= 0 || (!o->detach && waitid(P_PID, (id_t)c2, &si, WEXITED | WNOHANG | WNOWAIT) < 0)) {
                /* Not our child (we are its subreaper once C1 is gone):
                 * waiting for it would never end. */
                herr_set(err, 0, "exec into container '%s': the helper process died", o->id);
                goto out;
        }
        if (o->pid_file && write_pid_file(o->pid_file, c2, err) < 0) {
                kill(c2, SIGKILL);
                goto out;
        }
        /* The container may be deleted while we wait. */
        close(dirfd);
        dirfd = -1;
        if (o->detach) {
                rc = 0;
                goto out;
        }
        struct relay r;
        if (master >= 0)
                relay_begin(&r, master, err);
        rc = supervise(c2, sfd, -1, NULL, master >= 0 ? &r : NULL);
        if (master >= 0)
                relay_end(&r);
        herr_clear(err);
out:
        if (blocked)
                sigprocmask(SIG_SETMASK, &old, NULL);
        if (master >= 0)
                close(master);
        if (sfd >= 0)
                close(sfd);
        for (int i = 0; i < 2; i++)
                if (sock[i] >= 0)
                        close(sock[i]);
        if (console >= 0)
                close(console);
        if (cgfd >= 0)
                close(cgfd);
        if (rootfd >= 0)
                close(rootfd);
        if (pidfd >= 0)
                close(pidfd);
        for (int t = 0; t < OCI_NS_COUNT; t++)
                if (ns[t] >= 0)
                        close(ns[t]);
        oci_config_free(cfg);
        container_state_free(&st);
        return rc;
}
