/* net/nft.c: nftables through the nft command (Debian package nftables),
 * one atomic batch per call: `nft [-e -a] -f -` with the script on stdin. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"

static const char *nft_path(void)
{
        static const char *c[] = { "/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft", "/usr/local/sbin/nft" };
        for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
                if (access(c[i], X_OK) == 0)
                        return c[i];
        return NULL;
}

static int memfd_with(const char *name, const char *data, herr_t *err)
{
        int fd = memfd_create(name, MFD_CLOEXEC);
        if (fd < 0)
                return herr_sys(err, "memfd");
        if (data && write_all(fd, data, strlen(data)) < 0) {
                int e = errno;
                close(fd);
                return herr_set(err, e, "memfd");
        }
        lseek(fd, 0, SEEK_SET);
        return fd;
}

int nft_run(const char *script, bool echo, char **out, herr_t *err)
{
        if (out)
                *out = NULL;
        const char *nft = nft_path();
        if (!nft)
                return herr_set(err, ENOENT, "nftables: the nft command is missing (apt-get install nftables)");
        _cleanup_close_ int in = memfd_with("nft-in", script, err);
        if (in < 0)
                return -1;
        _cleanup_close_ int o = memfd_with("nft-out", NULL, err);
        if (o < 0)
                return -1;
        _cleanup_close_ int e = memfd_with("nft-err", NULL, err);
        if (e < 0)
                return -1;
        pid_t pid = fork();
        if (pid < 0)
                return herr_sys(err, "nftables: fork");
        if (pid == 0) {
                if (dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
                        _exit(127);
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                if (echo)
                        execl(nft, "nft", "-e", "-a", "-f", "-", (char *)NULL);
                else
                        execl(nft, "nft", "-f", "-", (char *)NULL);
                _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return herr_sys(err, "nftables: wait");
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                char *msg = NULL;
                size_t len = 0;
                herr_t e2 = { 0 };
                lseek(e, 0, SEEK_SET);
                (void)read_fd(e, 4096, &msg, &len, &e2);
                while (msg && len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
                        msg[--len] = '\0';
                /* The first line is the useful one ("Error: ..."). */
                char *nl = msg ? strchr(msg, '\n') : NULL;
                if (nl)
                        *nl = '\0';
                herr_set(err, 0, "nftables: %s", msg && *msg ? msg : "nft failed");
                free(msg);
                return -1;
        }
        if (out) {
                size_t len;
                lseek(o, 0, SEEK_SET);
                if (read_fd(o, 1u << 20, out, &len, err) < 0)
                        return herr_prefix(err, "nftables: output");
        }
        return 0;
}

size_t nft_handles(const char *out, unsigned long *h, size_t max)
{
        size_t n = 0;
        for (const char *p = out; p && n < max && (p = strstr(p, "# handle ")); ) {
                p += strlen("# handle ");
                h[n++] = strtoul(p, NULL, 10);
        }
        return n;
}

/* Atomic replace without fsync: the network state lives under the runtime
 * root (tmpfs /run on most hosts) and only has to survive a crash of husk,
 * not of the machine (whose reboot takes every link and rule with it). */
int net_write_file(const char *path, const char *data, size_t len, herr_t *err)
{
        char tmp[PATH_MAX];
        if (snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid()) >= (int)sizeof tmp)
                return herr_set(err, ENAMETOOLONG, "%s", path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return herr_sys(err, "%s", path);
        if (write_all(fd, data, len) < 0) {
                int e = errno;
                close(fd);
                unlink(tmp);
                return herr_set(err, e, "%s", path);
        }
        close(fd);
        if (rename(tmp, path) < 0) {
                int e = errno;
                unlink(tmp);
                return herr_set(err, e, "%s", path);
        }
        return 0;
}
