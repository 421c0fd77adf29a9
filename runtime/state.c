#include "state.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "../spec/state.h"
#include "../spec/version.h"

#define STATE_FILE "state.json"
#define STATE_MAX (4u << 20)

void container_state_free(struct container_state *s)
{
        free(s->id);
        free(s->bundle);
        free(s->rootfs);
        free(s->created);
        free(s->cgroup);
        free(s->owner);
        free(s->image);
        free(s->storage);
        free(s->command);
        for (size_t i = 0; i < s->n_annotations; i++) {
                free(s->annotations[i].key);
                free(s->annotations[i].value);
        }
        free(s->annotations);
        memset(s, 0, sizeof *s);
}

int state_check_id(const char *id, herr_t *err)
{
        size_t n = id ? strlen(id) : 0;
        if (n == 0)
                return herr_set(err, 0, "container id: must not be empty");
        if (n > 255)
                return herr_set(err, 0, "container id: longer than 255 bytes");
        if (!strcmp(id, ".") || !strcmp(id, ".."))
                return herr_set(err, 0, "container id '%s': not allowed", id);
        for (const char *p = id; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("_.+-", *p))
                        return herr_set(err, 0,
                                        "container id '%s': invalid character '%c' (allowed: A-Z a-z 0-9 _ . + -)",
                                        id, isprint((unsigned char)*p) ? *p : '?');
        return 0;
}

static int lock_dir(int fd, int lock, const char *id, herr_t *err)
{
        while (flock(fd, lock) < 0) {
                if (errno != EINTR)
                        return herr_sys(err, "container '%s': lock", id);
        }
        /* Deleted while we waited for the lock? */
        struct stat st;
        if (fstat(fd, &st) < 0 || st.st_nlink == 0)
                return herr_set(err, ENOENT, "container '%s' does not exist", id);
        return 0;
}

int store_create(const char *root, const char *id, herr_t *err)
{
        if (state_check_id(id, err) < 0)
                return -1;
        if (mkdir_p(root, 0711, err) < 0)
                return herr_prefix(err, "state root");
        _cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return herr_sys(err, "state root %s", root);
        if (mkdirat(rootfd, id, 0700) < 0) {
                if (errno == EEXIST)
                        return herr_set(err, 0, "container '%s' already exists", id);
                return herr_sys(err, "%s/%s", root, id);
        }
        int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || lock_dir(fd, LOCK_EX, id, err) < 0) {
                int e = errno;
                if (fd >= 0)
                        close(fd);
                unlinkat(rootfd, id, AT_REMOVEDIR);
                return herr_set(err, e, "%s/%s", root, id);
        }
        return fd;
}

int store_open(const char *root, const char *id, int lock, herr_t *err)
{
        if (state_check_id(id, err) < 0)
                return -1;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", root, id) >= (int)sizeof path)
                return herr_set(err, ENAMETOOLONG, "%s", root);
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return herr_set(err, 0, "container '%s' does not exist", id);
                return herr_sys(err, "%s", path);
        }
        if (lock_dir(fd, lock, id, err) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

int store_open_reader(const char *root, const char *id, int *dirfd, herr_t *err)
{
        *dirfd = store_open(root, id, LOCK_SH | LOCK_NB, err);
        if (*dirfd >= 0 || err->errnum != EWOULDBLOCK)
                return *dirfd < 0 ? -1 : 0;
        herr_clear(err);
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s/" STATE_FILE, root, id);
        if (access(path, F_OK) < 0 && errno == ENOENT)
                return 0;
        *dirfd = store_open(root, id, LOCK_SH, err);
        return *dirfd < 0 ? -1 : 0;
}

int store_remove(const char *root, const char *id, herr_t *err)
{
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", root, id) >= (int)sizeof path)
                return herr_set(err, ENAMETOOLONG, "%s", root);
        return remove_tree(path, err);
}

/* ------------------------------------------------------------ state.json */

#define G(call)                                            \
        do {                                               \
                if ((call) != yajl_gen_status_ok)          \
                        goto gen_fail;                     \
        } while (0)

static yajl_gen_status gstr(yajl_gen g, const char *s)
{
        return yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static yajl_gen_status gkv(yajl_gen g, const char *k, const char *v)
{
        yajl_gen_status st = gstr(g, k);
        if (st != yajl_gen_status_ok)
                return st;
        return v ? gstr(g, v) : yajl_gen_null(g);
}

int state_save(int dirfd, const struct container_state *s, herr_t *err)
{
        yajl_gen g = yajl_gen_alloc(NULL);
        if (!g)
                return herr_set(err, ENOMEM, "state.json");
        G(yajl_gen_map_open(g));
        G(gkv(g, "id", s->id));
        G(gkv(g, "bundle", s->bundle));
        G(gkv(g, "rootfs", s->rootfs));
        G(gstr(g, "pid"));
        G(yajl_gen_integer(g, s->pid));
        G(gstr(g, "pidStart"));
        G(yajl_gen_integer(g, (long long)s->pid_start));
        G(gkv(g, "created", s->created));
        G(gkv(g, "cgroup", s->cgroup));
        G(gkv(g, "owner", s->owner));
        G(gkv(g, "image", s->image));
        G(gkv(g, "storage", s->storage));
        G(gkv(g, "command", s->command));
        G(gstr(g, "vm"));
        G(yajl_gen_bool(g, s->vm));
        G(gstr(g, "annotations"));
        G(yajl_gen_map_open(g));
        for (size_t i = 0; i < s->n_annotations; i++)
                G(gkv(g, s->annotations[i].key, s->annotations[i].value));
        G(yajl_gen_map_close(g));
        G(yajl_gen_map_close(g));
        const unsigned char *buf;
        size_t len;
        G(yajl_gen_get_buf(g, &buf, &len));
        char tmp[64];
        snprintf(tmp, sizeof tmp, STATE_FILE ".tmp.%d", (int)getpid());
        int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                yajl_gen_free(g);
                return herr_sys(err, "state.json");
        }
        int rc = write_all(fd, buf, len);
        int e = errno;
        yajl_gen_free(g);
        /* No fsync: the rename makes the update atomic for readers; the
         * state does not outlive a reboot ("/run"), and an fsync costs
         * every create a disk flush when --root is on disk. */
        if (rc < 0 || close(fd) < 0) {
                if (!rc)
                        e = errno;
                unlinkat(dirfd, tmp, 0);
                return herr_set(err, e, "state.json: write");
        }
        if (renameat(dirfd, tmp, dirfd, STATE_FILE) < 0) {
                e = errno;
                unlinkat(dirfd, tmp, 0);
                return herr_set(err, e, "state.json: rename");
        }
        return 0;
gen_fail:
        yajl_gen_free(g);
        return herr_set(err, ENOMEM, "state.json: cannot serialise");
}

static char *tree_str(yajl_val root, const char *key)
{
        const char *path[] = { key, NULL };
        yajl_val v = yajl_tree_get(root, path, yajl_t_string);
        const char *str = v ? YAJL_GET_STRING(v) : NULL;
        return str ? strdup(str) : NULL;
}

static long long tree_int(yajl_val root, const char *key)
{
        const char *path[] = { key, NULL };
        yajl_val v = yajl_tree_get(root, path, yajl_t_number);
        return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

int state_load(int dirfd, struct container_state *s, herr_t *err)
{
        memset(s, 0, sizeof *s);
        _cleanup_close_ int fd = openat(dirfd, STATE_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return herr_sys(err, "state.json");
        _cleanup_free_ char *json = NULL;
        if (read_fd(fd, STATE_MAX, &json, NULL, err) < 0)
                return herr_prefix(err, "state.json");
        char ebuf[256];
        yajl_val root = yajl_tree_parse(json, ebuf, sizeof ebuf);
        if (!root || !YAJL_IS_OBJECT(root)) {
                yajl_tree_free(root);
                return herr_set(err, 0, "state.json: corrupt");
        }
        s->id = tree_str(root, "id");
        s->bundle = tree_str(root, "bundle");
        s->rootfs = tree_str(root, "rootfs");
        s->pid = (pid_t)tree_int(root, "pid");
        s->pid_start = (unsigned long long)tree_int(root, "pidStart");
        s->created = tree_str(root, "created");
        s->cgroup = tree_str(root, "cgroup");
        s->owner = tree_str(root, "owner");
        s->image = tree_str(root, "image");
        s->storage = tree_str(root, "storage");
        s->command = tree_str(root, "command");
        const char *vp[] = { "vm", NULL };
        s->vm = YAJL_IS_TRUE(yajl_tree_get(root, vp, yajl_t_true));
        const char *ap[] = { "annotations", NULL };
        yajl_val a = yajl_tree_get(root, ap, yajl_t_object);
        if (a && a->u.object.len) {
                s->annotations = calloc(a->u.object.len, sizeof *s->annotations);
                for (size_t i = 0; s->annotations && i < a->u.object.len; i++) {
                        yajl_val v = a->u.object.values[i];
                        s->annotations[i].key = strdup(a->u.object.keys[i]);
                        s->annotations[i].value = strdup(YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : "");
                        s->n_annotations++;
                }
        }
        yajl_tree_free(root);
        if (!s->id || !s->bundle) {
                container_state_free(s);
                return herr_set(err, 0, "state.json: missing id or bundle");
        }
        return 0;
}

/* -------------------------------------------------------------- liveness */

unsigned long long pid_start_time(pid_t pid)
{
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        /* comm may hold spaces and parentheses: fields start after the last ')'. */
        char *p = strrchr(buf, ')');
        if (!p || p[1] != ' ')
                return 0;
        char state = p[2];
        if (state == 'Z' || state == 'X')
                return 0;
        p += 2;
        /* p is at field 3 (state); start time is field 22. */
        for (int field = 3; field < 22; field++) {
                p = strchr(p, ' ');
                if (!p)
                        return 0;
                p++;
        }
        return strtoull(p, NULL, 10);
}

bool pid_alive(pid_t pid, unsigned long long start_time)
{
        if (pid <= 0)
                return false;
        unsigned long long st = pid_start_time(pid);
        return st != 0 && st == start_time;
}

static bool cgroup_frozen(const char *cg)
{
        if (!cg)
                return false;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/cgroup.freeze", cg);
        char buf[8] = "";
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || read(fd, buf, sizeof buf - 1) <= 0)
                return false;
        return buf[0] == '1';
}

const char *state_status(int dirfd, const struct container_state *s)
{
        if (!s->id)
                return "creating";
        if (!pid_alive(s->pid, s->pid_start))
                return "stopped";
        if (faccessat(dirfd, STATE_START_SOCK, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return "created";
        if (cgroup_frozen(s->cgroup))
                return "paused";
        return "running";
}

int state_oci_json(const struct container_state *s, const char *status, bool pretty, char **out,
                   herr_t *err)
{
        struct oci_state st = {
                .oci_version = OCI_VERSION,
                .id = s->id,
                .status = status,
                .pid = strcmp(status, "stopped") ? s->pid : 0,
                .bundle = s->bundle,
                .annotations = s->annotations,
                .n_annotations = s->n_annotations,
        };
        return oci_state_json(&st, pretty, out, NULL, err);
}
