/* husk VM control protocol: framing and the SPEC encoding (libc only). */
#include "proto.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* The payload lengths each type may carry: {min, max}. */
#define ANY PROTO_MAX_PAYLOAD
static const uint32_t lengths[PROTO_TYPE_END][2] = {
        [PROTO_READY] = { 0, 0 },        [PROTO_SPEC] = { 0, ANY },
        [PROTO_STDIN] = { 0, ANY },      [PROTO_STDIN_EOF] = { 0, 0 },
        [PROTO_STDOUT] = { 0, ANY },     [PROTO_STDERR] = { 0, ANY },
        [PROTO_SIGNAL] = { 4, 4 },       [PROTO_WINSIZE] = { 4, 4 },
        [PROTO_EXIT] = { 8, 8 },         [PROTO_ACK] = { 0, 0 },
        [PROTO_ERROR] = { 0, ANY },      [PROTO_EXEC] = { 4, ANY },
        [PROTO_PS] = { 8, 8 },           [PROTO_KILL_ALL] = { 8, 8 },
        [PROTO_XSTDIN] = { 4, ANY },     [PROTO_XSTDIN_EOF] = { 4, 4 },
        [PROTO_XSTDOUT] = { 4, ANY },    [PROTO_XSTDERR] = { 4, ANY },
        [PROTO_XSIGNAL] = { 8, 8 },      [PROTO_XWINSIZE] = { 8, 8 },
        [PROTO_XSTARTED] = { 8, 8 },     [PROTO_XEXIT] = { 12, 12 },
        [PROTO_XERROR] = { 4, ANY },     [PROTO_STATUS] = { 0, ANY },
};
#undef ANY

int proto_parse(const uint8_t *buf, size_t len, struct frame *out, size_t *consumed)
{
        if (len < PROTO_HDR_LEN)
                return 0;
        uint32_t type = proto_get_u32(buf);
        uint32_t plen = proto_get_u32(buf + 4);
        if (type == 0 || type >= PROTO_TYPE_END || plen < lengths[type][0] || plen > lengths[type][1])
                return -1;
        if (len - PROTO_HDR_LEN < plen)
                return 0;
        if (proto_is_session(type) && proto_get_u32(buf + PROTO_HDR_LEN) == 0)
                return -1; /* id 0 is the main process: its frames have types of their own */
        out->type = type;
        out->len = plen;
        out->data = buf + PROTO_HDR_LEN;
        *consumed = PROTO_HDR_LEN + (size_t)plen;
        return 1;
}

void proto_put_hdr(uint8_t hdr[PROTO_HDR_LEN], uint32_t type, uint32_t len)
{
        proto_put_u32(hdr, type);
        proto_put_u32(hdr + 4, len);
}

static int wait_writable(int fd)
{
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        int r;
        do
                r = poll(&p, 1, -1);
        while (r < 0 && errno == EINTR);
        return r < 0 ? -1 : 0;
}

/* hdr + optional id + data, all of it (blocking). */
static int send_frame(int fd, uint32_t type, const uint8_t *id, const void *data, size_t len)
{
        size_t idlen = id ? 4 : 0;
        if (len > PROTO_MAX_PAYLOAD - idlen) {
                errno = E2BIG;
                return -1;
        }
        uint8_t hdr[PROTO_HDR_LEN];
        proto_put_hdr(hdr, type, (uint32_t)(len + idlen));
        struct iovec iov[3];
        int n = 0;
        iov[n++] = (struct iovec){ hdr, sizeof(hdr) };
        if (id)
                iov[n++] = (struct iovec){ (void *)id, idlen };
        if (len)
                iov[n++] = (struct iovec){ (void *)data, len };
        struct iovec *v = iov;
        while (n > 0) {
                ssize_t w = writev(fd, v, n);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN && wait_writable(fd) == 0)
                                continue;
                        return -1;
                }
                while (n > 0 && (size_t)w >= v->iov_len) {
                        w -= (ssize_t)v->iov_len;
                        v++;
                        n--;
                }
                if (n > 0) {
                        v->iov_base = (uint8_t *)v->iov_base + w;
                        v->iov_len -= (size_t)w;
                }
        }
        return 0;
}

int proto_send(int fd, uint32_t type, const void *data, size_t len)
{
        return send_frame(fd, type, NULL, data, len);
}

int proto_send_id(int fd, uint32_t type, uint32_t id, const void *data, size_t len)
{
        uint8_t d[4];
        proto_put_u32(d, id);
        return send_frame(fd, type, d, data, len);
}

const char *proto_type_name(uint32_t type)
{
        static const char *const names[] = {
                [PROTO_READY] = "READY",     [PROTO_SPEC] = "SPEC",
                [PROTO_STDIN] = "STDIN",     [PROTO_STDIN_EOF] = "STDIN_EOF",
                [PROTO_STDOUT] = "STDOUT",   [PROTO_STDERR] = "STDERR",
                [PROTO_SIGNAL] = "SIGNAL",   [PROTO_WINSIZE] = "WINSIZE",
                [PROTO_EXIT] = "EXIT",       [PROTO_ACK] = "ACK",
                [PROTO_ERROR] = "ERROR",     [PROTO_EXEC] = "EXEC",
                [PROTO_PS] = "PS",           [PROTO_KILL_ALL] = "KILL_ALL",
                [PROTO_XSTDIN] = "XSTDIN",   [PROTO_XSTDIN_EOF] = "XSTDIN_EOF",
                [PROTO_XSTDOUT] = "XSTDOUT", [PROTO_XSTDERR] = "XSTDERR",
                [PROTO_XSIGNAL] = "XSIGNAL", [PROTO_XWINSIZE] = "XWINSIZE",
                [PROTO_XSTARTED] = "XSTARTED", [PROTO_XEXIT] = "XEXIT",
                [PROTO_XERROR] = "XERROR",   [PROTO_STATUS] = "STATUS",
        };
        if (type == 0 || type >= PROTO_TYPE_END)
                return "UNKNOWN";
        return names[type];
}

/* ------------------------------------------------------------------ SPEC */

struct buf {
        uint8_t *p;
        size_t len, cap;
};

static int buf_put(struct buf *b, uint16_t tag, const void *data, size_t len)
{
        size_t need = b->len + 6 + len;
        if (len > SPEC_MAX_STRLEN || need > PROTO_MAX_PAYLOAD) {
                errno = E2BIG;
                return -1;
        }
        if (need > b->cap) {
                size_t cap = b->cap ? b->cap * 2 : 256;
                while (cap < need)
                        cap *= 2;
                uint8_t *p = realloc(b->p, cap);
                if (!p)
                        return -1;
                b->p = p;
                b->cap = cap;
        }
        b->p[b->len] = tag & 0xff;
        b->p[b->len + 1] = tag >> 8;
        proto_put_u32(b->p + b->len + 2, (uint32_t)len);
        if (len)
                memcpy(b->p + b->len + 6, data, len);
        b->len = need;
        return 0;
}

static int buf_put_u32(struct buf *b, uint16_t tag, uint32_t v)
{
        uint8_t d[4];
        proto_put_u32(d, v);
        return buf_put(b, tag, d, 4);
}

static int buf_put_strv(struct buf *b, uint16_t tag, char *const *v)
{
        for (size_t i = 0; v && v[i]; i++)
                if (buf_put(b, tag, v[i], strlen(v[i])) < 0)
                        return -1;
        return 0;
}

static int buf_put_files(struct buf *b, const struct proto_spec *s)
{
        for (size_t i = 0; i < s->n_files; i++) {
                const struct proto_file *f = &s->files[i];
                size_t pl = strlen(f->path) + 1;
                if (i >= SPEC_MAX_FILES || f->len > SPEC_MAX_STRLEN - pl) {
                        errno = E2BIG;
                        return -1;
                }
                uint8_t *d = malloc(pl + f->len);
                if (!d)
                        return -1;
                memcpy(d, f->path, pl);
                if (f->len)
                        memcpy(d + pl, f->data, f->len);
                int r = buf_put(b, SPEC_FILE, d, pl + f->len);
                free(d);
                if (r < 0)
                        return -1;
        }
        return 0;
}

int proto_spec_encode(const struct proto_spec *s, uint8_t **out, size_t *out_len)
{
        struct buf b = { 0 };
        if (buf_put_strv(&b, SPEC_ARG, s->args) < 0 || buf_put_strv(&b, SPEC_ENV, s->env) < 0 ||
            (s->cwd && buf_put(&b, SPEC_CWD, s->cwd, strlen(s->cwd)) < 0) ||
            buf_put_u32(&b, SPEC_UID, s->uid) < 0 || buf_put_u32(&b, SPEC_GID, s->gid) < 0 ||
            buf_put_u32(&b, SPEC_TERMINAL, s->terminal) < 0 ||
            buf_put_u32(&b, SPEC_ROWS, s->rows) < 0 || buf_put_u32(&b, SPEC_COLS, s->cols) < 0 ||
            buf_put_files(&b, s) < 0) {
                int e = errno;
                free(b.p);
                errno = e;
                return -1;
        }
        *out = b.p;
        *out_len = b.len;
        return 0;
}

static int strv_push(char ***v, size_t *n, const uint8_t *data, uint32_t len)
{
        if (*n >= SPEC_MAX_STRINGS || memchr(data, 0, len)) {
                errno = EINVAL;
                return -1;
        }
        char **nv = realloc(*v, (*n + 2) * sizeof(char *));
        if (!nv)
                return -1;
        *v = nv;
        nv[*n] = strndup((const char *)data, len);
        if (!nv[*n])
                return -1;
        nv[++*n] = NULL;
        return 0;
}

static int file_push(struct proto_spec *s, const uint8_t *d, uint32_t len)
{
        const uint8_t *nul = memchr(d, 0, len);
        if (!nul || nul == d || s->n_files >= SPEC_MAX_FILES) {
                errno = EINVAL;
                return -1;
        }
        struct proto_file *nf = realloc(s->files, (s->n_files + 1) * sizeof(*nf));
        if (!nf)
                return -1;
        s->files = nf;
        struct proto_file *f = &nf[s->n_files];
        size_t pl = (size_t)(nul - d) + 1;
        f->len = len - pl;
        f->path = strdup((const char *)d);
        f->data = malloc(f->len ? f->len : 1);
        if (!f->path || !f->data) {
                free(f->path);
                free(f->data);
                return -1;
        }
        memcpy(f->data, d + pl, f->len);
        s->n_files++;
        return 0;
}

static int spec_field(struct proto_spec *s, size_t *nargs, size_t *nenv, uint16_t tag,
                      const uint8_t *d, uint32_t len)
{
        switch (tag) {
        case SPEC_FILE:
                return file_push(s, d, len);
        case SPEC_ARG:
                return strv_push(&s->args, nargs, d, len);
        case SPEC_ENV:
                return strv_push(&s->env, nenv, d, len);
        case SPEC_CWD:
                if (s->cwd || memchr(d, 0, len))
                        break;
                s->cwd = strndup((const char *)d, len);
                return s->cwd ? 0 : -1;
        case SPEC_UID: case SPEC_GID: case SPEC_TERMINAL: case SPEC_ROWS: case SPEC_COLS: {
                if (len != 4)
                        break;
                uint32_t v = proto_get_u32(d);
                if (tag == SPEC_UID)
                        s->uid = v;
                else if (tag == SPEC_GID)
                        s->gid = v;
                else if (tag == SPEC_TERMINAL)
                        s->terminal = v != 0;
                else if (v > 0xffff)
                        break;
                else if (tag == SPEC_ROWS)
                        s->rows = (uint16_t)v;
                else
                        s->cols = (uint16_t)v;
                return 0;
        }
        default:
                return 0; /* unknown tags are skipped: newer hosts may add fields */
        }
        errno = EINVAL;
        return -1;
}

int proto_spec_decode(const uint8_t *buf, size_t len, struct proto_spec *s)
{
        size_t off = 0, nargs = 0, nenv = 0;
        memset(s, 0, sizeof(*s));
        while (off < len) {
                if (len - off < 6)
                        goto inval;
                uint16_t tag = (uint16_t)(buf[off] | buf[off + 1] << 8);
                uint32_t flen = proto_get_u32(buf + off + 2);
                off += 6;
                if (flen > SPEC_MAX_STRLEN || flen > len - off)
                        goto inval;
                if (spec_field(s, &nargs, &nenv, tag, buf + off, flen) < 0)
                        goto fail;
                off += flen;
        }
        if (nargs == 0)
                goto inval;
        return 0;
inval:
        errno = EINVAL;
fail:;
        int e = errno;
        proto_spec_free(s);
        errno = e;
        return -1;
}

static void strv_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

void proto_spec_free(struct proto_spec *s)
{
        strv_free(s->args);
        strv_free(s->env);
        free(s->cwd);
        for (size_t i = 0; i < s->n_files; i++) {
                free(s->files[i].path);
                free(s->files[i].data);
        }
        free(s->files);
        memset(s, 0, sizeof(*s));
}
