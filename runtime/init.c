/* The container's init, in two stages.
 *
 * Stage 1 runs in husk's namespaces with husk's credentials (root). It
 * joins the namespaces the config names by path (the user namespace
 * first), creates the new ones (a new user namespace is mapped by husk
 * create from outside), and forks stage 2, which is pid 1 of a new pid
 * namespace and the only process to enter a new time namespace.
 *
 * Stage 2 builds the rootfs in its mount namespace, as root of its user
 * namespace, with every capability still held. Sync points with husk
 * create, in order:
 *   1. husk -> init  CONTINUE   (stage 1 reaped; go)
 *   2. init -> husk  HOOKS      (namespaces and mounts ready)
 *   3. husk -> init  CONTINUE   (prestart/createRuntime hooks passed; state)
 *   4. init -> husk  READY      (created: waiting on the start socket)
 * then with husk start over the start socket:
 *   5. start -> init START      (state for the startContainer hooks)
 *   6. init execs the program; the socket closes (CLOEXEC): success,
 *      or init sends ERROR.
 * no_new_privs and the identity switch come last, just before exec.
 */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/close_range.h>
#include <linux/keyctl.h>

#include "../common/cleanup.h"
#include "../net/net.h" /* net */
#include "../seccomp/seccomp.h"
#include "fault.h"
#include "hooks.h"
#include "vm_mode.h"
#include "process.h"
#include "rootfs.h"
#include "sync.h"
#include "terminal.h"

static __attribute__((noreturn)) void fail(int sock, herr_t *err)
{
        (void)sync_send_str(sock, SYNC_ERROR, err->msg);
        _exit(1);
}

static int prepare_fds(int keep_from, herr_t *err)
{
        /* Preserved fds (3 .. keep_from-1) are inherited; everything else of
         * husk's is closed at exec. */
        for (int fd = 3; fd < keep_from; fd++) {
                int fl = fcntl(fd, F_GETFD);
                if (fl >= 0 && fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC) < 0)
                        return herr_sys(err, "preserve fd %d", fd);
        }
        if (syscall(SYS_close_range, keep_from, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                return herr_sys(err, "close_range");
        return 0;
}

static bool keeps_sys_admin(const struct oci_process *p)
{
        const struct oci_capabilities *c = p->capabilities;
        for (size_t i = 0; c && i < c->n_effective; i++)
                if (!strcmp(c->effective[i], "CAP_SYS_ADMIN"))
                        return true;
        return false;
}

/* Load linux.seccomp (compiled by husk create before the fork); a
 * listener fd goes to husk start, which hands it to listenerPath with the
 * container state. */
static int load_seccomp(const struct init_args *a, int conn, herr_t *err)
{
        if (!a->seccomp)
                return 0;
        int nfd = -1;
        if (seccomp_prog_load(a->seccomp, &nfd, err) < 0)
                return -1;
        if (nfd >= 0) {
                int rc = sync_send(conn, SYNC_FD, NULL, 0, nfd);
                close(nfd);
                if (rc < 0)
                        return herr_sys(err, "send the seccomp listener to husk start");
        }
        return 0;
}

/* runtime.md: hooks in the container namespace get the pid as seen from
 * it. husk sends the state with the host's pid: put ours in (the first
 * "pid": of the document husk generated is the top-level one). */
static char *state_in_container(const char *json)
{
        const char *in = json ? json : "{}";
        const char *p = strstr(in, "\"pid\":");
        char *out = NULL;
        if (!p || (p[6] < '0' || p[6] > '9'))
                return strdup(in);
        const char *end = p + 6;
        while (*end >= '0' && *end <= '9')
                end++;
        if (asprintf(&out, "%.*s\"pid\":%d%s", (int)(p - in), in, (int)getpid(), end) < 0)
                return NULL;
        return out;
}

/* linux.personality: the execution domain, inherited across exec. */
static int set_personality(const struct oci_config *c, herr_t *err)
{
        const struct oci_personality *p = c->linux_ ? c->linux_->personality : NULL;
        if (!p)
                return 0;
        unsigned long dom;
        if (p->domain && !strcmp(p->domain, "LINUX"))
                dom = PER_LINUX;
        else if (p->domain && !strcmp(p->domain, "LINUX32"))
                dom = PER_LINUX32;
        else
                return herr_set(err, 0, "linux.personality.domain '%s': expected LINUX or LINUX32",
                                p->domain ? p->domain : "");
        if (p->n_flags)
                return herr_set(err, 0, "linux.personality.flags '%s': no flags are supported", p->flags[0]);
        if (personality(dom) < 0)
                return herr_sys(err, "linux.personality %s", p->domain);
        return 0;
}

static __attribute__((noreturn)) void stage2_start(struct init_args *a, int conn)
{
        herr_t err = { 0 };
        const struct oci_config *c = a->cfg;
        struct sync_msg m;
        if (sync_expect(conn, SYNC_START, &m, "husk start", &err) < 0)
                _exit(1);
        if (c->hooks && c->hooks->start_container.n) {
                char *state = state_in_container(m.data);
                if (!state)
                        herr_set(&err, ENOMEM, "startContainer hooks: state"), fail(conn, &err);
                if (hooks_run(&c->hooks->start_container, "startContainer", state, &err) < 0)
                        fail(conn, &err);
                free(state);
        }
        sync_msg_free(&m);
        /* seccomp as late as possible: after the identity switch when
         * no_new_privs is set or CAP_SYS_ADMIN is kept, else just before it
         * (loading without no_new_privs needs CAP_SYS_ADMIN). */
        bool late = c->process->no_new_privileges || keeps_sys_admin(c->process);
        if (!late && load_seccomp(a, conn, &err) < 0)
                fail(conn, &err);
        if (process_set_ids(c->process, NULL, &err) < 0 || process_chdir(c->process, &err) < 0)
                fail(conn, &err);
        if (late && load_seccomp(a, conn, &err) < 0)
                fail(conn, &err);
        if (prepare_fds(3 + a->preserve_fds, &err) < 0)
                fail(conn, &err);
        /* Dispositions husk changed (SIGPIPE for hooks) must not reach the
         * program: ignored signals stay ignored across execve. */
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        signal(sig, SIG_DFL);
        process_exec(c->process, &err);
        fail(conn, &err);
}

static int setup_terminal(struct init_args *a, int rootfd, int *slave, herr_t *err)
{
        *slave = -1;
        if (!a->cfg->process->terminal)
                return 0;
        int master;
        if (terminal_open(rootfd, a->cfg->process->console_size, &master, slave, err) < 0)
                return -1;
        int rc = terminal_send(a->console_fd, master, err);
        close(master);
        close(a->console_fd);
        a->console_fd = -1;
        return rc;
}

static __attribute__((noreturn)) void stage2(struct init_args *a)
{
        herr_t err = { 0 };
        const struct oci_config *c = a->cfg;
        int sock = a->sync_fd;
        struct sync_msg m;
        if (sync_expect(sock, SYNC_CONTINUE, &m, "husk", &err) < 0)
                _exit(1);
        sync_msg_free(&m);
        /* Until exec, no process of the container may ptrace us or open
         * our /proc entries. */
        (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        if (setsid() < 0)
                herr_sys(&err, "setsid"), fail(sock, &err);

        struct rootfs_opts ro = {
                .rootfs = a->rootfs,
                .bundle = a->bundle,
                .userns = oci_config_namespace(c, OCI_NS_USER) != NULL,
                .no_pivot = a->no_pivot,
        };
        int rootfd = rootfs_prepare(c, &ro, &err);
        if (rootfd < 0)
                fail(sock, &err);
        int slave;
        if (setup_terminal(a, rootfd, &slave, &err) < 0 || rootfs_bind_console(rootfd, slave, &err) < 0)
                fail(sock, &err);
        /* The process attributes (rlimits, oomScoreAdj, ioPriority, scheduler,
         * LSM labels, personality) are inherited across exec: apply them here
         * so a bad one fails create, not start (as runc). /proc is still the
         * host's; /proc/self must be writable by us for a moment. */
        /* In a user namespace that means dumpable, only for as long as it
         * takes: a dumpable init holding every capability can be ptraced by
         * processes of the container (exec'd ones, a shared pid namespace). */
        bool userns = oci_config_namespace(c, OCI_NS_USER) != NULL;
        if (userns)
                (void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
        if (process_set_attrs(c->process, &err) < 0 || set_personality(c, &err) < 0)
                fail(sock, &err);
        if (userns)
                (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        HUSK_FAULT_POINT("init.after-attrs");

        if (sync_send(sock, SYNC_HOOKS, NULL, 0, -1) < 0)
                _exit(1);
        if (sync_expect(sock, SYNC_CONTINUE, &m, "husk", &err) < 0)
                _exit(1);
        if (c->hooks && c->hooks->create_container.n) {
                char *state = state_in_container(m.data);
                if (!state)
                        herr_set(&err, ENOMEM, "createContainer hooks: state"), fail(sock, &err);
                /* VM mode: the guest's runtime namespace is husk's initramfs,
                 * with no programs: the path resolves in the container's root */
                if (hooks_run_in(&c->hooks->create_container, "createContainer", state,
                                 vm_mode_guest ? a->rootfs : NULL, &err) < 0)
                        fail(sock, &err);
                free(state);
        }
        sync_msg_free(&m);

        if (rootfs_protect(c, rootfd, &err) < 0 || rootfs_enter(c, rootfd, &ro, &err) < 0)
                fail(sock, &err);
        close(rootfd);
        if (slave >= 0) {
                if (terminal_attach(slave, &err) < 0)
                        fail(sock, &err);
                close(slave);
        }
        if (!a->no_new_keyring && syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 &&
            errno != ENOSYS)
                herr_sys(&err, "new session keyring"), fail(sock, &err);

        if (sync_send(sock, SYNC_READY, NULL, 0, -1) < 0)
                _exit(1);
        close(sock);

        int conn;
        do
                conn = accept4(a->start_fd, NULL, NULL, SOCK_CLOEXEC);
        while (conn < 0 && errno == EINTR);
        if (conn < 0)
                _exit(1);
        close(a->start_fd);
        stage2_start(a, conn);
}

static int cmp_int(const void *x, const void *y)
{
        return *(const int *)x - *(const int *)y;
}

/* Close every fd of husk from `from` up, except the ones in keep: the state
 * directory (and its lock) and anything else husk had open must not live
 * on in the container. */
static void close_fds_except(int from, const int *keep, size_t n)
{
        int k[OCI_NS_COUNT + 8];
        size_t m = 0;
        for (size_t i = 0; i < n && m < ARRAY_SIZE(k); i++)
                if (keep[i] >= from)
                        k[m++] = keep[i];
        qsort(k, m, sizeof k[0], cmp_int);
        int lo = from;
        for (size_t i = 0; i < m; i++) {
                if (k[i] > lo)
                        (void)syscall(SYS_close_range, lo, k[i] - 1, 0);
                lo = k[i] + 1;
        }
        (void)syscall(SYS_close_range, lo, ~0U, 0);
}

void init_stage1(struct init_args *a)
{
        herr_t err = { 0 };
        int sock = a->sync_fd;
        struct sync_msg m;
        int keep[OCI_NS_COUNT + 3] = { a->sync_fd, a->start_fd, a->console_fd };
        for (int t = 0; t < OCI_NS_COUNT; t++)
                keep[3 + t] = a->ns->fds[t];
        close_fds_except(3 + a->preserve_fds, keep, ARRAY_SIZE(keep));
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* 1. husk has placed us in the cgroup. */
        if (sync_expect(sock, SYNC_CONTINUE, &m, "husk", &err) < 0)
                _exit(1);
        sync_msg_free(&m);
        if (ns_plan_join(a->ns, &err) < 0)
                fail(sock, &err);
        int flags = a->ns->new_flags;
        /* A joined user namespace: become its root too (husk's uid 0 is
         * unmapped there: files it creates would fail with EOVERFLOW). */
        if (!(flags & CLONE_NEWUSER) && oci_config_namespace(a->cfg, OCI_NS_USER) &&
            (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
                errno = 0;
        if (flags & CLONE_NEWUSER) {
                if (unshare(CLONE_NEWUSER) < 0)
                        herr_sys(&err, "create the user namespace"), fail(sock, &err);
                if (sync_send(sock, SYNC_USERNS, NULL, 0, -1) < 0 ||
                    sync_expect(sock, SYNC_USERNS_DONE, &m, "husk", &err) < 0)
                        _exit(1);
                sync_msg_free(&m);
                /* Become root of the new namespace when root is mapped. */
                if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                        errno = 0; /* root unmapped: the ids stay overflow ids */
        }
        if (unshare(flags & ~CLONE_NEWUSER) < 0)
                herr_sys(&err, "create namespaces"), fail(sock, &err);
        if ((flags & CLONE_NEWNET) && net_lo_up(&err) < 0) /* net: lo up in every new netns */
                fail(sock, &err);
        if (a->cfg->linux_ && oci_config_namespace(a->cfg, OCI_NS_TIME) &&
            ns_write_time_offsets(a->cfg->linux_, &err) < 0)
                fail(sock, &err);
        /* Stage 2 is born non-dumpable: it appears in the container's pid
         * namespace at once (a joined one may already hold processes), and
         * must not be ptraced or have its /proc entries opened before it
         * gets to its own prctl. */
        (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        pid_t pid = fork();
        if (pid < 0)
                herr_sys(&err, "fork the container init"), fail(sock, &err);
        if (pid == 0)
                stage2(a);
        int32_t p = pid;
        (void)sync_send(sock, SYNC_PID, &p, sizeof p, -1);
        _exit(0);
}
