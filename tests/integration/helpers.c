#include "helpers.h"
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char h_tmp[PATH_MAX];
char h_root[PATH_MAX + 8];
static char husk_abs[PATH_MAX], rootfs_abs[PATH_MAX];
static int mountinfo_at_setup;
static int bundle_seq;
static char hostname_at_setup[256];
static char *mountinfo_setup_text;

const char *h_husk(void)
{
        return husk_abs;
}

const char *h_rootfs(void)
{
        return rootfs_abs;
}

int h_mountinfo_lines(void)
{
        FILE *f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return -1;
        int n = 0, ch;
        while ((ch = fgetc(f)) != EOF)
                n += ch == '\n';
        fclose(f);
        return n;
}

void h_setup(void)
{
        const char *h = getenv("HUSK"), *r = getenv("HUSK_ROOTFS");
        if (!h || !r || !realpath(h, husk_abs) || !realpath(r, rootfs_abs))
                cr_skip_test("HUSK and HUSK_ROOTFS must name the husk binary and a busybox rootfs "
                             "(make integration sets them)");
        if (geteuid() != 0)
                cr_skip_test("the core runtime tests need root");
        snprintf(h_tmp, sizeof h_tmp, "/tmp/husk-it.XXXXXX");
        cr_assert_not_null(mkdtemp(h_tmp));
        chmod(h_tmp, 0755);
        snprintf(h_root, sizeof h_root, "%s/root", h_tmp);
        cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
        signal(SIGPIPE, SIG_IGN);
        /* A private mount namespace: other users of this machine mounting
         * things cannot disturb the leftover count, and a mount husk leaks
         * still shows here. */
        cr_assert_eq(unshare(CLONE_NEWNS), 0);
        cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        mountinfo_at_setup = h_mountinfo_lines();
        mountinfo_setup_text = h_read("/proc/self/mountinfo");
        gethostname(hostname_at_setup, sizeof hostname_at_setup);
        bundle_seq = 0;
}

static void rm_rf(const char *path)
{
        char cmd[PATH_MAX + 32];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
        (void)!system(cmd);
}

void h_teardown(void)
{
        if (!h_tmp[0])
                return;
        DIR *d = opendir(h_root);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                struct h_res r;
                HUSK(&r, "delete", "--force", de->d_name);
                h_res_free(&r);
        }
        if (d)
                closedir(d);
        /* Any process still ours (a test that failed half-way). */
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
        char *kids = h_read(path);
        for (char *p = kids; p && *p;) {
                char *end;
                long pid = strtol(p, &end, 10);
                if (end == p)
                        break;
                kill((pid_t)pid, SIGKILL);
                p = end;
        }
        free(kids);
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
        rm_rf(h_tmp);
        h_tmp[0] = '\0';
}

const char *h_path(const char *name)
{
        static char bufs[8][PATH_MAX];
        static int i;
        char *b = bufs[i++ % 8];
        snprintf(b, PATH_MAX, "%s/%s", h_tmp, name);
        return b;
}

const char *h_id(const char *name)
{
        static char bufs[8][128];
        static int i;
        char *b = bufs[i++ % 8];
        snprintf(b, 128, "%s-%d", name, (int)getpid());
        return b;
}

void h_write(const char *path, const char *s, mode_t mode)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
        size_t len = strlen(s);
        cr_assert_eq(write(fd, s, len), (ssize_t)len);
        fchmod(fd, mode);
        close(fd);
}

char *h_read(const char *path)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        size_t cap = 4096, len = 0;
        char *buf = malloc(cap + 1);
        ssize_t n;
        while ((n = read(fd, buf + len, cap - len)) > 0) {
                len += (size_t)n;
                if (len == cap)
                        buf = realloc(buf, (cap *= 2) + 1);
        }
        close(fd);
        buf[len] = '\0';
        return buf;
}

#define DEF_MOUNTS                                                                                          \
        "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"                               \
        "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\","     \
        "\"strictatime\",\"mode=755\",\"size=1m\"]},"                                                       \
        "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":[\"nosuid\"," \
        "\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\"]},"                                     \
        "{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\","     \
        "\"nodev\",\"size=16m\"]}"

const char *h_bundle(const struct h_cfg *c)
{
        static const struct h_cfg none;
        if (!c)
                c = &none;
        char *dir = malloc(PATH_MAX);
        snprintf(dir, PATH_MAX, "%s/bundle-%d", h_tmp, bundle_seq++);
        cr_assert_eq(mkdir(dir, 0755), 0, "mkdir %s: %s", dir, strerror(errno));
        char *json = NULL;
        if (c->raw) {
                json = strdup(c->raw);
        } else {
                const char *hostname = c->hostname;
                if (!hostname && (!c->namespaces || strstr(c->namespaces, "\"uts\"")))
                        hostname = "husk-test";
                char mounts[8192];
                if (c->mounts)
                        snprintf(mounts, sizeof mounts, "%s", c->mounts);
                else
                        snprintf(mounts, sizeof mounts, "[" DEF_MOUNTS "%s%s]", c->mounts_extra ? "," : "",
                                 c->mounts_extra ? c->mounts_extra : "");
                cr_assert(asprintf(&json,
                                   "{\"ociVersion\":\"1.0.2\",\n"
                                   "\"process\":{\"terminal\":%s,\"user\":%s,\"args\":%s,\"env\":%s,\"cwd\":\"%s\"%s},\n"
                                   "\"root\":{\"path\":\"%s\",\"readonly\":%s}"
                                   "%s%s%s"
                                   ",\n\"mounts\":%s,\n"
                                   "\"linux\":{\"namespaces\":%s%s}%s}\n",
                                   c->terminal ? "true" : "false",
                                   c->user ? c->user : "{\"uid\":0,\"gid\":0}",
                                   c->args ? c->args : "[\"true\"]",
                                   c->env ? c->env : "[\"PATH=/bin:/sbin:/usr/bin\"]", c->cwd ? c->cwd : "/",
                                   c->process_extra ? c->process_extra : "",
                                   c->root_path ? c->root_path : rootfs_abs,
                                   c->writable_root ? "false" : "true",
                                   /* no uts namespace: no hostname (it would be the host's) */
                                   hostname ? ",\"hostname\":\"" : "", hostname ? hostname : "",
                                   hostname ? "\"" : "", mounts,
                                   c->namespaces ? c->namespaces
                                                 : "[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"ipc\"},"
                                                   "{\"type\":\"uts\"},{\"type\":\"network\"}]",
                                   c->linux_extra ? c->linux_extra : "", c->top_extra ? c->top_extra : "") > 0);
        }
        char path[PATH_MAX + 16];
        snprintf(path, sizeof path, "%s/config.json", dir);
        h_write(path, json, 0644);
        free(json);
        return dir; /* leaked on purpose: lives until the test process exits */
}

static char *drain(int fd, size_t *len, size_t *cap, char *buf, bool *eof)
{
        if (*len + 4096 > *cap)
                buf = realloc(buf, (*cap = *cap * 2 + 8192) + 1);
        ssize_t n = read(fd, buf + *len, *cap - *len);
        if (n > 0)
                *len += (size_t)n;
        else if (n == 0 || (errno != EINTR && errno != EAGAIN))
                *eof = true;
        buf[*len] = '\0';
        return buf;
}

int h_run(struct h_res *r, const struct h_opts *o, const char *const *argv)
{
        static const struct h_opts defaults = { .fd3 = -1 };
        if (!o)
                o = &defaults;
        memset(r, 0, sizeof *r);
        int outp[2], errp[2], inp[2];
        cr_assert_eq(pipe2(outp, O_CLOEXEC), 0);
        cr_assert_eq(pipe2(errp, O_CLOEXEC), 0);
        cr_assert_eq(pipe2(inp, O_CLOEXEC), 0);
        const char *args[128];
        size_t n = 0;
        args[n++] = husk_abs;
        if (!o->no_root) {
                args[n++] = "--root";
                args[n++] = h_root;
        }
        for (size_t i = 0; argv[i] && n < 127; i++)
                args[n++] = argv[i];
        args[n] = NULL;
        fflush(NULL);
        pid_t pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
                if (o->cwd && chdir(o->cwd) < 0)
                        _exit(126);
                dup2(inp[0], 0);
                dup2(outp[1], 1);
                dup2(errp[1], 2);
                if (o->fd3 >= 0) {
                        if (o->fd3 == 3)
                                fcntl(3, F_SETFD, 0);
                        else
                                dup2(o->fd3, 3);
                        syscall(SYS_close_range, 4, ~0U, 0);
                } else {
                        syscall(SYS_close_range, 3, ~0U, 0);
                }
                for (size_t i = 0; o->env && o->env[i]; i++)
                        putenv((char *)o->env[i]);
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                signal(SIGPIPE, SIG_DFL);
                execv(husk_abs, (char *const *)args);
                _exit(127);
        }
        close(outp[1]);
        close(errp[1]);
        close(inp[0]);
        if (o->stdin_data)
                (void)!write(inp[1], o->stdin_data, strlen(o->stdin_data));
        close(inp[1]);
        size_t ol = 0, oc = 0, el = 0, ec = 0;
        char *ob = NULL, *eb = NULL;
        bool oe = false, ee = false;
        int timeout = o->timeout_ms ? o->timeout_ms : 20000;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        ob = calloc(1, 1);
        eb = calloc(1, 1);
        bool exited = false;
        while (!oe || !ee) {
                struct pollfd p[2] = { { oe ? -1 : outp[0], POLLIN, 0 }, { ee ? -1 : errp[0], POLLIN, 0 } };
                int k = poll(p, 2, exited ? 0 : 20);
                if (k > 0) {
                        if (p[0].revents)
                                ob = drain(outp[0], &ol, &oc, ob, &oe);
                        if (p[1].revents)
                                eb = drain(errp[0], &el, &ec, eb, &ee);
                        continue;
                }
                /* husk gone and nothing buffered: a detached container may
                 * keep the pipes open, stop reading. */
                if (exited)
                        break;
                siginfo_t si = { 0 };
                exited = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
                clock_gettime(CLOCK_MONOTONIC, &t1);
                long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
                if (!exited && ms > timeout) {
                        kill(pid, SIGKILL);
                        r->status = -1;
                        break;
                }
        }
        close(outp[0]);
        close(errp[0]);
        int st = 0;
        if (r->status != -1) {
                while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                        ;
                r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        } else {
                waitpid(pid, NULL, 0);
        }
        r->out = ob;
        r->err = eb;
        return r->status;
}

void h_res_free(struct h_res *r)
{
        free(r->out);
        free(r->err);
        r->out = r->err = NULL;
}

void h_assert_fail(const struct h_res *r, const char *what)
{
        cr_assert_neq(r->status, 0, "expected a failure (%s), got exit 0; stdout: %s", what, r->out);
        cr_assert(r->err && strncmp(r->err, "husk: ", 6) == 0, "expected 'husk: ...' on stderr, got: %s",
                  r->err);
        /* One line for the error (warnings may precede it). */
        const char *last = r->err;
        for (const char *p = r->err; *p; p++)
                if (*p == '\n' && p[1])
                        last = p + 1;
        cr_assert(strchr(last, '\n') && strchr(last, '\n')[1] == '\0', "error not one line: %s", r->err);
        if (what)
                H_HAS(r->err, what);
}

yajl_val h_state(const char *id)
{
        struct h_res r;
        HUSK(&r, "state", id);
        yajl_val v = NULL;
        if (r.status == 0) {
                char eb[256];
                v = yajl_tree_parse(r.out, eb, sizeof eb);
        }
        h_res_free(&r);
        return v;
}

const char *h_jstr(yajl_val v, const char *key)
{
        const char *p[] = { key, NULL };
        yajl_val s = yajl_tree_get(v, p, yajl_t_string);
        return s ? YAJL_GET_STRING(s) : NULL;
}

long long h_jint(yajl_val v, const char *key)
{
        const char *p[] = { key, NULL };
        yajl_val s = yajl_tree_get(v, p, yajl_t_number);
        return s && YAJL_IS_INTEGER(s) ? YAJL_GET_INTEGER(s) : -1;
}

char *h_status(const char *id)
{
        yajl_val v = h_state(id);
        const char *s = v ? h_jstr(v, "status") : NULL;
        char *out = strdup(s ? s : "");
        yajl_tree_free(v);
        return out;
}

bool h_wait_status(const char *id, const char *status, int ms)
{
        for (int waited = 0;; waited += 10) {
                h_reap();
                char *s = h_status(id);
                bool ok = !strcmp(s, status);
                free(s);
                if (ok)
                        return true;
                if (waited >= ms)
                        return false;
                usleep(10000);
        }
}

char *h_cgroup_of(const char *id)
{
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s/state.json", h_root, id);
        char *s = h_read(path);
        if (!s)
                return NULL;
        char eb[256];
        yajl_val v = yajl_tree_parse(s, eb, sizeof eb);
        free(s);
        const char *cg = v ? h_jstr(v, "cgroup") : NULL;
        char *out = cg ? strdup(cg) : NULL;
        yajl_tree_free(v);
        return out;
}

char *h_default_cgroup(const char *id)
{
        const char *root = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 ? "/sys/fs/cgroup"
                                                                                   : "/sys/fs/cgroup/unified";
        char *cg = h_read("/proc/self/cgroup");
        char own[PATH_MAX] = "";
        for (char *l = cg; l && *l;) {
                char *nl = strchr(l, '\n');
                if (!strncmp(l, "0::", 3)) {
                        snprintf(own, sizeof own, "%.*s", (int)((nl ? nl : l + strlen(l)) - l - 3), l + 3);
                        break;
                }
                l = nl ? nl + 1 : NULL;
        }
        free(cg);
        if (!strcmp(own, "/"))
                own[0] = '\0';
        char *out = NULL;
        cr_assert(asprintf(&out, "%s%s/husk/%s", root, own, id) > 0);
        return out;
}

void h_reap(void)
{
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

int h_children(void)
{
        h_reap();
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
        char *kids = h_read(path);
        int n = 0;
        for (char *p = kids; p && *p;) {
                char *end;
                strtol(p, &end, 10);
                if (end == p)
                        break;
                n++;
                p = end;
        }
        free(kids);
        return n;
}

/* Mount lines without their ids: "maj:min root mountpoint opts...". */
static const char *mount_key(const char *line)
{
        for (int f = 0; f < 2 && line; f++) {
                line = strchr(line, ' ');
                line = line ? line + 1 : NULL;
        }
        return line ? line : "";
}

/* Mounts now present that were not at setup (others of this machine may
 * unmount things: a mount that went away is not ours to report). */
char *h_new_mounts(void)
{
        char *now = h_read("/proc/self/mountinfo");
        size_t cap = 1, len = 0;
        char *out = calloc(1, cap);
        for (char *l = now ? strtok(now, "\n") : NULL; l; l = strtok(NULL, "\n")) {
                const char *k = mount_key(l);
                bool found = false;
                for (const char *s = mountinfo_setup_text; s && *s && !found;) {
                        const char *nl = strchr(s, '\n');
                        size_t n = nl ? (size_t)(nl - s) : strlen(s);
                        const char *sk = mount_key(s);
                        found = sk < s + n && (size_t)(s + n - sk) == strlen(k) && !memcmp(sk, k, strlen(k));
                        s = nl ? nl + 1 : NULL;
                }
                if (!found) {
                        out = realloc(out, cap += strlen(l) + 1);
                        len += (size_t)sprintf(out + len, "%s\n", l);
                }
        }
        free(now);
        return out;
}

void h_assert_clean(const char *id, const char *cgroup)
{
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", h_root, id);
        cr_assert(access(path, F_OK) < 0, "state dir %s left behind", path);
        char *def = cgroup ? NULL : h_default_cgroup(id);
        const char *cg = cgroup ? cgroup : def;
        cr_assert(access(cg, F_OK) < 0, "cgroup %s left behind", cg);
        free(def);
        /* Processes may take a moment to be reaped. */
        int kids = 0;
        for (int i = 0; i < 100 && (kids = h_children()) > 0; i++)
                usleep(10000);
        cr_assert_eq(kids, 0, "%d process(es) left behind", kids);
        char *extra = h_new_mounts();
        cr_assert(!extra[0], "mounts left behind in the host namespace:\n%s", extra);
        free(extra);
        char host[256];
        gethostname(host, sizeof host);
        cr_assert_str_eq(host, hostname_at_setup, "the host's hostname changed");
}

void h_start_detached(const char *id, const char *bundle)
{
        struct h_res r;
        HUSK(&r, "run", "--detach", "--bundle", bundle, id);
        H_OK(&r);
        h_res_free(&r);
}

void h_require_vm(void)
{
        if (system("command -v qemu-system-x86_64 >/dev/null 2>&1") != 0)
                cr_skip_test("qemu-system-x86_64 not installed (apt-get install qemu-system-x86)");
        const char *cands[] = { getenv("HUSK_DATA_DIR"), "build/data", "../build/data", "/var/lib/husk" };
        for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
                char k[PATH_MAX + 32], abs[PATH_MAX];
                if (!cands[i] || !realpath(cands[i], abs))
                        continue;
                snprintf(k, sizeof(k), "%s/kernel/current/vmlinux", abs);
                if (access(k, R_OK) == 0 && setenv("HUSK_DATA_DIR", abs, 1) == 0)
                        return;
        }
        cr_skip_test("no VM kernel fetched: run `make vm-kernel HUSK_DATA_DIR=build/data`");
}
