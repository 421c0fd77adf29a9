/* husk compare: run the probe in each mode. husk runs itself
 * (/proc/self/exe) as a user would: `husk run --image REF [--vm] ...`. */
#include "compare.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "../common/jsonedit.h"

/* The probe runs as a child of the container's sh (pid 1), so "ptrace of
 * pid 1" means the container's init, not the probe itself. */
#define PROBE_SCRIPT "cat > /tmp/.husk-probe && chmod 755 /tmp/.husk-probe && /tmp/.husk-probe; exit $?"

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct husk_call {
        const char *root, *storage, *image;
        bool vm;
        int errlog;     /* stderr of the runs (a temp file), or -1 */
};

/* The last line husk printed on stderr, for the report. */
static void last_error(const struct husk_call *h, char *buf, size_t len)
{
        char tmp[4096];
        ssize_t n = pread(h->errlog, tmp, sizeof tmp - 1, 0);
        buf[0] = '\0';
        if (n <= 0)
                return;
        tmp[n] = '\0';
        while (n > 0 && tmp[n - 1] == '\n')
                tmp[--n] = '\0';
        char *l = strrchr(tmp, '\n');
        snprintf(buf, len, "%.300s", l ? l + 1 : tmp);
}

/* Run husk with args; stdin from in_fd (or /dev/null), stdout captured.
 * *first_ms: time to the first byte of output. Returns the exit status. */
static int call(const struct husk_call *h, char **args, int in_fd, char **out, double *first_ms, herr_t *err)
{
        /* A detached container would keep a captured stdout open. */
        bool detached = false;
        for (int i = 0; args[i] && strcmp(args[i], "--"); i++)
                detached |= !strcmp(args[i], "--detach");
        char *argv[32];
        int k = 0;
        argv[k++] = "husk";
        argv[k++] = "--root";
        argv[k++] = (char *)h->root;
        argv[k++] = "--storage";
        argv[k++] = (char *)h->storage;
        for (int i = 0; args[i] && k < 30; i++)
                argv[k++] = args[i];
        argv[k] = NULL;
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return herr_sys(err, "pipe");
        double t0 = now_ms();
        pid_t pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return herr_sys(err, "fork");
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);
                dup2(in_fd >= 0 ? in_fd : null, 0);
                dup2(detached ? null : p[1], 1);
                if (h->errlog >= 0)
                        dup2(h->errlog, 2);
                execv("/proc/self/exe", argv);
                _exit(127);
        }
        close(p[1]);
        size_t cap = 1 << 16, n = 0;
        char *buf = malloc(cap);
        *first_ms = -1;
        for (;;) {
                if (n + 4096 > cap) {
                        char *nb = realloc(buf, cap *= 2);
                        if (!nb)
                                break;
                        buf = nb;
                }
                ssize_t r = read(p[0], buf + n, cap - n - 1);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                if (*first_ms < 0)
                        *first_ms = now_ms() - t0;
                n += (size_t)r;
        }
        close(p[0]);
        buf[n] = '\0';
        *out = buf;
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Put "--vm" right after "run" (args has room for one more). */
static void insert_vm(char **args)
{
        size_t n = 0;
        while (args[n])
                n++;
        memmove(args + 2, args + 1, n * sizeof *args);
        args[1] = "--vm";
}

static long rss_kib(pid_t pid)
{
        char path[64], *s = NULL;
        herr_t e;
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        if (read_file(path, 1 << 16, &s, NULL, &e) < 0)
                return 0;
        char *l = strstr(s, "VmRSS:");
        long v = l ? strtol(l + 6, NULL, 10) : 0;
        free(s);
        return v;
}

static pid_t ppid_of(pid_t pid)
{
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (n <= 0)
                return -1;
        buf[n] = 0;
        char *p = strrchr(buf, ')');
        return p ? (pid_t)strtol(p + 4, NULL, 10) : -1;
}

/* RSS of pid and all its descendants. */
static double tree_kib(pid_t root)
{
        double sum = rss_kib(root);
        _cleanup_closedir_ DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d))) {
                pid_t p = (pid_t)atoi(e->d_name);
                if (p <= 0 || p == root)
                        continue;
                for (pid_t q = ppid_of(p); q > 1; q = ppid_of(q))
                        if (q == root) {
                                sum += rss_kib(p);
                                break;
                        }
        }
        return sum;
}

static void measure_memory(const struct husk_call *h, struct compare_side *s, const char *id)
{
        char *run[] = { "run", "--image", (char *)h->image, "--detach", "--name", (char *)id,
                        "--", "sleep", "60", NULL, NULL };
        if (h->vm)
                insert_vm(run);
        char *out = NULL;
        double t;
        herr_t err = { 0 };
        s->host_kib = -1;
        if (call(h, run, -1, &out, &t, &err) == 0) {
                free(out);
                out = NULL;
                char *st[] = { "state", (char *)id, NULL };
                yajl_val v = NULL;
                if (call(h, st, -1, &out, &t, &err) == 0 && json_parse(out, &v, &err) == 0) {
                        const char *pp[] = { "pid", NULL };
                        yajl_val pid = yajl_tree_get(v, pp, yajl_t_number);
                        if (pid && YAJL_IS_INTEGER(pid)) {
                                usleep(300 * 1000); /* let it settle */
                                s->host_kib = tree_kib((pid_t)YAJL_GET_INTEGER(pid));
                        }
                }
                yajl_tree_free(v);
        }
        free(out);
        out = NULL;
        char *del[] = { "delete", "--force", (char *)id, NULL };
        (void)call(h, del, -1, &out, &t, &err);
        free(out);
}

static void run_side(const struct husk_call *h, const char *probe, struct compare_side *s)
{
        herr_t err = { 0 };
        char *out = NULL;
        /* A foreground run removes its container when it ends. */
        char *echo[] = { "run", "--image", (char *)h->image, "--", "echo", "ready", NULL, NULL };
        if (h->vm)
                insert_vm(echo);
        int rc = call(h, echo, -1, &out, &s->start_ms, &err);
        if (rc != 0 || !out || strncmp(out, "ready", 5)) {
                char last[400];
                last_error(h, last, sizeof last);
                snprintf(s->why, sizeof s->why, "husk run%s failed (status %d): %s", h->vm ? " --vm" : "", rc, last);
                free(out);
                return;
        }
        free(out);
        out = NULL;
        _cleanup_close_ int pfd = open(probe, O_RDONLY | O_CLOEXEC);
        if (pfd < 0) {
                snprintf(s->why, sizeof s->why, "probe %s: %s", probe, strerror(errno));
                return;
        }
        char *run[] = { "run", "--image", (char *)h->image, "-i", "--", "sh", "-c", PROBE_SCRIPT, NULL, NULL };
        if (h->vm)
                insert_vm(run);
        double t;
        rc = call(h, run, pfd, &out, &t, &err);
        if (rc != 0 || json_parse(out, &s->probe, &err) < 0) {
                snprintf(s->why, sizeof s->why, "probe failed (status %d)%s%.400s", rc, err.msg[0] ? ": " : "",
                         err.msg);
                free(out);
                return;
        }
        free(out);
        s->ok = true;
        char id[64];
        snprintf(id, sizeof id, "husk-compare-%d-%s", (int)getpid(), h->vm ? "vm" : "native");
        measure_memory(h, s, id);
}

int compare_run(const char *root, const char *storage, const char *image, const char *probe,
                struct compare_result *r, herr_t *err)
{
        memset(r, 0, sizeof *r);
        r->image = image;
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(r->date, sizeof r->date, "%Y-%m-%d %H:%M UTC", &tm);
        if (access(probe, X_OK) < 0)
                return herr_sys(err, "probe %s (build it with make)", probe);
        for (int m = 0; m < COMPARE_MODES; m++) {
                struct husk_call h = { root, storage, image, m == COMPARE_VM, -1 };
                h.errlog = memfd_create("husk-compare-stderr", MFD_CLOEXEC);
                run_side(&h, probe, &r->side[m]);
                if (h.errlog >= 0)
                        close(h.errlog);
        }
        return 0;
}

void compare_result_free(struct compare_result *r)
{
        for (int m = 0; m < COMPARE_MODES; m++)
                yajl_tree_free(r->side[m].probe);
}
