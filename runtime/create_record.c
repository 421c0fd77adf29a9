/* runtime/create_record.c: what every kind of create (native, VM mode)
 * records about a new container: its state record, the copy of its
 * config.json, its pid file. */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"

static char *now_rfc3339(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        char buf[64], *out = NULL;
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
        if (asprintf(&out, "%s.%09ldZ", buf, ts.tv_nsec) < 0)
                return NULL;
        return out;
}

static char *join_args(const struct oci_process *p)
{
        size_t len = 1;
        for (size_t i = 0; i < p->n_args; i++)
                len += strlen(p->args[i]) + 1;
        char *s = calloc(1, len);
        for (size_t i = 0; s && i < p->n_args; i++) {
                if (i)
                        strcat(s, " ");
                strcat(s, p->args[i]);
        }
        return s;
}

static int fill_state(struct container_state *st, const struct create_opts *o, const struct oci_config *cfg,
                      herr_t *err)
{
        st->id = strdup(o->id);
        st->bundle = strdup(o->bundle);
        st->created = now_rfc3339();
        struct passwd *pw = getpwuid(geteuid());
        st->owner = strdup(pw ? pw->pw_name : "root");
        st->command = join_args(cfg->process);
        st->image = o->image ? strdup(o->image) : NULL;
        st->storage = o->storage ? strdup(o->storage) : NULL;
        if (cfg->n_annotations) {
                st->annotations = calloc(cfg->n_annotations, sizeof *st->annotations);
                if (!st->annotations)
                        return herr_set(err, ENOMEM, "state");
                for (size_t i = 0; i < cfg->n_annotations; i++) {
                        st->annotations[i].key = strdup(cfg->annotations[i].key);
                        st->annotations[i].value = strdup(cfg->annotations[i].value);
                        st->n_annotations++;
                }
        }
        if (!st->id || !st->bundle || !st->created || !st->owner || !st->command)
                return herr_set(err, ENOMEM, "state");
        return 0;
}

static int resolve_rootfs(struct container_state *st, const struct create_opts *o, const struct oci_config *cfg,
                          herr_t *err)
{
        const char *p = cfg->root->path;
        char *abs = NULL;
        if (p[0] == '/')
                abs = realpath(p, NULL);
        else {
                char tmp[PATH_MAX];
                snprintf(tmp, sizeof tmp, "%s/%s", o->bundle, p);
                abs = realpath(tmp, NULL);
        }
        if (!abs)
                return herr_sys(err, "root.path %s", p);
        struct stat sb;
        if (stat(abs, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
                free(abs);
                return herr_set(err, ENOTDIR, "root.path %s", p);
        }
        st->rootfs = abs;
        return 0;
}

int container_save_config(int dirfd, const struct create_opts *o, herr_t *err)
{
        int fd = openat(dirfd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return herr_sys(err, "state: config.json");
        int rc = write_all(fd, o->config_json, o->config_len);
        int e = errno;
        close(fd);
        return rc < 0 ? herr_set(err, e, "state: config.json") : 0;
}


int container_record(struct container_state *st, const struct create_opts *o, const struct oci_config *cfg,
                     herr_t *err)
{
        if (fill_state(st, o, cfg, err) < 0 || resolve_rootfs(st, o, cfg, err) < 0)
                return -1;
        st->vm = o->vm;
        return 0;
}

int write_pid_file(const char *path, pid_t pid, herr_t *err)
{
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%d", (int)pid);
        if (write_file_atomic(path, buf, (size_t)n, 0644, err) < 0)
                return herr_prefix(err, "--pid-file");
        return 0;
}

void reserve_fds(int n)
{
        for (int fd = 3; fd < 3 + n; fd++)
                if (fcntl(fd, F_GETFD) < 0) {
                        int nf = open("/dev/null", O_RDWR);
                        if (nf >= 0 && nf != fd) {
                                dup2(nf, fd);
                                close(nf);
                        }
                }
}

int container_start_socket(int dirfd, herr_t *err)
{
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return herr_sys(err, "start socket");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/" STATE_START_SOCK, dirfd);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0) {
                int e = errno;
                close(fd);
                return herr_set(err, e, "start socket");
        }
        return fd;
}
