/* VM mode: run one process in a booted VM and relay its stdio as frames. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "internal.h"

void vm_process_init(struct vm_process *p, char *const *args)
{
        memset(p, 0, sizeof(*p));
        p->args = args;
        p->stdin_fd = 0;
        p->stdout_fd = 1;
        p->stderr_fd = 2;
        p->signal_fd = -1;
        p->session_listen_fd = -1;
}

static int send_spec(int fd, const struct vm_process *p, herr_t *err)
{
        struct proto_spec s = {
                .args = (char **)p->args, .env = (char **)p->env, .cwd = (char *)p->cwd,
                .uid = p->uid, .gid = p->gid, .terminal = p->terminal,
                .rows = p->rows, .cols = p->cols,
        };
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_free_ struct proto_file *files = calloc(p->n_files + 1, sizeof(*files));
        size_t len;
        if (!p->args || !p->args[0])
                return herr_set(err, EINVAL, "VM process: empty args");
        if (!files)
                return herr_set(err, ENOMEM, "VM process %s", p->args[0]);
        for (size_t i = 0; i < p->n_files; i++)
                files[i] = (struct proto_file){ (char *)p->files[i].path, (uint8_t *)p->files[i].data,
                                                p->files[i].len };
        s.files = files;
        s.n_files = p->n_files;
        int r = proto_spec_encode(&s, &buf, &len);
        if (r < 0 && errno == E2BIG && s.n_files) { /* the files are extras: go without */
                s.n_files = 0;
                r = proto_spec_encode(&s, &buf, &len);
        }
        if (r < 0)
                return herr_sys(err, "VM process %s: encode", p->args[0]);
        if (proto_send(fd, PROTO_SPEC, buf, len) < 0)
                return herr_sys(err, "VM process %s: send", p->args[0]);
        return 0;
}

/* The relay runs over the VM's control channel (vm set), or over a
 * connection to a VM monitor's session socket (vm NULL, vm_exec_session). */
struct relay {
        struct vm *vm;
        int fd;
        uint8_t *rbuf;
        size_t *rlen, rbuf_size;
        const struct vm_process *p;
        int in_fd; /* -1 once at EOF */
        bool exited;
        int status;
        uint8_t *out; /* frames for the guest not yet written (non-blocking) */
        size_t out_len, out_cap;
        struct vm_sessions *sessions; /* other processes in the guest, or NULL */
};

int relay_queue_id(struct relay *r, uint32_t type, uint32_t id, const void *data, size_t len, herr_t *err)
{
        size_t idlen = id ? 4 : 0;
        size_t need = r->out_len + PROTO_HDR_LEN + idlen + len;
        if (len + idlen > PROTO_MAX_PAYLOAD)
                return herr_set(err, E2BIG, "VM: queue %s", proto_type_name(type));
        if (need > r->out_cap) {
                size_t cap = need * 2;
                uint8_t *o = realloc(r->out, cap);
                if (!o)
                        return herr_set(err, ENOMEM, "VM: queue %s", proto_type_name(type));
                r->out = o;
                r->out_cap = cap;
        }
        uint8_t *f = r->out + r->out_len;
        proto_put_hdr(f, type, (uint32_t)(len + idlen));
        if (id)
                proto_put_u32(f + PROTO_HDR_LEN, id);
        if (len)
                memcpy(f + PROTO_HDR_LEN + idlen, data, len);
        r->out_len = need;
        return 0;
}

bool relay_busy(const struct relay *r)
{
        return r->out_len > 0;
}

/* Queue a frame for the guest; flush() writes it when the channel has room.
 * stdin is not read while the queue is non-empty (backpressure). */
static int queue(struct relay *r, uint32_t type, const void *data, size_t len, herr_t *err)
{
        return relay_queue_id(r, type, 0, data, len, err);
}

static int gone(struct relay *r, herr_t *err)
{
        static const char what[] = "VM stopped before the process exited";
        if (r->vm)
                return vm_daemons_check(r->vm, what, err) < 0 ? -1 : vm_gone(r->vm, what, err);
        return herr_set(err, ECONNRESET, "the VM monitor closed the session before the process exited "
                                         "(the container stopped)");
}

static int flush(struct relay *r, herr_t *err)
{
        while (r->out_len > 0) {
                ssize_t w = r->vm ? write(r->fd, r->out, r->out_len)
                                  : send(r->fd, r->out, r->out_len, MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && errno == EAGAIN)
                        return 0;
                if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
                        return gone(r, err);
                if (w < 0)
                        return herr_sys(err, "VM control channel: write");
                memmove(r->out, r->out + w, r->out_len - (size_t)w);
                r->out_len -= (size_t)w;
        }
        return 0;
}

/* After EXIT: the agent reads everything while it waits for the ACK. */
static int flush_all(struct relay *r, herr_t *err)
{
        while (r->out_len > 0) {
                struct pollfd p = { .fd = r->fd, .events = POLLOUT };
                if (poll(&p, 1, 5000) <= 0)
                        return herr_set(err, ETIMEDOUT, "VM control channel: ACK not delivered");
                if (flush(r, err) < 0)
                        return -1;
        }
        return 0;
}

static int on_frame(struct relay *r, const struct frame *f, herr_t *err)
{
        const struct vm_process *p = r->p;
        switch (f->type) {
        case PROTO_STDOUT:
        case PROTO_STDERR: {
                int fd = f->type == PROTO_STDOUT ? p->stdout_fd : p->stderr_fd;
                if (fd >= 0 && write_all(fd, f->data, f->len) < 0 && errno != EPIPE)
                        return herr_sys(err, "VM process: write %s",
                                        f->type == PROTO_STDOUT ? "stdout" : "stderr");
                return 0;
        }
        case PROTO_EXIT:
                if (f->len != 8)
                        return herr_set(err, EPROTO, "VM agent: bad EXIT frame");
                r->exited = true;
                r->status = proto_get_u32(f->data) ? 128 + (int)proto_get_u32(f->data + 4)
                                                   : (int)proto_get_u32(f->data + 4);
                return r->vm ? queue(r, PROTO_ACK, NULL, 0, err) : 0;
        case PROTO_STATUS:
                if (p->on_status)
                        p->on_status(p->status_arg, f->data, f->len);
                return 0;
        case PROTO_ERROR:
                if (!r->vm)
                        return herr_set(err, 0, "%.*s", (int)f->len, f->data);
                return herr_set(err, 0, "VM agent: %.*s", (int)f->len, f->data);
        default:
                if (r->sessions && proto_is_session(f->type))
                        return sessions_guest_frame(r->sessions, f, err);
                return 0;
        }
}

/* Act on the whole frames already read (a session client may have
 * received more than its first reply with it). */
static int handle_frames(struct relay *r, herr_t *err)
{
        struct frame f;
        size_t used;
        int pr = 0;
        while (!r->exited && (pr = proto_parse(r->rbuf, *r->rlen, &f, &used)) == 1) {
                int h = on_frame(r, &f, err);
                memmove(r->rbuf, r->rbuf + used, *r->rlen - used);
                *r->rlen -= used;
                if (h < 0)
                        return -1;
        }
        if (!r->exited && pr < 0)
                return herr_set(err, EPROTO, "VM control channel: malformed frame");
        return 0;
}

static int pump_ctl(struct relay *r, herr_t *err)
{
        ssize_t n = read(r->fd, r->rbuf + *r->rlen, r->rbuf_size - *r->rlen);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (n == 0 || (n < 0 && errno == ECONNRESET)) /* QEMU gone, with or without a FIN */
                return gone(r, err);
        if (n < 0)
                return herr_sys(err, "VM control channel");
        *r->rlen += (size_t)n;
        return handle_frames(r, err);
}

static int pump_stdin(struct relay *r, herr_t *err)
{
        uint8_t buf[PROTO_CHUNK];
        ssize_t n = read(r->in_fd, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (n <= 0) {
                r->in_fd = -1;
                return queue(r, PROTO_STDIN_EOF, NULL, 0, err);
        }
        return queue(r, PROTO_STDIN, buf, (size_t)n, err);
}

static int pump_signal(struct relay *r, herr_t *err)
{
        struct signalfd_siginfo si;
        if (read(r->p->signal_fd, &si, sizeof(si)) != sizeof(si))
                return 0;
        /* our own write to a closed pipe: not for the process */
        if (si.ssi_signo == SIGPIPE && si.ssi_pid == (uint32_t)getpid())
                return 0;
        uint8_t d[4];
        if (si.ssi_signo == SIGWINCH) {
                struct winsize ws;
                if (ioctl(r->p->stdout_fd, TIOCGWINSZ, &ws) < 0)
                        return 0;
                d[0] = ws.ws_row & 0xff; d[1] = ws.ws_row >> 8;
                d[2] = ws.ws_col & 0xff; d[3] = ws.ws_col >> 8;
                return queue(r, PROTO_WINSIZE, d, 4, err);
        }
        proto_put_u32(d, si.ssi_signo);
        return queue(r, PROTO_SIGNAL, d, 4, err);
}

#define MAX_POLL (4 + VM_MAX_SESSIONS + 1)

static int relay_loop(struct relay *r, herr_t *err)
{
        const struct vm_process *p = r->p;
        while (!r->exited) {
                struct pollfd fds[MAX_POLL] = {
                        { .fd = r->fd, .events = POLLIN | (r->out_len ? POLLOUT : 0) },
                        { .fd = r->out_len ? -1 : r->in_fd, .events = POLLIN },
                        { .fd = p->signal_fd, .events = POLLIN },
                        { .fd = r->vm ? r->vm->watch_fd : -1, .events = POLLIN }, /* QEMU or virtiofsd died */
                };
                nfds_t n = 4;
                if (r->sessions)
                        n += sessions_pollfds(r->sessions, r, fds + 4, MAX_POLL - 4);
                if (poll(fds, n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return herr_sys(err, "VM relay: poll");
                }
                if ((fds[0].revents & POLLOUT) && flush(r, err) < 0)
                        return -1;
                if ((fds[0].revents & ~POLLOUT) && pump_ctl(r, err) < 0)
                        return -1;
                if (!r->exited && fds[1].revents && pump_stdin(r, err) < 0)
                        return -1;
                if (!r->exited && fds[2].revents && pump_signal(r, err) < 0)
                        return -1;
                if (!r->exited && r->sessions && sessions_pump(r->sessions, r, fds + 4, n - 4, err) < 0)
                        return -1;
                if (flush(r, err) < 0)
                        return -1;
                /* The guest's last output first: QEMU's end shows on ctl. */
                if (!r->exited && r->vm && fds[3].revents && !fds[0].revents &&
                    vm_daemons_check(r->vm, "VM stopped before the process exited", err) < 0)
                        return -1;
        }
        return flush_all(r, err);
}

int vm_exec(struct vm *vm, const struct vm_process *p, int *exit_status, herr_t *err)
{
        struct relay r = { .vm = vm, .fd = vm->ctl_fd, .rbuf = vm->rbuf, .rlen = &vm->rlen,
                           .rbuf_size = sizeof(vm->rbuf), .p = p, .in_fd = p->stdin_fd };
        if (vm->ctl_fd < 0)
                return herr_set(err, ENOTCONN, "VM is not running");
        if (send_spec(vm->ctl_fd, p, err) < 0)
                return -1;
        int fl = fcntl(vm->ctl_fd, F_GETFL);
        if (fl < 0 || fcntl(vm->ctl_fd, F_SETFL, fl | O_NONBLOCK) < 0)
                return herr_sys(err, "VM control channel: set non-blocking");
        if (p->session_listen_fd >= 0 && !(r.sessions = sessions_new(p->session_listen_fd))) {
                (void)fcntl(vm->ctl_fd, F_SETFL, fl);
                return herr_set(err, ENOMEM, "VM sessions");
        }
        int ret = r.in_fd < 0 ? queue(&r, PROTO_STDIN_EOF, NULL, 0, err) : 0;
        if (ret == 0)
                ret = relay_loop(&r, err);
        if (r.sessions)
                sessions_free(r.sessions, ret == 0 ? "the container's main process exited"
                                                   : "the VM stopped");
        free(r.out);
        (void)fcntl(vm->ctl_fd, F_SETFL, fl);
        if (ret == 0)
                *exit_status = r.status;
        return ret;
}

/* ------------------------------------------- the client end of a session */

static int session_read_frame(struct vm_session *s, struct frame *f, size_t *used, herr_t *err)
{
        for (;;) {
                int r = proto_parse(s->rbuf, s->rlen, f, used);
                if (r < 0)
                        return herr_set(err, EPROTO, "VM session: malformed frame from the monitor");
                if (r == 1)
                        return 0;
                ssize_t n = read(s->fd, s->rbuf + s->rlen, PROTO_HDR_LEN + PROTO_MAX_PAYLOAD - s->rlen);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return herr_sys(err, "VM session");
                if (n == 0)
                        return herr_set(err, ECONNRESET, "the VM monitor closed the session (the container stopped)");
                s->rlen += (size_t)n;
        }
}

int vm_session_start(struct vm_session *s, int fd, enum vm_session_kind kind, uint32_t arg,
                     const struct vm_process *p, pid_t *guest_pid, herr_t *err)
{
        memset(s, 0, sizeof(*s));
        s->fd = fd;
        if (!(s->rbuf = malloc(PROTO_HDR_LEN + PROTO_MAX_PAYLOAD)))
                return herr_set(err, ENOMEM, "VM session");
        uint8_t d[8];
        proto_put_u32(d, 1); /* the monitor puts the guest-wide id in */
        proto_put_u32(d + 4, arg);
        int r = 0;
        switch (kind) {
        case VM_SESSION_EXEC:
                r = send_spec(fd, p, err);
                break;
        case VM_SESSION_PS:
                r = proto_send(fd, PROTO_PS, d, 8) < 0 ? herr_sys(err, "VM session: send ps") : 0;
                break;
        case VM_SESSION_KILL_ALL:
                r = proto_send(fd, PROTO_KILL_ALL, d, 8) < 0 ? herr_sys(err, "VM session: send kill") : 0;
                break;
        }
        if (r < 0)
                return -1;
        struct frame f;
        size_t used;
        if (session_read_frame(s, &f, &used, err) < 0)
                return -1;
        if (f.type == PROTO_ERROR)
                return herr_set(err, 0, "%.*s", (int)f.len, f.data);
        if (f.type == PROTO_EXIT) { /* done at once (kill --all without husk in the guest) */
                if (guest_pid)
                        *guest_pid = 0;
                return 0; /* left for vm_session_wait */
        }
        if (f.type != PROTO_XSTARTED)
                return herr_set(err, EPROTO, "VM session: %s before the process started",
                                proto_type_name(f.type));
        if (guest_pid)
                *guest_pid = (pid_t)proto_get_u32(f.data + 4);
        memmove(s->rbuf, s->rbuf + used, s->rlen - used);
        s->rlen -= used;
        return 0;
}

int vm_session_wait(struct vm_session *s, const struct vm_process *p, int *exit_status, herr_t *err)
{
        struct relay r = { .fd = s->fd, .rbuf = s->rbuf, .rlen = &s->rlen,
                           .rbuf_size = PROTO_HDR_LEN + PROTO_MAX_PAYLOAD, .p = p, .in_fd = p->stdin_fd };
        int fl = fcntl(s->fd, F_GETFL);
        if (fl < 0 || fcntl(s->fd, F_SETFL, fl | O_NONBLOCK) < 0)
                return herr_sys(err, "VM session: set non-blocking");
        int ret = r.in_fd < 0 ? queue(&r, PROTO_STDIN_EOF, NULL, 0, err) : 0;
        if (ret == 0)
                ret = handle_frames(&r, err); /* what came with the start */
        if (ret == 0 && !r.exited)
                ret = relay_loop(&r, err);
        free(r.out);
        (void)fcntl(s->fd, F_SETFL, fl);
        if (ret == 0)
                *exit_status = r.status;
        return ret;
}

void vm_session_close(struct vm_session *s)
{
        if (s->fd >= 0)
                close(s->fd);
        s->fd = -1;
        free(s->rbuf);
        s->rbuf = NULL;
}
