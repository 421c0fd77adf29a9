#include "net_util.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../net/net.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"

struct net_test nt;

void nt_setup(const char *prefix)
{
        const char *h = getenv("HUSK"), *r = getenv("HUSK_ROOTFS");
        if (!h || !r || !realpath(h, nt.husk) || !realpath(r, nt.rootfs) || geteuid() != 0)
                cr_skip_test("needs root, HUSK and HUSK_ROOTFS");
        if (access("/usr/sbin/nft", X_OK) != 0 && access("/sbin/nft", X_OK) != 0)
                cr_skip_test("nft missing (apt-get install nftables)");
        nt.prefix = prefix;
        /* The test's own "host" network namespace: nothing touches the
         * machine's interfaces, routes or rules. */
        cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare(CLONE_NEWNET): %s", strerror(errno));
        herr_t e = { 0 };
        cr_assert_eq(net_lo_up(&e), 0, "%s", e.msg);
        snprintf(nt.tmpdir, sizeof nt.tmpdir, "/tmp/husk-%s-test.XXXXXX", prefix);
        cr_assert(mkdtemp(nt.tmpdir));
        snprintf(nt.root, sizeof nt.root, "%s/state", nt.tmpdir);
        snprintf(nt.bundle, sizeof nt.bundle, "%s/bundle", nt.tmpdir);
        cr_assert_eq(chmod(nt.tmpdir, 0711), 0); /* reachable from a user namespace */
        cr_assert_eq(mkdir(nt.root, 0711), 0);
        cr_assert_eq(mkdir(nt.bundle, 0755), 0);
}

void nt_teardown(void)
{
        if (!nt.tmpdir[0])
                return;
        (void)nt_sh("for d in %s/*; do [ -d \"$d\" ] && $H delete -f \"${d##*/}\"; done; true", nt.root);
        char cmd[PATH_MAX + 64];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", nt.tmpdir);
        if (system(cmd) != 0)
                fprintf(stderr, "%s failed\n", cmd);
}

int nt_sh(const char *fmt, ...)
{
        char body[4096], cmd[8192];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(body, sizeof body, fmt, ap);
        va_end(ap);
        snprintf(cmd, sizeof cmd, "exec </dev/null; H='%s --root %s'; B='%s'; P='%s%d-'; %s 2>%s/err", nt.husk,
                 nt.root, nt.bundle, nt.prefix, (int)getpid(), body, nt.tmpdir);
        int st = system(cmd);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

char *nt_last_err(void)
{
        static char buf[4096];
        char p[PATH_MAX + 8];
        snprintf(p, sizeof p, "%s/err", nt.tmpdir);
        FILE *f = fopen(p, "r");
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        buf[n] = '\0';
        if (f)
                fclose(f);
        return buf;
}

int nt_count_lines(const char *cmd, const char *grep)
{
        FILE *p = popen(cmd, "r");
        int n = 0;
        char line[1024];
        while (p && fgets(line, sizeof line, p))
                n += !grep || strstr(line, grep);
        if (p)
                pclose(p);
        return n;
}

int nt_tcp_listen(int port)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
        cr_assert_eq(listen(fd, 4), 0);
        return fd;
}

int nt_tcp_read(const char *addr, int port, char *buf, size_t len, int seconds)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        inet_pton(AF_INET, addr, &sa.sin_addr);
        struct timespec t0, now;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        do {
                int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
                        size_t n = 0;
                        ssize_t r;
                        struct pollfd p = { .fd = fd, .events = POLLIN };
                        while (n < len - 1 && poll(&p, 1, 10000) > 0 && (r = read(fd, buf + n, len - 1 - n)) > 0)
                                n += (size_t)r;
                        buf[n] = '\0';
                        close(fd);
                        if (n)
                                return 0;
                } else {
                        close(fd);
                }
                usleep(50000);
                clock_gettime(CLOCK_MONOTONIC, &now);
        } while (now.tv_sec - t0.tv_sec < seconds);
        return -1;
}
