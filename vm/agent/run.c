/* husk guest agent: run the requested process and relay its stdio as frames. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int agent_status_fd;

void rbuf_consume(struct rbuf *rb, size_t used)
{
        memmove(rb->data, rb->data + used, rb->len - used);
        rb->len -= used;
}

int agent_read_frame(int ctl, struct rbuf *rb, struct frame *f, size_t *used)
{
        for (;;) {
                int r = proto_parse(rb->data, rb->len, f, used);
                if (r != 0)
                        return r;
                ssize_t n = read(ctl, rb->data + rb->len, sizeof(rb->data) - rb->len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n == 0 ? 0 : -1;
                rb->len += (size_t)n;
        }
}

/* The main process is children[0] (session id 0, frames without an id);
 * sessions started by PROTO_EXEC/PS/KILL_ALL take the other slots. */
#define MAX_CHILDREN 64

struct child {
        uint32_t id;
        int used;
        pid_t pid;
        int in, out, err; /* our ends; with a terminal out == in == pty master */
        int pty;
        int st; /* read end of the process's status pipe (fd 3), or -1 */
        uint8_t *pend; /* stdin bytes the process has not taken yet */
        size_t pend_len;
        int status;
        int exited;
        struct timespec exit_time;
};

static struct child children[MAX_CHILDREN];
static const char *container_id; /* with husk in the guest: its container */

static int open_pty(int *master, char *slave, size_t len)
{
        int m = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC), unlock = 0, n;
        if (m < 0 || ioctl(m, TIOCSPTLCK, &unlock) < 0 || ioctl(m, TIOCGPTN, &n) < 0) {
                if (m >= 0)
                        close(m);
                return -1;
        }
        snprintf(slave, len, "/dev/pts/%d", n);
        *master = m;
        return 0;
}

static void child_exec(const struct proto_spec *s, int fds[3], const char *slave, int st)
{
        /* out of the way of 0-2 first: dup2 onto 3 then clears CLOEXEC */
        int st_hi = st >= 0 ? fcntl(st, F_DUPFD_CLOEXEC, 10) : -1;
        if (st >= 0 && st_hi < 0)
                _exit(126);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        setsid();
        if (slave) {
                int t = open(slave, O_RDWR);
                if (t < 0 || ioctl(t, TIOCSCTTY, 0) < 0)
                        _exit(126);
                struct winsize ws = { .ws_row = s->rows, .ws_col = s->cols };
                if (s->rows && s->cols)
                        ioctl(t, TIOCSWINSZ, &ws);
                fds[0] = fds[1] = fds[2] = t;
        }
        for (int i = 0; i < 3; i++)
                if (dup2(fds[i], i) < 0)
                        _exit(126);
        if (st_hi >= 0 && dup2(st_hi, 3) < 0)
                _exit(126);
        if (chdir(s->cwd ? s->cwd : "/") < 0) {
                dprintf(2, "husk-agent: chdir %s: %s\n", s->cwd, strerror(errno));
                _exit(126);
        }
        if (setgroups(0, NULL) < 0 || setgid(s->gid) < 0 || setuid(s->uid) < 0) {
                dprintf(2, "husk-agent: set uid/gid: %s\n", strerror(errno));
                _exit(126);
        }
        static char *defenv[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                  NULL };
        environ = s->env ? s->env : defenv;
        if (!getenv("PATH"))
                environ = defenv;
        execvp(s->args[0], s->args);
        dprintf(2, "husk-agent: exec %s: %s\n", s->args[0], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
}

static int spawn(const struct proto_spec *s, struct child *c)
{
        int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 }, pst[2] = { -1, -1 };
        char slave[64];
        c->in = c->out = c->err = c->pty = c->st = -1;
        if (agent_status_fd && c == &children[0] && pipe2(pst, O_CLOEXEC) < 0)
                return -1;
        if (s->terminal) {
                if (open_pty(&c->pty, slave, sizeof(slave)) < 0)
                        return -1;
        } else if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 ||
                   pipe2(perr, O_CLOEXEC) < 0) {
                return -1;
        }
        c->pid = fork();
        if (c->pid < 0) {
                int e = errno, fds[] = { c->pty, pin[0], pin[1], pout[0], pout[1], perr[0], perr[1], pst[0], pst[1] };
                for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
                        if (fds[i] >= 0)
                                close(fds[i]);
                c->pty = -1;
                errno = e;
                return -1;
        }
        if (c->pid == 0) {
                int fds[3] = { pin[0], pout[1], perr[1] };
                child_exec(s, fds, s->terminal ? slave : NULL, pst[1]);
        }
        if (pst[0] >= 0) {
                close(pst[1]);
                c->st = pst[0];
        }
        if (s->terminal) {
                c->in = c->out = c->pty;
                fcntl(c->pty, F_SETFL, O_NONBLOCK);
                return 0;
        }
        close(pin[0]);
        fcntl(pin[1], F_SETFL, O_NONBLOCK);
        close(pout[1]);
        close(perr[1]);
        c->in = pin[1];
        c->out = pout[0];
        c->err = perr[0];
        return 0;
}

/* Non-blocking write to the process's stdin; what does not fit waits in
 * c->pend and no further host frame is handled until it is drained. */
static void write_in(struct child *c, const uint8_t *d, size_t len)
{
        while (len > 0 && c->in >= 0) {
                ssize_t w = write(c->in, d, len);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && errno == EAGAIN) {
                        uint8_t *p = malloc(len);
                        if (!p)
                                return;
                        memcpy(p, d, len);
                        c->pend = p;
                        c->pend_len = len;
                        return;
                }
                if (w < 0)
                        return; /* the process closed its stdin: drop the rest */
                d += w;
                len -= (size_t)w;
        }
}

static void drain_pend(struct child *c)
{
        uint8_t *p = c->pend;
        size_t len = c->pend_len;
        c->pend = NULL;
        c->pend_len = 0;
        write_in(c, p, len);
        free(p);
}

static void close_in(struct child *c)
{
        if (c->pty >= 0) { /* a terminal has no half-close: send EOF (^D) */
                write_in(c, (const uint8_t *)"\x04", 1);
                return;
        }
        if (c->in >= 0)
                close(c->in);
        c->in = -1;
}


static struct child *find_child(uint32_t id)
{
        for (size_t i = 0; i < MAX_CHILDREN; i++)
                if (children[i].used && children[i].id == id)
                        return &children[i];
        return NULL;
}

static int any_pend(void)
{
        for (size_t i = 0; i < MAX_CHILDREN; i++)
                if (children[i].used && children[i].pend)
                        return 1;
        return 0;
}

static void session_error(int ctl, uint32_t id, const char *msg)
{
        if (proto_send_id(ctl, PROTO_XERROR, id, msg, strlen(msg)) < 0)
                agent_log("send XERROR: %s", strerror(errno));
}

/* Close the process's output ends (stdout, stderr, status pipe). */
static void close_outputs(struct child *c)
{
        int *fds[] = { &c->out, &c->err, &c->st };
        for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
                if (*fds[i] >= 0) {
                        close(*fds[i]);
                        *fds[i] = -1;
                }
}

static void free_child(struct child *c)
{
        if (c->in >= 0 && c->in != c->pty)
                close(c->in);
        close_outputs(c);
        free(c->pend);
        memset(c, 0, sizeof(*c));
}

/* PROTO_EXEC, PROTO_PS, PROTO_KILL_ALL: start a session. */
static void start_session(int ctl, const struct frame *f)
{
        uint32_t id = proto_get_u32(f->data);
        char msg[256];
        struct child *c = NULL;
        if (find_child(id)) {
                snprintf(msg, sizeof(msg), "agent: session %u is already running", id);
                session_error(ctl, id, msg);
                return;
        }
        for (size_t i = 1; !c && i < MAX_CHILDREN; i++)
                if (!children[i].used)
                        c = &children[i];
        if (!c) {
                snprintf(msg, sizeof(msg), "agent: too many sessions (at most %d)", MAX_CHILDREN - 1);
                session_error(ctl, id, msg);
                return;
        }
        if (f->type == PROTO_KILL_ALL && !container_id) { /* no husk: every process but us */
                uint8_t ex[8] = { 0 };
                if (kill(-1, (int)proto_get_u32(f->data + 4)) < 0 && errno != ESRCH) {
                        snprintf(msg, sizeof(msg), "agent: kill --all: %s", strerror(errno));
                        session_error(ctl, id, msg);
                } else if (proto_send_id(ctl, PROTO_XEXIT, id, ex, sizeof(ex)) < 0) {
                        agent_log("send XEXIT: %s", strerror(errno));
                }
                return;
        }
        struct proto_spec s;
        if (session_spec(container_id, f, &s, msg, sizeof(msg)) < 0) {
                session_error(ctl, id, msg);
                return;
        }
        if (spawn(&s, c) < 0) {
                snprintf(msg, sizeof(msg), "agent: start %s: %s", s.args[0], strerror(errno));
                free_child(c);
                session_error(ctl, id, msg);
        } else {
                c->used = 1;
                c->id = id;
                uint8_t p[4];
                proto_put_u32(p, (uint32_t)c->pid);
                if (proto_send_id(ctl, PROTO_XSTARTED, id, p, sizeof(p)) < 0)
                        agent_log("send XSTARTED: %s", strerror(errno));
        }
        proto_spec_free(&s);
}

/* One frame from the host. Returns -1 when the host reported an error. */
static int host_frame(int ctl, const struct frame *f)
{
        uint32_t type = f->type;
        const uint8_t *d = f->data;
        uint32_t len = f->len;
        struct child *c = &children[0];
        if (type == PROTO_EXEC || type == PROTO_PS || type == PROTO_KILL_ALL) {
                start_session(ctl, f);
                return 0;
        }
        if (proto_is_session(type)) { /* XSTDIN... -> the plain type for that child */
                c = find_child(proto_get_u32(d));
                d += 4;
                len -= 4;
                if (!c) /* ended already: its input has nowhere to go */
                        return 0;
                type = type == PROTO_XSTDIN       ? PROTO_STDIN
                       : type == PROTO_XSTDIN_EOF ? PROTO_STDIN_EOF
                       : type == PROTO_XSIGNAL    ? PROTO_SIGNAL
                       : type == PROTO_XWINSIZE   ? PROTO_WINSIZE
                                                  : 0;
        }
        switch (type) {
        case PROTO_STDIN:
                write_in(c, d, len);
                break;
        case PROTO_STDIN_EOF:
                close_in(c);
                break;
        case PROTO_SIGNAL:
                if (len == 4 && !c->exited)
                        kill(c->pty >= 0 ? -c->pid : c->pid, (int)proto_get_u32(d));
                break;
        case PROTO_WINSIZE:
                if (len == 4 && c->pty >= 0) {
                        struct winsize ws = { .ws_row = (unsigned short)(d[0] | d[1] << 8),
                                              .ws_col = (unsigned short)(d[2] | d[3] << 8) };
                        ioctl(c->pty, TIOCSWINSZ, &ws);
                }
                break;
        case PROTO_ERROR:
                return -1;
        default:
                break;
        }
        return 0;
}

/* Act on every whole frame in agent_rb. 0 when the session must end. */
static int handle_buffered(int ctl)
{
        struct frame f;
        size_t used;
        int r = 0;
        while (!any_pend() && (r = proto_parse(agent_rb.data, agent_rb.len, &f, &used)) == 1) {
                int h = host_frame(ctl, &f);
                rbuf_consume(&agent_rb, used);
                if (h < 0)
                        return 0;
        }
        return r < 0 ? 0 : 1;
}

/* Read what the host sent and act on it. 0 on EOF/error. */
static int pump_host(int ctl)
{
        ssize_t n = read(ctl, agent_rb.data + agent_rb.len, sizeof(agent_rb.data) - agent_rb.len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 1;
        if (n <= 0)
                return 0;
        agent_rb.len += (size_t)n;
        return handle_buffered(ctl);
}

/* Forward one read of an output fd. Returns 0 on EOF. */
static int pump_out(int ctl, struct child *c, int *fd, uint32_t type)
{
        static uint8_t buf[PROTO_CHUNK];
        ssize_t n = read(*fd, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 1;
        if (n <= 0) { /* EOF, or EIO on a pty whose slave side is gone */
                close(*fd);
                *fd = -1;
                return 0;
        }
        static int first = 1;
        if (first) {
                first = 0;
                agent_mark("first output");
        }
        int r = c->id ? proto_send_id(ctl, type == PROTO_STDOUT ? PROTO_XSTDOUT : PROTO_XSTDERR, c->id, buf,
                                      (size_t)n)
                      : proto_send(ctl, type, buf, (size_t)n);
        if (r < 0)
                agent_log("send %s: %s", proto_type_name(type), strerror(errno));
        return 1;
}

static void reap(void)
{
        int st;
        pid_t p;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0) /* PID 1 reaps every orphan */
                for (size_t i = 0; i < MAX_CHILDREN; i++)
                        if (children[i].used && children[i].pid == p && !children[i].exited) {
                                children[i].status = st;
                                children[i].exited = 1;
                                clock_gettime(CLOCK_MONOTONIC, &children[i].exit_time);
                        }
}

static long ms_since(const struct timespec *t)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static void put_exit(uint8_t ex[8], int status)
{
        proto_put_u32(ex, WIFSIGNALED(status) ? 1 : 0);
        proto_put_u32(ex + 4, (uint32_t)(WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status)));
}

/* After an exit, output still queued in pipes is forwarded for a little
 * while (a background child may keep them open forever). A finished
 * session sends XEXIT and frees its slot. Returns 1 while a child waits
 * for its grace period to end. */
static int finish_children(int ctl)
{
        int waiting = 0;
        for (size_t i = 0; i < MAX_CHILDREN; i++) {
                struct child *c = &children[i];
                if (!c->used || !c->exited)
                        continue;
                if (c->out >= 0 || c->err >= 0 || c->st >= 0) {
                        if (ms_since(&c->exit_time) < 200) {
                                waiting = 1;
                                continue;
                        }
                        if (c->out >= 0 && c->out == c->pty)
                                c->in = c->pty = -1;
                        close_outputs(c);
                }
                if (i == 0)
                        continue; /* the main process: agent_run sends EXIT */
                uint8_t ex[8];
                put_exit(ex, c->status);
                if (proto_send_id(ctl, PROTO_XEXIT, c->id, ex, sizeof(ex)) < 0)
                        agent_log("send XEXIT: %s", strerror(errno));
                free_child(c);
        }
        return waiting;
}

static int sessions_running(void)
{
        for (size_t i = 1; i < MAX_CHILDREN; i++)
                if (children[i].used)
                        return 1;
        return 0;
}

#define NPOLL (2 + 3 * MAX_CHILDREN)

static void relay(int ctl, int sfd)
{
        struct child *mainc = &children[0];
        int host_open = handle_buffered(ctl); /* frames that came with SPEC */
        struct timespec main_done = { 0, 0 };
        for (;;) {
                int waiting = finish_children(ctl);
                if (mainc->exited && mainc->out < 0 && mainc->err < 0 && mainc->st < 0) {
                        /* sessions end with the container (its pid namespace
                         * is gone); give them a moment to report */
                        if (!main_done.tv_sec)
                                clock_gettime(CLOCK_MONOTONIC, &main_done);
                        if (!sessions_running() || ms_since(&main_done) > 2000)
                                return;
                        waiting = 1;
                }
                struct pollfd p[NPOLL];
                struct child *owner[NPOLL] = { 0 };
                int n = 0, pend = any_pend();
                p[n++] = (struct pollfd){ .fd = host_open && !pend ? ctl : -1, .events = POLLIN };
                p[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
                p[n++] = (struct pollfd){ .fd = mainc->used ? mainc->st : -1, .events = POLLIN };
                for (size_t i = 0; i < MAX_CHILDREN; i++) {
                        struct child *c = &children[i];
                        if (!c->used)
                                continue;
                        if (c->pend && c->in < 0) { /* stdin is gone: drop */
                                free(c->pend);
                                c->pend = NULL;
                        }
                        owner[n] = c;
                        p[n++] = (struct pollfd){ .fd = c->out, .events = POLLIN };
                        owner[n] = c;
                        p[n++] = (struct pollfd){ .fd = c->err, .events = POLLIN };
                        owner[n] = c;
                        p[n++] = (struct pollfd){ .fd = c->pend ? c->in : -1, .events = POLLOUT };
                }
                if (pend && !any_pend() && host_open && !handle_buffered(ctl))
                        host_open = 0;
                int r = poll(p, (nfds_t)n, waiting ? 50 : -1);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return;
                if (p[2].revents)
                        pump_out(ctl, mainc, &mainc->st, PROTO_STATUS);
                for (int i = 3; i < n; i += 3) {
                        struct child *c = owner[i];
                        if (p[i].revents && !pump_out(ctl, c, &c->out, PROTO_STDOUT) && c->pty >= 0)
                                c->in = c->pty = -1; /* the same fd, now closed */
                        if (p[i + 1].revents)
                                pump_out(ctl, c, &c->err, PROTO_STDERR);
                        if (p[i + 2].revents) /* stdin room again */
                                drain_pend(c);
                }
                if (p[0].revents && !pump_host(ctl))
                        host_open = 0;
                if (!any_pend() && host_open && !handle_buffered(ctl))
                        host_open = 0;
                if (p[1].revents) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof(si)) < 0 && errno != EAGAIN)
                                agent_log("signalfd: %s", strerror(errno));
                        reap();
                }
        }
}

/* The files of the SPEC (only under /run/husk/, e.g. a compiled seccomp
 * filter for husk's cache there): parents 0700, files 0600. A file that
 * cannot be written is reported on the console and skipped. */
static void write_files(const struct proto_spec *spec)
{
        static const char prefix[] = "/run/husk/";
        for (size_t i = 0; i < spec->n_files; i++) {
                const struct proto_file *f = &spec->files[i];
                char path[512];
                if (strncmp(f->path, prefix, sizeof(prefix) - 1) || strstr(f->path, "/..") ||
                    snprintf(path, sizeof(path), "%s", f->path) >= (int)sizeof(path)) {
                        agent_log("file %s: not under %s, skipped", f->path, prefix);
                        continue;
                }
                for (char *c = path + 1; (c = strchr(c, '/')); c++) {
                        *c = 0;
                        mkdir(path, 0700);
                        *c = '/';
                }
                int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
                size_t off = 0;
                while (fd >= 0 && off < f->len) {
                        ssize_t w = write(fd, f->data + off, f->len - off);
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0)
                                break;
                        off += (size_t)w;
                }
                if (fd < 0 || off < f->len)
                        agent_log("file %s: %s", path, strerror(errno));
                if (fd >= 0)
                        close(fd);
        }
}

int agent_run(int ctl, const struct proto_spec *spec)
{
        write_files(spec);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGCHLD);
        sigprocmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);
        int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        struct child *c = &children[0];
        container_id = session_container_id(spec);
        if (sfd < 0 || spawn(spec, c) < 0) {
                char m[256];
                int n = snprintf(m, sizeof(m), "agent: start %s: %s", spec->args[0], strerror(errno));
                proto_send(ctl, PROTO_ERROR, m, (size_t)n);
                return -1;
        }
        c->used = 1;
        agent_mark("process started");
        relay(ctl, sfd);
        while (!c->exited) { /* output closed early, or the host went away */
                int st;
                if (waitpid(c->pid, &st, 0) == c->pid) {
                        c->status = st;
                        c->exited = 1;
                }
        }
        agent_mark("process exited");
        uint8_t ex[8];
        put_exit(ex, c->status);
        return proto_send(ctl, PROTO_EXIT, ex, sizeof(ex));
}
