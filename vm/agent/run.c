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
#include <unistd.h>

extern char **environ;

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

struct child {
        pid_t pid;
        int in, out, err; /* our ends; with a terminal out == in == pty master */
        int pty;
        uint8_t *pend; /* stdin bytes the process has not taken yet */
        size_t pend_len;
        int status;
        int exited;
};

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

static void child_exec(const struct proto_spec *s, int fds[3], const char *slave)
{
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
        int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
        char slave[64];
        c->in = c->out = c->err = c->pty = -1;
        if (s->terminal) {
                if (open_pty(&c->pty, slave, sizeof(slave)) < 0)
                        return -1;
        } else if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 ||
                   pipe2(perr, O_CLOEXEC) < 0) {
                return -1;
        }
        c->pid = fork();
        if (c->pid < 0)
                return -1;
        if (c->pid == 0) {
                int fds[3] = { pin[0], pout[1], perr[1] };
                child_exec(s, fds, s->terminal ? slave : NULL);
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

/* One frame from the host. Returns -1 when the host reported an error. */
static int host_frame(struct child *c, const struct frame *f)
{
        switch (f->type) {
        case PROTO_STDIN:
                write_in(c, f->data, f->len);
                break;
        case PROTO_STDIN_EOF:
                close_in(c);
                break;
        case PROTO_SIGNAL:
                if (f->len == 4 && !c->exited)
                        kill(c->pty >= 0 ? -c->pid : c->pid, (int)proto_get_u32(f->data));
                break;
        case PROTO_WINSIZE:
                if (f->len == 4 && c->pty >= 0) {
                        struct winsize ws = { .ws_row = (unsigned short)(f->data[0] | f->data[1] << 8),
                                              .ws_col = (unsigned short)(f->data[2] | f->data[3] << 8) };
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
static int handle_buffered(struct child *c)
{
        struct frame f;
        size_t used;
        int r = 0;
        while (!c->pend && (r = proto_parse(agent_rb.data, agent_rb.len, &f, &used)) == 1) {
                int h = host_frame(c, &f);
                rbuf_consume(&agent_rb, used);
                if (h < 0)
                        return 0;
        }
        return r < 0 ? 0 : 1;
}

/* Read what the host sent and act on it. 0 on EOF/error. */
static int pump_host(int ctl, struct child *c)
{
        ssize_t n = read(ctl, agent_rb.data + agent_rb.len, sizeof(agent_rb.data) - agent_rb.len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 1;
        if (n <= 0)
                return 0;
        agent_rb.len += (size_t)n;
        return handle_buffered(c);
}

/* Forward one read of an output fd. Returns 0 on EOF. */
static int pump_out(int ctl, int *fd, uint32_t type)
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
        if (proto_send(ctl, type, buf, (size_t)n) < 0)
                agent_log("send %s: %s", proto_type_name(type), strerror(errno));
        return 1;
}

static void reap(struct child *c)
{
        int st;
        pid_t p;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0) /* PID 1 reaps every orphan */
                if (p == c->pid) {
                        c->status = st;
                        c->exited = 1;
                }
}

static void relay(int ctl, struct child *c, int sfd)
{
        int host_open = handle_buffered(c); /* frames that came with SPEC */
        for (;;) {
                struct pollfd p[5] = {
                        { .fd = host_open && !c->pend ? ctl : -1, .events = POLLIN },
                        { .fd = c->out, .events = POLLIN },
                        { .fd = c->err, .events = POLLIN },
                        { .fd = sfd, .events = POLLIN },
                        { .fd = c->pend ? c->in : -1, .events = POLLOUT },
                };
                if (c->exited && c->out < 0 && c->err < 0)
                        return;
                if (c->pend && c->in < 0) { /* stdin is gone: drop, read the host again */
                        free(c->pend);
                        c->pend = NULL;
                        if (host_open && !handle_buffered(c))
                                host_open = 0;
                }
                /* after the exit, wait a little for output still queued in pipes
                 * (a background child may keep them open forever) */
                int r = poll(p, 5, c->exited ? 200 : -1);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return;
                if (p[1].revents && !pump_out(ctl, &c->out, PROTO_STDOUT) && c->pty >= 0)
                        c->in = c->pty = -1; /* the same fd, now closed */
                if (p[2].revents)
                        pump_out(ctl, &c->err, PROTO_STDERR);
                if (p[0].revents && !pump_host(ctl, c))
                        host_open = 0;
                if (p[4].revents) { /* stdin room again: resume host frames */
                        drain_pend(c);
                        if (!c->pend && host_open && !handle_buffered(c))
                                host_open = 0;
                }
                if (p[3].revents) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof(si)) < 0 && errno != EAGAIN)
                                agent_log("signalfd: %s", strerror(errno));
                        reap(c);
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
        struct child c = { 0 };
        if (sfd < 0 || spawn(spec, &c) < 0) {
                char m[256];
                int n = snprintf(m, sizeof(m), "agent: start %s: %s", spec->args[0], strerror(errno));
                proto_send(ctl, PROTO_ERROR, m, (size_t)n);
                return -1;
        }
        agent_mark("process started");
        relay(ctl, &c, sfd);
        while (!c.exited) { /* output closed early, or the host went away */
                int st;
                if (waitpid(c.pid, &st, 0) == c.pid) {
                        c.status = st;
                        c.exited = 1;
                }
        }
        agent_mark("process exited");
        uint8_t ex[8];
        proto_put_u32(ex, WIFSIGNALED(c.status) ? 1 : 0);
        proto_put_u32(ex + 4, (uint32_t)(WIFSIGNALED(c.status) ? WTERMSIG(c.status)
                                                               : WEXITSTATUS(c.status)));
        return proto_send(ctl, PROTO_EXIT, ex, sizeof(ex));
}
