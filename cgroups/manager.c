/* Minimal cgroup v2 manager (placeholder until the full manager lands). */
#include "cgroups.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"

const char *cg_root(void)
{
        static const char *cands[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
        const char *env = getenv("HUSK_CGROUP_ROOT");
        if (env && *env)
                return env;
        for (size_t i = 0; i < 2; i++) {
                struct statfs sf;
                if (statfs(cands[i], &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
                        return cands[i];
        }
        return NULL;
}

static int own_cgroup(char *buf, size_t len, herr_t *err)
{
        _cleanup_free_ char *s = NULL;
        if (read_file("/proc/self/cgroup", 65536, &s, NULL, err) < 0)
                return -1;
        for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n"))
                if (!strncmp(line, "0::", 3)) {
                        snprintf(buf, len, "%s", line + 3);
                        return 0;
                }
        snprintf(buf, len, "/");
        return 0;
}

int cg_resolve_path(const char *cgroups_path, const char *id, char **out, herr_t *err)
{
        const char *root = cg_root();
        if (!root)
                return herr_set(err, 0, "cgroup v2 is not mounted");
        if (cgroups_path && strstr(cgroups_path, ".."))
                return herr_set(err, 0, "linux.cgroupsPath %s: must not contain '..'", cgroups_path);
        char own[PATH_MAX];
        int n;
        if (cgroups_path && cgroups_path[0] == '/') {
                n = asprintf(out, "%s%s", root, cgroups_path);
        } else {
                if (own_cgroup(own, sizeof own, err) < 0)
                        return -1;
                const char *base = strcmp(own, "/") ? own : "";
                n = cgroups_path ? asprintf(out, "%s%s/%s", root, base, cgroups_path)
                                 : asprintf(out, "%s%s/husk/%s", root, base, id);
        }
        if (n < 0)
                return herr_set(err, ENOMEM, "cgroup path");
        return 0;
}

int cg_create(const char *dir, const struct oci_resources *res, herr_t *err)
{
        if (res && (res->memory || res->cpu || res->pids || res->block_io || res->n_hugepage_limits ||
                    res->n_rdma || res->n_unified || res->network))
                return herr_set(err, 0, "linux.resources: limits are not supported yet");
        if (mkdir_p(dir, 0755, err) < 0)
                return -1;
        return 0;
}

int cg_open(const char *dir, herr_t *err)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return herr_sys(err, "%s", dir);
        return fd;
}

int cg_enter(const char *dir, pid_t pid, herr_t *err)
{
        char path[PATH_MAX], buf[32];
        snprintf(path, sizeof path, "%s/cgroup.procs", dir);
        snprintf(buf, sizeof buf, "%d", (int)pid);
        return write_file_str(path, buf, err);
}

int cg_apply(const char *dir, const struct oci_resources *res, herr_t *err)
{
        (void)dir;
        return cg_create("/nonexistent-husk", res, err) < 0 && res ? -1 : 0;
}

int cg_freeze(const char *dir, bool frozen, herr_t *err)
{
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/cgroup.freeze", dir);
        return write_file_str(path, frozen ? "1" : "0", err);
}

int cg_pids(const char *dir, pid_t **pids, size_t *n, herr_t *err)
{
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/cgroup.procs", dir);
        _cleanup_free_ char *s = NULL;
        if (read_file(path, 1 << 22, &s, NULL, err) < 0)
                return -1;
        size_t cap = 16, cnt = 0;
        pid_t *v = malloc(cap * sizeof *v);
        for (char *line = strtok(s, "\n"); v && line; line = strtok(NULL, "\n")) {
                if (cnt == cap) {
                        pid_t *nv = realloc(v, (cap *= 2) * sizeof *v);
                        if (!nv)
                                break;
                        v = nv;
                }
                v[cnt++] = atoi(line);
        }
        *pids = v;
        *n = cnt;
        return 0;
}

int cg_signal_all(const char *dir, int sig, herr_t *err)
{
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/cgroup.kill", dir);
        if (sig == SIGKILL && access(path, W_OK) == 0)
                return write_file_str(path, "1", err);
        pid_t *pids = NULL;
        size_t n = 0;
        if (cg_pids(dir, &pids, &n, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++)
                kill(pids[i], sig);
        free(pids);
        return 0;
}

int cg_destroy(const char *dir, herr_t *err)
{
        for (int i = 0; i < 500; i++) {
                if (rmdir(dir) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY)
                        return herr_sys(err, "rmdir %s", dir);
                herr_t e2;
                (void)cg_signal_all(dir, SIGKILL, &e2);
                usleep(10000);
        }
        return herr_sys(err, "rmdir %s", dir);
}
