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
}

static int send_spec(struct vm *vm, const struct vm_process *p, herr_t *err)
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
        if (proto_send(vm->ctl_fd, PROTO_SPEC, buf, len) < 0)
                return herr_sys(err, "VM process %s: send", p->args[0]);
        return 0;
}

struct relay {
        struct vm *vm;
        const struct vm_process *p;
        int in_fd; /* -1 once at EOF */
        bool exited;
        int status;
        uint8_t *out; /* frames for the guest not yet written (non-blocking) */
        size_t out_len, out_cap;
};

/* Queue a frame for the guest; flush() writes it when the channel has room.
 * stdin is not read while the queue is non-empty (backpressure). */
static int queue(struct relay *r, uint32_t type, const void *data, size_t len, herr_t *err)
{
        size_t need = r->out_len + PROTO_HDR_LEN + len;
        if (need > r->out_cap) {
                size_t cap = need * 2;
                uint8_t *o = realloc(r->out, cap);
                if (!o)
                        return herr_set(err, ENOMEM, "VM: queue %s", proto_type_name(type));
                r->out = o;
                r->out_cap = cap;
        }
        proto_put_hdr(r->out + r->out_len, type, (uint32_t)len);
        if (len)
                memcpy(r->out + r->out_len + PROTO_HDR_LEN, data, len);
        r->out_len = need;
        return 0;
}

static int flush(struct relay *r, herr_t *err)
{
        while (r->out_len > 0) {
                ssize_t w = write(r->vm->ctl_fd, r->out, r->out_len);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && errno == EAGAIN)
                        return 0;
                if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
                        return vm_gone(r->vm, "VM stopped before the process exited", err);
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
                struct pollfd p = { .fd = r->vm->ctl_fd, .events = POLLOUT };
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
                return queue(r, PROTO_ACK, NULL, 0, err);
        case PROTO_ERROR:
                return herr_set(err, 0, "VM agent: %.*s", (int)f->len, f->data);
        default:
                return 0;
        }
}

static int pump_ctl(struct relay *r, herr_t *err)
{
        struct vm *vm = r->vm;
        ssize_t n = read(vm->ctl_fd, vm->rbuf + vm->rlen, sizeof(vm->rbuf) - vm->rlen);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (n == 0 || (n < 0 && errno == ECONNRESET)) /* QEMU gone, with or without a FIN */
                return vm_gone(vm, "VM stopped before the process exited", err);
        if (n < 0)
                return herr_sys(err, "VM control channel");
        vm->rlen += (size_t)n;
        struct frame f;
        size_t used;
        int pr;
        while (!r->exited && (pr = proto_parse(vm->rbuf, vm->rlen, &f, &used)) == 1) {
                int h = on_frame(r, &f, err);
                memmove(vm->rbuf, vm->rbuf + used, vm->rlen - used);
                vm->rlen -= used;
                if (h < 0)
                        return -1;
        }
        if (!r->exited && pr < 0)
                return herr_set(err, EPROTO, "VM control channel: malformed frame");
        return 0;
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

static int relay_loop(struct relay *r, herr_t *err)
{
        const struct vm_process *p = r->p;
        while (!r->exited) {
                struct pollfd fds[3] = {
                        { .fd = r->vm->ctl_fd, .events = POLLIN | (r->out_len ? POLLOUT : 0) },
                        { .fd = r->out_len ? -1 : r->in_fd, .events = POLLIN },
                        { .fd = p->signal_fd, .events = POLLIN },
                };
                if (poll(fds, 3, -1) < 0) {
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
                if (flush(r, err) < 0)
                        return -1;
        }
        return flush_all(r, err);
}

int vm_exec(struct vm *vm, const struct vm_process *p, int *exit_status, herr_t *err)
{
        struct relay r = { .vm = vm, .p = p, .in_fd = p->stdin_fd };
        if (vm->ctl_fd < 0)
                return herr_set(err, ENOTCONN, "VM is not running");
        if (send_spec(vm, p, err) < 0)
                return -1;
        int fl = fcntl(vm->ctl_fd, F_GETFL);
        if (fl < 0 || fcntl(vm->ctl_fd, F_SETFL, fl | O_NONBLOCK) < 0)
                return herr_sys(err, "VM control channel: set non-blocking");
        int ret = r.in_fd < 0 ? queue(&r, PROTO_STDIN_EOF, NULL, 0, err) : 0;
        if (ret == 0)
                ret = relay_loop(&r, err);
        free(r.out);
        (void)fcntl(vm->ctl_fd, F_SETFL, fl);
        if (ret == 0)
                *exit_status = r.status;
        return ret;
}
