/* net/ipam.c: the address allocator, one text file per bridge under
 * <root>/.husk-net, guarded by an flock on that directory:
 *   subnet 10.88.0.0/16
 *   10.88.0.2 ID PORTS        PORTS: "-" or "8080/tcp,53/udp"
 * The first host address is the bridge's (gateway) and never handed out.
 * An entry whose container directory <root>/<ID> is gone is stale and
 * reclaimed on the next allocation. */
#include "internal.h"

/* Names are bounded (IFNAMSIZ, table names); truncation is checked where it matters. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"

int ipam_lock(const char *root, herr_t *err)
{
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/" NET_DIR, root);
        if (mkdir_p(dir, 0700, err) < 0)
                return herr_prefix(err, "network state");
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return herr_sys(err, "network state %s", dir);
        /* flock on the directory itself: held until ipam_unlock(). */
        if (flock(dfd, LOCK_EX) < 0) {
                int e = errno;
                close(dfd);
                return herr_set(err, e, "network state %s: lock", dir);
        }
        return dfd;
}

void ipam_unlock(int dfd)
{
        if (dfd >= 0)
                close(dfd);
}

struct ipam_entry {
        struct in_addr addr;
        char *id;
        char *ports;
};

struct ipam_file {
        struct in_addr net;
        int prefix;
        bool has_subnet;
        struct ipam_entry *e;
        size_t n;
};

static void ipam_file_free(struct ipam_file *f)
{
        for (size_t i = 0; i < f->n; i++) {
                free(f->e[i].id);
                free(f->e[i].ports);
        }
        free(f->e);
        memset(f, 0, sizeof *f);
}

static int ipam_read(int dfd, const char *bridge, struct ipam_file *f, herr_t *err)
{
        memset(f, 0, sizeof *f);
        char name[64];
        snprintf(name, sizeof name, "%s.ipam", bridge);
        int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : herr_sys(err, "allocations of %s", bridge);
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int rc = read_fd(fd, 16u << 20, &buf, &len, err);
        close(fd);
        if (rc < 0)
                return herr_prefix(err, "allocations of %s", bridge);
        char *save = NULL;
        for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char a[64], b[300], c[1024];
                int k = sscanf(line, "%63s %299s %1023s", a, b, c);
                if (k == 2 && !strcmp(a, "subnet")) {
                        herr_t e2 = { 0 };
                        if (net_parse_subnet(b, &f->net, &f->prefix, &e2) == 0)
                                f->has_subnet = true;
                        continue;
                }
                struct in_addr ad;
                if (k < 2 || inet_pton(AF_INET, a, &ad) != 1)
                        continue;
                struct ipam_entry *ne = realloc(f->e, (f->n + 1) * sizeof *ne);
                if (!ne)
                        return herr_set(err, ENOMEM, "allocations");
                f->e = ne;
                f->e[f->n] = (struct ipam_entry){ .addr = ad, .id = strdup(b),
                                                  .ports = strdup(k == 3 ? c : "-") };
                if (!f->e[f->n].id || !f->e[f->n].ports)
                        return herr_set(err, ENOMEM, "allocations");
                f->n++;
        }
        return 0;
}

static int ipam_write(int dfd, const char *bridge, const struct ipam_file *f, herr_t *err)
{
        char name[64];
        snprintf(name, sizeof name, "%s.ipam", bridge);
        if (f->n == 0) {
                if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
                        return herr_sys(err, "allocations of %s", bridge);
                return 0;
        }
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        if (!m)
                return herr_sys(err, "allocations");
        char a[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &f->net, a, sizeof a);
        fprintf(m, "subnet %s/%d\n", a, f->prefix);
        for (size_t i = 0; i < f->n; i++) {
                inet_ntop(AF_INET, &f->e[i].addr, a, sizeof a);
                fprintf(m, "%s %s %s\n", a, f->e[i].id, f->e[i].ports);
        }
        fclose(m);
        char path[PATH_MAX];
        snprintf(path, sizeof path, "/proc/self/fd/%d/%s", dfd, name);
        int rc = net_write_file(path, buf, len, err);
        free(buf);
        return rc < 0 ? herr_prefix(err, "allocations of %s", bridge) : 0;
}

static char *ports_str(const struct net_port *p, size_t n)
{
        if (!n)
                return strdup("-");
        char *s = calloc(n, 12);
        if (!s)
                return NULL;
        for (size_t i = 0; i < n; i++)
                sprintf(s + strlen(s), "%s%u/%s", i ? "," : "", p[i].host_port,
                        p[i].proto == NET_UDP ? "udp" : "tcp");
        return s;
}

/* Is host port/proto published by an entry in any bridge's file? */
static int port_taken(int dfd, const struct net_port *p, char *owner, size_t owner_len, herr_t *err)
{
        int d2 = dup(dfd);
        if (d2 < 0)
                return herr_sys(err, "network state");
        DIR *d = fdopendir(d2);
        if (!d) {
                close(d2);
                return herr_sys(err, "network state");
        }
        rewinddir(d);
        char want[16];
        snprintf(want, sizeof want, "%u/%s", p->host_port, p->proto == NET_UDP ? "udp" : "tcp");
        struct dirent *de;
        int found = 0;
        while (!found && (de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (l < 6 || strcmp(de->d_name + l - 5, ".ipam"))
                        continue;
                char br[64];
                snprintf(br, sizeof br, "%.*s", (int)(l - 5), de->d_name);
                struct ipam_file f;
                if (ipam_read(dfd, br, &f, err) < 0) {
                        ipam_file_free(&f);
                        closedir(d);
                        return -1;
                }
                for (size_t i = 0; i < f.n && !found; i++) {
                        char *save = NULL, *tmp = strdup(f.e[i].ports);
                        for (char *t = tmp ? strtok_r(tmp, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
                                if (!strcmp(t, want)) {
                                        snprintf(owner, owner_len, "%s", f.e[i].id);
                                        found = 1;
                                        break;
                                }
                        free(tmp);
                }
                ipam_file_free(&f);
        }
        closedir(d);
        return found;
}

static bool container_dir_exists(const char *root, const char *id)
{
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", root, id);
        struct stat sb;
        return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int ipam_alloc_locked(int dfd, const char *root, const char *bridge, const char *subnet, const char *id,
                      const struct net_port *ports, size_t n_ports, struct in_addr *out, bool *first,
                      herr_t *err)
{
        struct in_addr net;
        int prefix;
        if (net_parse_subnet(subnet, &net, &prefix, err) < 0)
                return -1;
        struct ipam_file f;
        int rc = -1;
        if (ipam_read(dfd, bridge, &f, err) < 0)
                goto out;
        /* Reclaim entries of containers that no longer exist. */
        for (size_t i = 0; i < f.n;) {
                if (!container_dir_exists(root, f.e[i].id)) {
                        free(f.e[i].id);
                        free(f.e[i].ports);
                        f.e[i] = f.e[--f.n];
                } else {
                        i++;
                }
        }
        for (size_t i = 0; i < f.n; i++)
                if (!strcmp(f.e[i].id, id)) {
                        herr_set(err, 0, "container '%s' already has an address on %s", id, bridge);
                        goto out;
                }
        if (f.n && f.has_subnet && (f.net.s_addr != net.s_addr || f.prefix != prefix)) {
                char a[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &f.net, a, sizeof a);
                herr_set(err, 0, "bridge %s uses subnet %s/%d, not %s", bridge, a, f.prefix, subnet);
                goto out;
        }
        for (size_t i = 0; i < n_ports; i++) {
                for (size_t j = 0; j < i; j++)
                        if (ports[j].host_port == ports[i].host_port && ports[j].proto == ports[i].proto) {
                                herr_set(err, 0, "-p %u: host port given twice", ports[i].host_port);
                                goto out;
                        }
                char owner[300];
                int t = port_taken(dfd, &ports[i], owner, sizeof owner, err);
                if (t < 0)
                        goto out;
                if (t) {
                        herr_set(err, 0, "-p %u/%s: host port is in use: published by container '%s'",
                                 ports[i].host_port, ports[i].proto == NET_UDP ? "udp" : "tcp", owner);
                        goto out;
                }
        }
        f.net = net;
        f.prefix = prefix;
        f.has_subnet = true;
        uint32_t base = ntohl(net.s_addr), size = 1u << (32 - prefix);
        uint32_t pick = 0;
        for (uint32_t h = 2; h < size - 1 && !pick; h++) {
                bool used = false;
                for (size_t i = 0; i < f.n && !used; i++)
                        used = ntohl(f.e[i].addr.s_addr) == base + h;
                if (!used)
                        pick = base + h;
        }
        if (!pick) {
                herr_set(err, 0, "subnet %s of bridge %s is exhausted (%zu containers)", subnet, bridge, f.n);
                goto out;
        }
        struct ipam_entry *ne = realloc(f.e, (f.n + 1) * sizeof *ne);
        if (!ne) {
                herr_set(err, ENOMEM, "allocations");
                goto out;
        }
        f.e = ne;
        f.e[f.n] = (struct ipam_entry){ .addr.s_addr = htonl(pick), .id = strdup(id),
                                        .ports = ports_str(ports, n_ports) };
        f.n++;
        if (!f.e[f.n - 1].id || !f.e[f.n - 1].ports) {
                herr_set(err, ENOMEM, "allocations");
                goto out;
        }
        if (ipam_write(dfd, bridge, &f, err) < 0)
                goto out;
        *first = f.n == 1;
        out->s_addr = htonl(pick);
        rc = 0;
out:
        ipam_file_free(&f);
        return rc;
}

int ipam_release_locked(int dfd, const char *bridge, const char *id, bool *empty, herr_t *err)
{
        struct ipam_file f;
        int rc = -1;
        if (ipam_read(dfd, bridge, &f, err) < 0)
                goto out;
        for (size_t i = 0; i < f.n; i++)
                if (!strcmp(f.e[i].id, id)) {
                        free(f.e[i].id);
                        free(f.e[i].ports);
                        f.e[i] = f.e[--f.n];
                        break;
                }
        if (ipam_write(dfd, bridge, &f, err) < 0)
                goto out;
        *empty = f.n == 0;
        rc = 0;
out:
        ipam_file_free(&f);
        return rc;
}

int net_ipam_alloc(const char *root, const char *bridge, const char *subnet, const char *id,
                   const struct net_port *ports, size_t n_ports, struct in_addr *out, bool *first,
                   herr_t *err)
{
        int dfd = ipam_lock(root, err);
        if (dfd < 0)
                return -1;
        int rc = ipam_alloc_locked(dfd, root, bridge, subnet, id, ports, n_ports, out, first, err);
        ipam_unlock(dfd);
        return rc;
}

int net_ipam_release(const char *root, const char *bridge, const char *id, bool *empty, herr_t *err)
{
        int dfd = ipam_lock(root, err);
        if (dfd < 0)
                return -1;
        int rc = ipam_release_locked(dfd, bridge, id, empty, err);
        ipam_unlock(dfd);
        return rc;
}

int net_ipam_count(const char *root, const char *bridge, herr_t *err)
{
        int dfd = ipam_lock(root, err);
        if (dfd < 0)
                return -1;
        struct ipam_file f;
        int rc = ipam_read(dfd, bridge, &f, err);
        if (rc == 0)
                rc = (int)f.n;
        ipam_file_free(&f);
        ipam_unlock(dfd);
        return rc;
}
