/* Shared by the networking suites (test_net.c, test_vmnet.c): each test
 * moves itself into a network namespace of its own and runs husk through
 * a shell with H="husk --root <root>", B=<bundle> and P=<id prefix>. */
#ifndef HUSK_TESTS_NET_UTIL_H
#define HUSK_TESTS_NET_UTIL_H

#include <limits.h>
#include <stddef.h>

struct net_test {
        char root[PATH_MAX], bundle[PATH_MAX], tmpdir[PATH_MAX], husk[PATH_MAX], rootfs[PATH_MAX];
        const char *prefix; /* container ids: cgroup names are the machine's */
};
extern struct net_test nt;

/* Skip without root, $HUSK, $HUSK_ROOTFS or nft; then a network namespace
 * with lo up and a fresh <tmpdir>/{state,bundle}. */
void nt_setup(const char *prefix);
/* delete -f what a failed test left, remove tmpdir. */
void nt_teardown(void);
/* Run a shell command line (stdin /dev/null); stderr goes to
 * <tmpdir>/err; returns the exit status. */
int nt_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* What the last nt_sh wrote to stderr (static buffer). */
char *nt_last_err(void);
/* Lines of a command's output, in our network namespace (not
 * /sys/class/net: sysfs shows the namespace of whoever mounted it), or
 * those containing grep. */
int nt_count_lines(const char *cmd, const char *grep);
int nt_tcp_listen(int port);
/* Connect to addr:port, retrying for up to seconds while the container
 * starts, and read what it sends; 0 once something was read. */
int nt_tcp_read(const char *addr, int port, char *buf, size_t len, int seconds);

#endif
