/* See test_hardening_util.h. */
#include "test_hardening_util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../cgroups/cgroups.h"

const char *hk_husk(void)
{
        const char *h = getenv("HUSK");
        if (!h || access(h, X_OK) < 0)
                cr_skip_test("HUSK not set (make integration sets it)");
        return h;
}

static int vsh(char **out, const char *fmt, va_list ap)
{
        char *cmd;
        if (vasprintf(&cmd, fmt, ap) < 0)
                return -1;
        /* Output goes to a file, never a pipe: a created or detached
         * container inherits husk's stdio and would hold a pipe open. */
        char tmp[] = "/tmp/husk-hard-out.XXXXXX";
        int fd = mkstemp(tmp);
        if (fd < 0) {
                free(cmd);
                return -1;
        }
        char *full;
        int n = asprintf(&full, "(%s) >%s 2>&1 </dev/null", cmd, out ? tmp : "/dev/null");
        free(cmd);
        if (n < 0) {
                close(fd);
                unlink(tmp);
                return -1;
        }
        int st = system(full);
        free(full);
        unlink(tmp);
        if (out) {
                char *buf = NULL;
                size_t len = 0;
                FILE *m = open_memstream(&buf, &len);
                char chunk[4096];
                ssize_t r;
                while ((r = read(fd, chunk, sizeof chunk)) > 0)
                        fwrite(chunk, 1, (size_t)r, m);
                fclose(m);
                *out = buf;
        }
        close(fd);
        if (st < 0)
                return -1;
        if (WIFSIGNALED(st))
                return 128 + WTERMSIG(st);
        return WEXITSTATUS(st);
}

int hk_sh(char **out, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int rc = vsh(out, fmt, ap);
        va_end(ap);
        return rc;
}

int hk_run(struct hk *h, const char *husk, char **out, const char *fmt, ...)
{
        char *args;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&args, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -1;
        char *tagged = malloc(strlen(args) * (strlen(h->tag) + 1) + 1), *q = tagged;
        for (const char *p = args; *p; p++)
                q = *p == '@' ? stpcpy(q, h->tag) : (*q = *p, q + 1);
        *q = '\0';
        int rc = hk_sh(out, "exec %s --root %s %s", husk ? husk : hk_husk(), h->root, tagged);
        free(tagged);
        free(args);
        return rc;
}

void hk_init(struct hk *h, bool copy_rootfs)
{
        hk_husk();
        const char *r = getenv("HUSK_ROOTFS");
        if (!r || access(r, F_OK) < 0)
                cr_skip_test("HUSK_ROOTFS not set (make rootfs; make integration sets it)");
        if (geteuid() != 0)
                cr_skip_test("needs root");
        snprintf(h->tag, sizeof h->tag, "hk%d", (int)getpid());
        snprintf(h->dir, sizeof h->dir, "/tmp/husk-hard.XXXXXX");
        cr_assert_not_null(mkdtemp(h->dir));
        chmod(h->dir, 0755); /* a user namespace must reach the rootfs */
        snprintf(h->root, sizeof h->root, "%s/root", h->dir);
        snprintf(h->bundle, sizeof h->bundle, "%s/bundle", h->dir);
        cr_assert_eq(mkdir(h->bundle, 0755), 0);
        if (copy_rootfs) {
                snprintf(h->rootfs, sizeof h->rootfs, "%s/rootfs", h->dir);
                cr_assert_eq(hk_sh(NULL, "cp -a '%s' '%s'", r, h->rootfs), 0);
        } else {
                char *abs = realpath(r, NULL);
                cr_assert_not_null(abs);
                snprintf(h->rootfs, sizeof h->rootfs, "%s", abs);
                free(abs);
        }
}

void hk_done(struct hk *h)
{
        if (!h->dir[0])
                return;
        /* anything left running is killed by delete --force */
        hk_sh(NULL, "for d in %s/*/; do [ -d \"$d\" ] && %s --root %s delete --force "
                    "\"$(basename \"$d\")\"; done; true",
              h->root, hk_husk(), h->root);
        hk_sh(NULL, "rm -rf '%s'", h->dir);
        h->dir[0] = '\0';
}

void hk_config(struct hk *h, const struct hk_cfg *c)
{
        char path[400];
        snprintf(path, sizeof path, "%s/config.json", h->bundle);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        const char *defcaps = "\"bounding\":[\"CAP_KILL\",\"CAP_CHOWN\"],"
                              "\"effective\":[\"CAP_KILL\",\"CAP_CHOWN\"],"
                              "\"permitted\":[\"CAP_KILL\",\"CAP_CHOWN\"]";
        fprintf(f,
                "{\"ociVersion\":\"1.0.2\","
                "\"process\":{\"terminal\":false,\"user\":{%s},"
                "\"args\":[%s],\"env\":[\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\"],"
                "\"cwd\":\"%s\",\"capabilities\":{%s},\"noNewPrivileges\":%s},"
                "\"root\":{\"path\":\"%s\"},\"hostname\":\"hk\","
                "\"mounts\":["
                "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
                "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
                "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]}"
                "%s%s],"
                "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\"},"
                "{\"type\":\"uts\"},{\"type\":\"mount\"}%s],"
                "\"maskedPaths\":[%s],\"readonlyPaths\":[\"/proc/sys\"]%s}}\n",
                c->user ? c->user : "\"uid\":0,\"gid\":0", c->args, c->cwd ? c->cwd : "/", c->caps ? c->caps : defcaps,
                c->no_new_privs ? "true" : "false", h->rootfs,
                c->no_sysfs ? "" : ",{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
                                   "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]}",
                c->mounts ? c->mounts : "",
                c->ns ? c->ns : "", c->masked ? c->masked : "\"/proc/kcore\"",
                c->linux_extra ? c->linux_extra : "");
        cr_assert_eq(fclose(f), 0);
}

static int count_entries(const char *dir, bool dirs_only)
{
        DIR *d = opendir(dir);
        if (!d)
                return 0;
        int n = 0;
        struct dirent *e;
        while ((e = readdir(d)))
                if (e->d_name[0] != '.' && (!dirs_only || e->d_type == DT_DIR))
                        n++;
        closedir(d);
        return n;
}

int hk_procs_with(const char *tag)
{
        DIR *d = opendir("/proc");
        struct dirent *e;
        int n = 0;
        while (d && (e = readdir(d))) {
                if (e->d_name[0] < '0' || e->d_name[0] > '9')
                        continue;
                char p[300], buf[4096];
                snprintf(p, sizeof p, "/proc/%s/cmdline", e->d_name);
                FILE *f = fopen(p, "r");
                if (!f)
                        continue;
                size_t len = fread(buf, 1, sizeof buf - 1, f);
                fclose(f);
                for (size_t i = 0; i < len; i++)
                        if (!buf[i])
                                buf[i] = ' ';
                buf[len] = '\0';
                if (strstr(buf, tag))
                        n++;
        }
        if (d)
                closedir(d);
        return n;
}

void hk_cgroup_dir(const char *id, char *out, size_t n)
{
        herr_t err = { 0 };
        char *p = NULL;
        out[0] = '\0';
        if (!cg_root() || cg_resolve_path(NULL, id, &p, &err) < 0)
                return;
        snprintf(out, n, "%s", p);
        free(p);
}

void hk_counts(struct hk *h, const char *tag, struct hk_counts *c)
{
        /* mounts of this test only (the machine is shared) */
        char *o = NULL;
        hk_sh(&o, "grep -c -e '%s' -e '%s' /proc/self/mountinfo", h->dir, h->tag);
        c->mounts = o ? atoi(o) : -1;
        free(o);
        c->fds_husk = -1;
        c->zombies = 0;
        char hcg[512];
        hk_cgroup_dir("x", hcg, sizeof hcg);
        char *slash = strrchr(hcg, '/');
        if (slash)
                *slash = '\0';
        c->cgroups = hcg[0] ? count_entries(hcg, true) : 0;
        c->state = count_entries(h->root, false);
        c->procs_tag = tag ? hk_procs_with(tag) : 0;
        int st;
        while (waitpid(-1, &st, WNOHANG) > 0)
                c->zombies++;
}

bool hk_has_command(const char *cmd)
{
        return hk_sh(NULL, "%s %s --help >/dev/null 2>&1", hk_husk(), cmd) == 0;
}
