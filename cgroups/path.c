/* cgroups/path.c: finding the v2 hierarchy and resolving cgroupsPath. */
#include "cgroups.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "internal.h"

static bool is_cgroup2(const char *path)
{
        struct statfs sf;
        return statfs(path, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

bool cg_find_cgroup2_mount(const char *mountinfo, char *buf, size_t size)
{
        _cleanup_fclose_ FILE *f = fopen(mountinfo, "re");
        if (!f)
                return false;
        char line[4096];
        while (fgets(line, sizeof line, f)) {
                /* id parent maj:min root mountpoint opts... - fstype src opts */
                const char *sep = strstr(line, " - ");
                if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
                        continue;
                char mp[PATH_MAX];
                if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
                        continue;
                if (strchr(mp, '\\'))   /* octal escapes: not worth it */
                        continue;
                snprintf(buf, size, "%s", mp);
                return true;
        }
        return false;
}

const char *cg_root(void)
{
        static char root[PATH_MAX];
        const char *env = getenv("HUSK_CGROUP_ROOT");
        if (env && *env) {
                snprintf(root, sizeof root, "%s", env);
                return root;
        }
        if (is_cgroup2("/sys/fs/cgroup"))
                return strcpy(root, "/sys/fs/cgroup");
        if (is_cgroup2("/sys/fs/cgroup/unified"))
                return strcpy(root, "/sys/fs/cgroup/unified");
        if (cg_find_cgroup2_mount("/proc/self/mountinfo", root, sizeof root))
                return root;
        return NULL;
}

int cg_root_controllers(char **out, herr_t *err)
{
        const char *root = cg_root();
        if (!root)
                return cg_fail(err, ENOENT, "this host has no cgroup v2 hierarchy");
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/cgroup.controllers", root);
        return read_file(p, 65536, out, NULL, err);
}

/* husk's own cgroup ("0::/path" of /proc/self/cgroup) without a trailing
 * slash: "" for the root. */
int cg_own_cgroup(char *buf, size_t size, herr_t *err)
{
        const char *env = getenv("HUSK_CGROUP_SELF");   /* tests */
        if (env) {
                snprintf(buf, size, "%s", env);
                return 0;
        }
        _cleanup_free_ char *s = NULL;
        if (read_file("/proc/self/cgroup", 65536, &s, NULL, err) < 0)
                return -1;
        if (cg_parse_own_cgroup(s, buf, size, err) < 0)
                return herr_prefix(err, "/proc/self/cgroup");
        return 0;
}

int cg_parse_own_cgroup(const char *content, char *buf, size_t size, herr_t *err)
{
        for (const char *line = content; line && *line;) {
                size_t n = strcspn(line, "\n");
                if (!strncmp(line, "0::", 3)) {
                        const char *p = line + 3;
                        size_t len = n - 3;
                        if (len == 1 && *p == '/')
                                len = 0;
                        if (memmem(p, len, "/..", 3) || len >= size)
                                return cg_fail(err, EINVAL, "own cgroup '%.*s' is outside this cgroup "
                                               "namespace or too long", (int)len, p);
                        memcpy(buf, p, len);
                        buf[len] = '\0';
                        return 0;
                }
                line = line[n] ? line + n + 1 : NULL;
        }
        return cg_fail(err, ENOENT, "no cgroup v2 entry (0::)");
}

static bool has_dotdot(const char *p)
{
        for (const char *s = p; (s = strstr(s, "..")); s += 2)
                if ((s == p || s[-1] == '/') && (s[2] == '/' || !s[2]))
                        return true;
        return false;
}

static int check_id(const char *id, herr_t *err)
{
        if (!id || !*id || strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, ".."))
                return cg_fail(err, EINVAL, "container id '%s' cannot name a cgroup", id ? id : "");
        return 0;
}

int cg_resolve_path(const char *cgroups_path, const char *id, char **out, herr_t *err)
{
        const char *root = cg_root();
        if (!root)
                return cg_fail(err, ENOENT, "cgroupsPath: this host has no cgroup v2 hierarchy");
        const char *cp = cgroups_path && *cgroups_path ? cgroups_path : NULL;
        if (cp && has_dotdot(cp))
                return cg_fail(err, EINVAL, "cgroupsPath %s: '..' is not allowed", cp);
        if (cp && cp[0] != '/' && strchr(cp, ':'))
                return cg_fail(err, EINVAL, "cgroupsPath %s: systemd slice:prefix:name paths are not "
                                "supported (husk manages cgroupfs itself)", cp);
        char own[PATH_MAX] = "";
        if ((!cp || cp[0] != '/') && cg_own_cgroup(own, sizeof own, err) < 0)
                return herr_prefix(err, "cgroupsPath");
        char *s = NULL;
        int r;
        if (!cp) {
                if (check_id(id, err) < 0)
                        return herr_prefix(err, "cgroupsPath");
                r = asprintf(&s, "%s%s/husk/%s", root, own, id);
        } else if (cp[0] == '/') {
                r = asprintf(&s, "%s%s", root, cp);
        } else {
                r = asprintf(&s, "%s%s/%s", root, own, cp);
        }
        if (r < 0)
                return herr_set(err, ENOMEM, "cgroupsPath");
        /* Drop trailing and doubled slashes. */
        char *w = s;
        for (char *q = s; *q; q++)
                if (!(*q == '/' && (q[1] == '/' || q[1] == '\0') && w > s))
                        *w++ = *q;
        *w = '\0';
        if (!strcmp(s, root)) {
                free(s);
                return cg_fail(err, EINVAL, "cgroupsPath %s: is the cgroup root itself", cp ? cp : "");
        }
        *out = s;
        return 0;
}
