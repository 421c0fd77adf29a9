/* VM sessions: more processes in a running guest (husk exec, ps, kill
 * --all) while vm_exec relays the main one.
 *
 * A client (vm_session_start) connects to the listening socket and sends
 * one request with the main process's frame types: SPEC (a process to
 * run), or PS / KILL_ALL (with id 1); then STDIN, STDIN_EOF, SIGNAL and
 * WINSIZE. It receives XSTARTED (id 1) or ERROR, then STDOUT, STDERR and
 * EXIT. Here each client gets a guest-wide session id, and its frames are
 * translated to the agent's session frames (EXEC, XSTDIN, ...) and back.
 * A client that goes away gets its process's stdin closed; the process
 * runs on (as with native exec) and its output is dropped. Only root may
 * connect (the socket lives in the root-only state directory as well). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "internal.h"

#define RBUF_SIZE (PROTO_HDR_LEN + PROTO_MAX_PAYLOAD)
#define SEND_TIMEOUT_S 30 /* a client that takes no output for this long is dropped */

struct client {
        int fd;      /* -1: a free slot */
        uint32_t id; /* guest-wide; 0 until the request came */
        uint8_t *rbuf;
        size_t rlen;
};

struct vm_sessions {
        int listen_fd;
        uint32_t next_id;
        struct client c[VM_MAX_SESSIONS];
};

struct vm_sessions *sessions_new(int listen_fd)
{
        struct vm_sessions *s = calloc(1, sizeof(*s));
        if (!s)
                return NULL;
        s->listen_fd = listen_fd;
        s->next_id = 1;
        for (size_t i = 0; i < VM_MAX_SESSIONS; i++)
                s->c[i].fd = -1;
        return s;
}

static void drop(struct client *c)
{
        if (c->fd >= 0)
                close(c->fd);
        free(c->rbuf);
        memset(c, 0, sizeof(*c));
        c->fd = -1;
}

/* A frame to the client; a client that cannot take it is dropped. */
static void to_client(struct client *c, uint32_t type, const void *data, size_t len)
{
        uint8_t hdr[PROTO_HDR_LEN];
        if (c->fd < 0)
                return;
        proto_put_hdr(hdr, type, (uint32_t)len);
        if (send(c->fd, hdr, sizeof(hdr), MSG_NOSIGNAL | (len ? MSG_MORE : 0)) != (ssize_t)sizeof(hdr))
                goto fail;
        const uint8_t *p = data;
        while (len > 0) {
                ssize_t w = send(c->fd, p, len, MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        goto fail;
                p += w;
                len -= (size_t)w;
        }
        return;
fail: /* the caller drops the client */
        close(c->fd);
        c->fd = -1;
}

static void client_error(struct client *c, const char *msg)
{
        to_client(c, PROTO_ERROR, msg, strlen(msg));
        drop(c);
}

void sessions_free(struct vm_sessions *s, const char *why)
{
        if (!s)
                return;
        for (size_t i = 0; i < VM_MAX_SESSIONS; i++)
                if (s->c[i].fd >= 0)
                        client_error(&s->c[i], why);
        free(s);
}

size_t sessions_pollfds(struct vm_sessions *s, const struct relay *r, struct pollfd *p, size_t max)
{
        size_t n = 0;
        bool room = false;
        for (size_t i = 0; i < VM_MAX_SESSIONS && n < max; i++) {
                const struct client *c = &s->c[i];
                room |= c->fd < 0;
                p[n++] = (struct pollfd){ .fd = relay_busy(r) ? -1 : c->fd, .events = POLLIN };
        }
        if (n < max) /* a connection waits in the backlog while every slot is taken */
                p[n++] = (struct pollfd){ .fd = room ? s->listen_fd : -1, .events = POLLIN };
        return n;
}

static void accept_client(struct vm_sessions *s)
{
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return;
        struct ucred cred;
        socklen_t cl = sizeof(cred);
        struct client *c = NULL;
        for (size_t i = 0; !c && i < VM_MAX_SESSIONS; i++)
                if (s->c[i].fd < 0)
                        c = &s->c[i];
        if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 || cred.uid != 0 ||
            !(c->rbuf = malloc(RBUF_SIZE))) {
                close(fd);
                return;
        }
        struct timeval tv = { .tv_sec = SEND_TIMEOUT_S };
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        int fl = fcntl(fd, F_GETFL);
        (void)fcntl(fd, F_SETFL, fl | O_NONBLOCK); /* reads; sends wait (SO_SNDTIMEO) */
        c->fd = fd;
        c->id = 0;
        c->rlen = 0;
}

/* The client's frame types -> the agent's session frames. */
static uint32_t to_guest_type(uint32_t type)
{
        switch (type) {
        case PROTO_STDIN: return PROTO_XSTDIN;
        case PROTO_STDIN_EOF: return PROTO_XSTDIN_EOF;
        case PROTO_SIGNAL: return PROTO_XSIGNAL;
        case PROTO_WINSIZE: return PROTO_XWINSIZE;
        default: return 0;
        }
}

/* One frame of a client. 1: handled, 0: the client was dropped. */
static int client_frame(struct vm_sessions *s, struct relay *r, struct client *c, const struct frame *f,
                        herr_t *err)
{
        if (!c->id) { /* the request */
                uint32_t id = s->next_id++;
                if (s->next_id == 0)
                        s->next_id = 1;
                int q;
                if (f->type == PROTO_SPEC)
                        q = relay_queue_id(r, PROTO_EXEC, id, f->data, f->len, err);
                else if (f->type == PROTO_PS || f->type == PROTO_KILL_ALL)
                        q = relay_queue_id(r, f->type, id, f->data + 4, f->len - 4, err);
                else {
                        client_error(c, "VM session: expected a request (SPEC, PS or KILL_ALL)");
                        return 0;
                }
                if (q < 0) {
                        client_error(c, err->msg);
                        herr_clear(err);
                        return 0;
                }
                c->id = id;
                return 1;
        }
        if (f->type == PROTO_ACK)
                return 1;
        uint32_t t = to_guest_type(f->type);
        if (!t) {
                char msg[96];
                snprintf(msg, sizeof(msg), "VM session: unexpected %s frame", proto_type_name(f->type));
                client_error(c, msg);
                return 0;
        }
        if (relay_queue_id(r, t, c->id, f->data, f->len, err) < 0) {
                client_error(c, err->msg);
                herr_clear(err);
                return 0;
        }
        return 1;
}

static void pump_client(struct vm_sessions *s, struct relay *r, struct client *c, herr_t *err)
{
        ssize_t n = read(c->fd, c->rbuf + c->rlen, RBUF_SIZE - c->rlen);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n <= 0) { /* the client is gone: its process runs on without input */
                herr_t e2 = { 0 };
                if (c->id)
                        (void)relay_queue_id(r, PROTO_XSTDIN_EOF, c->id, NULL, 0, &e2);
                drop(c);
                return;
        }
        c->rlen += (size_t)n;
        struct frame f;
        size_t used;
        int pr;
        while ((pr = proto_parse(c->rbuf, c->rlen, &f, &used)) == 1) {
                if (!client_frame(s, r, c, &f, err))
                        return;
                memmove(c->rbuf, c->rbuf + used, c->rlen - used);
                c->rlen -= used;
        }
        if (pr < 0)
                client_error(c, "VM session: malformed frame");
}

int sessions_pump(struct vm_sessions *s, struct relay *r, const struct pollfd *p, size_t n, herr_t *err)
{
        for (size_t i = 0; i < VM_MAX_SESSIONS && i < n; i++)
                if (p[i].revents && s->c[i].fd >= 0 && p[i].fd == s->c[i].fd)
                        pump_client(s, r, &s->c[i], err);
        if (n > VM_MAX_SESSIONS && p[VM_MAX_SESSIONS].revents)
                accept_client(s);
        return 0;
}

int sessions_guest_frame(struct vm_sessions *s, const struct frame *f, herr_t *err)
{
        (void)err;
        uint32_t id = proto_get_u32(f->data);
        struct client *c = NULL;
        for (size_t i = 0; !c && i < VM_MAX_SESSIONS; i++)
                if (s->c[i].fd >= 0 && s->c[i].id == id)
                        c = &s->c[i];
        if (!c)
                return 0; /* its client went away: dropped */
        const uint8_t *d = f->data + 4;
        size_t len = f->len - 4;
        switch (f->type) {
        case PROTO_XSTARTED: {
                uint8_t st[8];
                proto_put_u32(st, 1);
                memcpy(st + 4, d, 4);
                to_client(c, PROTO_XSTARTED, st, sizeof(st));
                break;
        }
        case PROTO_XSTDOUT:
                to_client(c, PROTO_STDOUT, d, len);
                break;
        case PROTO_XSTDERR:
                to_client(c, PROTO_STDERR, d, len);
                break;
        case PROTO_XEXIT:
                to_client(c, PROTO_EXIT, d, len);
                drop(c);
                return 0;
        case PROTO_XERROR:
                to_client(c, PROTO_ERROR, d, len);
                drop(c);
                return 0;
        default:
                return 0;
        }
        if (c->fd < 0) /* the send failed */
                drop(c);
        return 0;
}
