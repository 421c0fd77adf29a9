#include "sync.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/fileutil.h"

/* Header and payload go out in one sendmsg: on a unix stream socket a
 * message that fits one socket buffer is then queued whole, so two
 * processes writing to the same socket (exec's C1 reporting C2's pid while
 * C2 reports an error) never interleave their bytes. A longer message
 * (only husk itself sends those, alone) is finished with write_all. */
int sync_send(int sock, uint8_t type, const void *data, size_t len, int fd)
{
        if (len > SYNC_MAX_PAYLOAD) {
                errno = EMSGSIZE;
                return -1;
        }
        uint8_t hdr[5];
        uint32_t l = (uint32_t)len;
        hdr[0] = type;
        memcpy(hdr + 1, &l, 4);
        struct iovec iov[2] = { { hdr, sizeof hdr }, { (void *)data, len } };
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
        if (fd >= 0) {
                memset(cbuf, 0, sizeof cbuf);
                mh.msg_control = cbuf;
                mh.msg_controllen = sizeof cbuf;
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        ssize_t n;
        do
                n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < (ssize_t)sizeof hdr) {
                if (n >= 0)
                        errno = EIO;
                return -1;
        }
        size_t sent = (size_t)n - sizeof hdr;
        if (sent < len && write_all(sock, (const char *)data + sent, len - sent) < 0)
                return -1;
        return 0;
}

int sync_send_str(int sock, uint8_t type, const char *s)
{
        return sync_send(sock, type, s, s ? strlen(s) : 0, -1);
}

static int read_full(int sock, void *buf, size_t len)
{
        char *p = buf;
        while (len) {
                ssize_t n = read(sock, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -1;
                if (n == 0) {
                        errno = EPIPE;
                        return -1;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int sync_recv(int sock, struct sync_msg *m)
{
        memset(m, 0, sizeof *m);
        m->fd = -1;
        uint8_t hdr[5];
        struct iovec iov = { hdr, sizeof hdr };
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                             .msg_controllen = sizeof cbuf };
        ssize_t n;
        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -1;
        if (n == 0) {
                errno = EPIPE;
                return -1;
        }
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                        memcpy(&m->fd, CMSG_DATA(c), sizeof(int));
        if (n != (ssize_t)sizeof hdr && read_full(sock, hdr + n, sizeof hdr - (size_t)n) < 0)
                goto fail;
        m->type = hdr[0];
        memcpy(&m->len, hdr + 1, 4);
        if (m->len > SYNC_MAX_PAYLOAD) {
                errno = EMSGSIZE;
                goto fail;
        }
        if (m->len) {
                m->data = malloc(m->len + 1);
                if (!m->data || read_full(sock, m->data, m->len) < 0)
                        goto fail;
                m->data[m->len] = '\0';
        }
        return 0;
fail:
        sync_msg_free(m);
        return -1;
}

void sync_msg_free(struct sync_msg *m)
{
        int e = errno;
        free(m->data);
        m->data = NULL;
        if (m->fd >= 0)
                close(m->fd);
        m->fd = -1;
        errno = e;
}

int sync_expect(int sock, uint8_t type, struct sync_msg *m, const char *peer, herr_t *err)
{
        if (sync_recv(sock, m) < 0) {
                if (errno == EPIPE || errno == ECONNRESET)
                        return herr_set(err, 0, "%s exited unexpectedly", peer);
                return herr_sys(err, "%s: receive", peer);
        }
        if (m->type == SYNC_ERROR) {
                herr_set(err, 0, "%s", m->data ? m->data : "unknown error");
                sync_msg_free(m);
                return -1;
        }
        if (m->type != type) {
                herr_set(err, 0, "%s: protocol error: expected '%c', got '%c'", peer, type, m->type);
                sync_msg_free(m);
                return -1;
        }
        return 0;
}
