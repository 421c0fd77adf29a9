#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "rootfs.h"

_Static_assert(sizeof(struct termios) <= 64, "struct relay termios buffer");

int console_socket_connect(const char *path, herr_t *err)
{
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        const char *name = slash ? slash + 1 : dir;
        _cleanup_close_ int dfd = -1;
        if (slash) {
                *slash = '\0';
                dfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0)
                        return herr_sys(err, "--console-socket %s", path);
        }
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int n = dfd >= 0 ? snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/%s", dfd, name)
                         : snprintf(sa.sun_path, sizeof sa.sun_path, "%s", name);
        if (n < 0 || (size_t)n >= sizeof sa.sun_path)
                return herr_set(err, ENAMETOOLONG, "--console-socket %s", path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return herr_sys(err, "socket");
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                int e = errno;
                close(fd);
                return herr_set(err, e, "--console-socket %s: connect", path);
        }
        return fd;
}

int terminal_open(int rootfd, const struct oci_console_size *size, int *master, int *slave, herr_t *err)
{
        _cleanup_close_ int m = root_open(rootfd, "/dev/ptmx", O_RDWR | O_NOCTTY, err);
        if (m < 0)
                return herr_prefix(err, "process.terminal needs a devpts mount at /dev/pts");
        int unlock = 0;
        if (ioctl(m, TIOCSPTLCK, &unlock) < 0)
                return herr_sys(err, "process.terminal: unlock pty");
        int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (s < 0)
                return herr_sys(err, "process.terminal: open pty peer");
        if (size) {
                struct winsize ws = { .ws_row = (unsigned short)size->height,
                                      .ws_col = (unsigned short)size->width };
                (void)ioctl(m, TIOCSWINSZ, &ws);
        }
        *master = TAKE_FD(m);
        *slave = s;
        return 0;
}

int terminal_send(int sock, int master, herr_t *err)
{
        char name[64] = "/dev/ptmx";
        int ptn;
        if (ioctl(master, TIOCGPTN, &ptn) == 0)
                snprintf(name, sizeof name, "/dev/pts/%d", ptn);
        struct iovec iov = { name, strlen(name) };
        char cbuf[CMSG_SPACE(sizeof(int))];
        memset(cbuf, 0, sizeof cbuf);
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                             .msg_controllen = sizeof cbuf };
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &master, sizeof(int));
        if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
                return herr_sys(err, "--console-socket: send the pty master");
        return 0;
}

int terminal_recv(int sock, herr_t *err)
{
        char name[256];
        struct iovec iov = { name, sizeof name };
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                             .msg_controllen = sizeof cbuf };
        ssize_t n;
        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return herr_sys(err, "console: receive the pty master");
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(c), sizeof fd);
                        return fd;
                }
        return herr_set(err, 0, "console: the container did not send a pty");
}

int terminal_attach(int slave, herr_t *err)
{
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                return herr_sys(err, "process.terminal: set controlling terminal");
        for (int fd = 0; fd < 3; fd++)
                if (dup2(slave, fd) < 0)
                        return herr_sys(err, "process.terminal: dup2");
        return 0;
}

/* ------------------------------------------------------------------ relay */

int relay_begin(struct relay *r, int master, herr_t *err)
{
        (void)err;
        memset(r, 0, sizeof *r);
        r->master = master;
        struct termios t;
        if (isatty(0) && tcgetattr(0, &t) == 0) {
                memcpy(r->termios, &t, sizeof t);
                r->saved = true;
                cfmakeraw(&t);
                t.c_oflag |= OPOST; /* keep output post-processing sane */
                if (tcsetattr(0, TCSANOW, &t) == 0)
                        r->raw = true;
        }
        relay_resize(r);
        return 0;
}

void relay_resize(struct relay *r)
{
        struct winsize ws;
        if (isatty(0) && ioctl(0, TIOCGWINSZ, &ws) == 0)
                (void)ioctl(r->master, TIOCSWINSZ, &ws);
}

static bool copy_once(int from, int to)
{
        char buf[16384];
        ssize_t n = read(from, buf, sizeof buf);
        if (n <= 0)
                return n < 0 && (errno == EINTR || errno == EAGAIN);
        return write_all(to, buf, (size_t)n) == 0;
}

int relay_pump(struct relay *r, int timeout_ms)
{
        struct pollfd p[2] = { { .fd = r->master, .events = POLLIN },
                               { .fd = r->stdin_eof ? -1 : 0, .events = POLLIN } };
        int n = poll(p, 2, timeout_ms);
        if (n <= 0)
                return 0;
        if (p[0].revents & POLLIN) {
                if (!copy_once(r->master, 1))
                        return 1;
        } else if (p[0].revents & (POLLHUP | POLLERR)) {
                return 1;
        }
        if (p[1].revents & (POLLIN | POLLHUP)) {
                /* stdin closed: keep relaying output. */
                if (!copy_once(0, r->master))
                        r->stdin_eof = true;
        }
        return 0;
}

void relay_end(struct relay *r)
{
        if (r->raw && r->saved) {
                struct termios t;
                memcpy(&t, r->termios, sizeof t);
                (void)tcsetattr(0, TCSANOW, &t);
        }
}
