/* VM mode: run one process in a booted VM and relay its stdio as frames. */
#include <errno.h>
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
        size_t len;
        if (!p->args || !p->args[0])
                return herr_set(err, EINVAL, "VM process: empty args");
        if (proto_spec_encode(&s, &buf, &len) < 0)
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
};

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
                return proto_send(r->vm->ctl_fd, PROTO_ACK, NULL, 0) < 0
                               ? herr_sys(err, "VM: send ACK") : 0;
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
        if (n < 0 && errno == EINTR)
                return 0;
        if (n < 0)
                return herr_sys(err, "VM control channel");
        if (n == 0)
                return vm_gone(vm, "VM stopped before the process exited", err);
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
                return proto_send(r->vm->ctl_fd, PROTO_STDIN_EOF, NULL, 0) < 0
                               ? herr_sys(err, "VM: send stdin EOF") : 0;
        }
        return proto_send(r->vm->ctl_fd, PROTO_STDIN, buf, (size_t)n) < 0
                       ? herr_sys(err, "VM: send stdin") : 0;
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
                return proto_send(r->vm->ctl_fd, PROTO_WINSIZE, d, 4) < 0
                               ? herr_sys(err, "VM: send window size") : 0;
        }
        proto_put_u32(d, si.ssi_signo);
        return proto_send(r->vm->ctl_fd, PROTO_SIGNAL, d, 4) < 0 ? herr_sys(err, "VM: send signal")
                                                                  : 0;
}

int vm_exec(struct vm *vm, const struct vm_process *p, int *exit_status, herr_t *err)
{
        struct relay r = { .vm = vm, .p = p, .in_fd = p->stdin_fd };
        if (vm->ctl_fd < 0)
                return herr_set(err, ENOTCONN, "VM is not running");
        if (send_spec(vm, p, err) < 0)
                return -1;
        if (r.in_fd < 0 && proto_send(vm->ctl_fd, PROTO_STDIN_EOF, NULL, 0) < 0)
                return herr_sys(err, "VM: send stdin EOF");
        while (!r.exited) {
                struct pollfd fds[3] = {
                        { .fd = vm->ctl_fd, .events = POLLIN },
                        { .fd = r.in_fd, .events = POLLIN },
                        { .fd = p->signal_fd, .events = POLLIN },
                };
                if (poll(fds, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return herr_sys(err, "VM relay: poll");
                }
                if (fds[0].revents && pump_ctl(&r, err) < 0)
                        return -1;
                if (!r.exited && fds[1].revents && pump_stdin(&r, err) < 0)
                        return -1;
                if (!r.exited && fds[2].revents && pump_signal(&r, err) < 0)
                        return -1;
        }
        *exit_status = r.status;
        return 0;
}
