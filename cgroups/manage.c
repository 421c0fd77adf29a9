/* cgroups/manage.c: creating a container's cgroup, enabling controllers up
 * the tree, applying resources, moving processes. */
#include "cgroups.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "internal.h"

int cg_path(char *buf, const char *dir, const char *file, herr_t *err)
{
        int n = snprintf(buf, PATH_MAX, "%s/%s", dir, file);
        if (n < 0 || n >= PATH_MAX)
                return herr_set(err, ENAMETOOLONG, "%s/%s", dir, file);
        return 0;
}

int cg_read(const char *dir, const char *file, char **out, herr_t *err)
{
        char p[PATH_MAX];
        if (cg_path(p, dir, file, err) < 0)
                return -1;
        return read_file(p, 1 << 20, out, NULL, err);
}

bool cg_kv(const char *content, const char *key, uint64_t *v)
{
        size_t n = strlen(key);
        for (const char *l = content; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
                if (strncmp(l, key, n) || l[n] != ' ')
                        continue;
                if (!strncmp(l + n + 1, "max", 3))
                        *v = CG_UNLIMITED;
                else
                        *v = strtoull(l + n + 1, NULL, 10);
                return true;
        }
        return false;
}

/* dir must be strictly below the v2 root; *rel points at the part below. */
static int below_root(const char *dir, const char **rel, herr_t *err)
{
        const char *root = cg_root();
        if (!root)
                return cg_fail(err, ENOENT, "this host has no cgroup v2 hierarchy");
        size_t n = strlen(root);
        if (strncmp(dir, root, n) || dir[n] != '/' || !dir[n + 1])
                return cg_fail(err, EINVAL, "cgroup %s: not below the cgroup v2 root %s", dir, root);
        *rel = dir + n;
        return 0;
}

static bool word_in_list(const char *list, const char *w)
{
        size_t n = strlen(w);
        for (const char *p = list; (p = strstr(p, w)); p += n)
                if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || !p[n]))
                        return true;
        return false;
}

static int enable_in(const char *parent, const char *ctrl, herr_t *err)
{
        _cleanup_free_ char *cur = NULL;
        if (cg_read(parent, "cgroup.subtree_control", &cur, err) < 0)
                return -1;
        if (word_in_list(cur, ctrl))
                return 0;
        char p[PATH_MAX], v[80];
        if (cg_path(p, parent, "cgroup.subtree_control", err) < 0)
                return -1;
        snprintf(v, sizeof v, "+%s", ctrl);
        if (write_file_str(p, v, err) < 0) {
                if (err && err->errnum == EBUSY)
                        return herr_prefix(err, "enabling controller '%s' (cgroup v2 allows controllers "
                                           "below %s only while it holds no processes)", ctrl, parent);
                return herr_prefix(err, "enabling controller '%s'", ctrl);
        }
        return 0;
}

/* Write +ctrl to cgroup.subtree_control from the root down to the parent
 * of dir, for every controller the plan needs. */
static int enable_controllers(const char *dir, const struct cg_plan *plan, herr_t *err)
{
        const char *rel;
        if (below_root(dir, &rel, err) < 0)
                return -1;
        char ctrls[16][64];
        size_t nc = 0;
        for (size_t i = 0; i < plan->n && nc < ARRAY_SIZE(ctrls); i++) {
                char c[64];
                cg_file_controller(plan->w[i].file, c, sizeof c);
                bool dup = !*c;
                for (size_t j = 0; j < nc && !dup; j++)
                        dup = !strcmp(ctrls[j], c);
                if (!dup)
                        memcpy(ctrls[nc++], c, sizeof c);
        }
        if (nc == 0)
                return 0;
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", dir);
        size_t rootlen = (size_t)(rel - dir);
        /* Ancestors from the root down: cut at each '/' after the root. */
        for (size_t i = rootlen; parent[i]; i++) {
                if (i != rootlen && parent[i] != '/')
                        continue;
                char save = parent[i];
                parent[i] = '\0';
                for (size_t j = 0; j < nc; j++) {
                        if (enable_in(parent, ctrls[j], err) < 0) {
                                parent[i] = save;
                                return -1;
                        }
                }
                parent[i] = save;
        }
        return 0;
}

static int check_memory_update(const char *dir, const struct oci_resources *res, herr_t *err)
{
        const struct oci_memory *m = res->memory;
        if (!m || !m->check_before_update.set || !m->check_before_update.v || !m->limit.set ||
            m->limit.v < 0)
                return 0;
        _cleanup_free_ char *cur = NULL;
        herr_t ignore;
        if (cg_read(dir, "memory.current", &cur, &ignore) < 0)
                return 0;
        uint64_t used = strtoull(cur, NULL, 10);
        if (used > (uint64_t)m->limit.v)
                return cg_fail(err, EBUSY, "linux.resources.memory.limit: %" PRId64 " is below the current "
                                "usage %" PRIu64 " (checkBeforeUpdate)", m->limit.v, used);
        return 0;
}

int cg_apply(const char *dir, const struct oci_resources *res, herr_t *err)
{
        if (!res)
                return 0;
        struct cg_plan plan;
        if (cg_plan(res, &plan, err) < 0)
                return -1;
        _cleanup_free_ char *offered = NULL;
        int rc = 0;
        if (plan.n > 0) {
                rc = cg_root_controllers(&offered, err);
                if (rc == 0)
                        rc = cg_plan_check(&plan, offered, err);
                if (rc == 0)
                        rc = enable_controllers(dir, &plan, err);
                if (rc == 0)
                        rc = check_memory_update(dir, res, err);
                if (rc == 0)
                        rc = cg_plan_apply(&plan, dir, err);
        }
        cg_plan_free(&plan);
        if (rc == 0 && res->n_devices > 0)
                rc = cg_devices_apply(dir, res->devices, res->n_devices, err);
        return rc;
}

static int in_use(const char *dir, const char *rel, herr_t *err)
{
        _cleanup_free_ char *procs = NULL;
        if (cg_read(dir, "cgroup.procs", &procs, err) < 0)
                return -1;
        if (*procs)
                return cg_fail(err, EBUSY, "cgroupsPath %s: already in use", rel);
        _cleanup_free_ char *ev = NULL;
        uint64_t frozen = 0, populated = 0;
        herr_t ignore;
        if (cg_read(dir, "cgroup.events", &ev, &ignore) == 0 && cg_kv(ev, "frozen", &frozen) && frozen == 1)
                return cg_fail(err, EBUSY, "cgroupsPath %s: the cgroup is frozen", rel);
        /* Processes below it: its destroy (cgroup.kill) would end them. */
        if (ev && cg_kv(ev, "populated", &populated) && populated == 1)
                return cg_fail(err, EBUSY, "cgroupsPath %s: already in use (processes in cgroups below it)", rel);
        return 0;
}

/* Remove the directories created by cg_create, deepest first, up to and
 * including first (the topmost one created). */
static void undo_mkdirs(char *dir, size_t first_len)
{
        for (;;) {
                if (rmdir(dir) < 0)
                        return;
                char *slash = strrchr(dir, '/');
                if (!slash || (size_t)(slash - dir) < first_len)
                        return;
                *slash = '\0';
        }
}

#define OWNER_XATTR "trusted.husk.owner"

/* Refuse a cgroup that another container claimed (cg_create_owned). */
static int check_owner(const char *dir, const char *rel, const char *id, herr_t *err)
{
        char owner[256];
        ssize_t n = getxattr(dir, OWNER_XATTR, owner, sizeof owner - 1);
        if (n < 0)
                return 0;   /* unclaimed, or no xattr support */
        owner[n] = '\0';
        if (strcmp(owner, id))
                return cg_fail(err, EBUSY, "cgroupsPath %s: already in use by container %s", rel, owner);
        return 0;
}

/* The container recorded on dir, "" when none. */
static void owner_of(const char *dir, char *buf, size_t size)
{
        ssize_t n = getxattr(dir, OWNER_XATTR, buf, size - 1);
        buf[n < 0 ? 0 : n] = '\0';
}

/* Refuse a cgroup inside another container's cgroup: that container's
 * delete would kill it. Ancestors from husk's own cgroup up are not
 * checked (husk may itself run inside a container). */
static int check_ancestors(const char *dir, const char *rel, herr_t *err)
{
        char own[PATH_MAX] = "", owndir[PATH_MAX], p[PATH_MAX];
        herr_t ignore;
        size_t rootlen = (size_t)(rel - dir);
        if (cg_own_cgroup(own, sizeof own, &ignore) < 0)
                own[0] = '\0';
        int n = snprintf(owndir, sizeof owndir, "%.*s%s", (int)rootlen, dir, own);
        if (n < 0 || (size_t)n >= sizeof owndir)
                owndir[0] = '\0';
        snprintf(p, sizeof p, "%s", dir);
        for (char *s = strrchr(p, '/'); s && (size_t)(s - p) > rootlen; s = strrchr(p, '/')) {
                *s = '\0';
                if (!strcmp(p, owndir))
                        break;
                char o[256];
                owner_of(p, o, sizeof o);
                if (*o)
                        return cg_fail(err, EBUSY, "cgroupsPath %s: inside the cgroup %s of container %s", rel,
                                        p + rootlen, o);
        }
        return 0;
}

/* Refuse a cgroup holding another container's cgroup (running or not):
 * destroying it would remove that one too. */
static int check_descendants(const char *dir, const char *rel, size_t rootlen, int depth, herr_t *err)
{
        if (depth > 16)
                return 0;
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                return 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                char sub[PATH_MAX], o[256];
                if (snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name) >= (int)sizeof sub)
                        continue;
                owner_of(sub, o, sizeof o);
                if (*o)
                        return cg_fail(err, EBUSY, "cgroupsPath %s: holds the cgroup %s of container %s", rel,
                                        sub + rootlen, o);
                if (check_descendants(sub, rel, rootlen, depth + 1, err) < 0)
                        return -1;
        }
        return 0;
}

static void claim(const char *dir, const char *id)
{
        setxattr(dir, OWNER_XATTR, id, strlen(id), 0);   /* best effort */
}

int cg_create(const char *dir, const struct oci_resources *res, herr_t *err)
{
        return cg_create_owned(dir, NULL, res, err);
}

int cg_create_owned(const char *dir, const char *id, const struct oci_resources *res, herr_t *err)
{
        const char *rel;
        if (below_root(dir, &rel, err) < 0)
                return -1;
        /* Validate before touching anything. */
        struct cg_plan plan;
        if (cg_plan(res, &plan, err) < 0)
                return -1;
        _cleanup_free_ char *offered = NULL;
        int rc = plan.n ? cg_root_controllers(&offered, err) : 0;
        if (rc == 0 && plan.n)
                rc = cg_plan_check(&plan, offered, err);
        cg_plan_free(&plan);
        if (rc < 0)
                return -1;
        struct stat st;
        /* The owner first: "in use by container X" says more than "in use". */
        if (stat(dir, &st) == 0 &&
            ((id && check_owner(dir, rel, id, err) < 0) ||
             (id && check_descendants(dir, rel, (size_t)(rel - dir), 0, err) < 0) || in_use(dir, rel, err) < 0))
                return -1;
        if (id && check_ancestors(dir, rel, err) < 0)
                return -1;

        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s", dir);
        size_t first = 0;
        int retries = 0;
        for (size_t i = (size_t)(rel - dir) + 1;; i++) {
                if (path[i] != '/' && path[i] != '\0')
                        continue;
                char save = path[i];
                path[i] = '\0';
                if (mkdir(path, 0755) == 0) {
                        if (!first)
                                first = i;
                } else if (errno == ENOENT && retries++ < 5) {
                        /* A parent went away under us: another container's
                         * delete removed the shared <own>/husk as we came. */
                        snprintf(path, sizeof path, "%s", dir);
                        if (first) {
                                path[first] = '\0';
                                if (access(path, F_OK) < 0)
                                        first = 0;
                                snprintf(path, sizeof path, "%s", dir);
                        }
                        i = (size_t)(rel - dir);
                        continue;
                } else if (errno != EEXIST) {
                        herr_sys(err, "cgroup: mkdir %s", path);
                        char *slash = strrchr(path, '/');
                        *slash = '\0';
                        if (first)
                                undo_mkdirs(path, first);
                        return -1;
                }
                path[i] = save;
                if (!save)
                        break;
        }
        if (cg_apply(dir, res, err) < 0) {
                if (first)
                        undo_mkdirs(path, first);
                return -1;
        }
        if (id)
                claim(dir, id);
        return 0;
}

int cg_open(const char *dir, herr_t *err)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return herr_sys(err, "cgroup %s", dir);
        return fd;
}

int cg_enter(const char *dir, pid_t pid, herr_t *err)
{
        char p[PATH_MAX], v[32];
        if (cg_path(p, dir, "cgroup.procs", err) < 0)
                return -1;
        snprintf(v, sizeof v, "%d", (int)pid);
        if (write_file_str(p, v, err) < 0)
                return herr_prefix(err, "moving pid %d into cgroup", (int)pid);
        return 0;
}

int cg_pids(const char *dir, pid_t **pids, size_t *n, herr_t *err)
{
        _cleanup_free_ char *s = NULL;
        if (cg_read(dir, "cgroup.procs", &s, err) < 0)
                return -1;
        size_t cap = 1;
        for (const char *c = s; *c; c++)
                cap += *c == '\n';
        _cleanup_free_ pid_t *v = calloc(cap, sizeof *v);
        if (!v)
                return herr_set(err, ENOMEM, "cgroup.procs");
        size_t k = 0;
        for (char *c = s; *c && k < cap;) {
                char *end;
                long x = strtol(c, &end, 10);
                if (end == c)
                        break;
                v[k++] = (pid_t)x;
                c = end + strspn(end, "\n");
        }
        *pids = TAKE_PTR(v);
        *n = k;
        return 0;
}
