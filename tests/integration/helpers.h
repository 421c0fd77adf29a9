/* Helpers of the core runtime's integration tests: bundles built from a
 * JSON template in a per-test temp dir, husk run with a private --root,
 * output captured, leftovers counted. Every test runs as root with real
 * busybox containers (HUSK = the husk binary, HUSK_ROOTFS = a busybox
 * rootfs, both absolute; `make integration` sets them).
 *
 * The test process is a child subreaper: a container init whose husk
 * exited is re-parented to it, so "no process left behind" is "the test
 * process has no children". */
#ifndef HUSK_TESTS_INTEGRATION_HELPERS_H
#define HUSK_TESTS_INTEGRATION_HELPERS_H

/* Paths in tests are short; truncation would only fail a test. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <criterion/criterion.h>
#include <stdbool.h>
#include <sys/types.h>
#include <yajl/yajl_tree.h>

/* The config.json template; every field NULL/0 takes the default. JSON
 * fragments are pasted as is. */
struct h_cfg {
        const char *args;          /* JSON array; default ["true"] */
        const char *env;           /* JSON array; default PATH only */
        const char *user;          /* JSON object; default {"uid":0,"gid":0} */
        const char *cwd;           /* default "/" */
        const char *process_extra; /* ",\"key\":value..." pasted in process */
        bool terminal;
        bool writable_root;        /* root.readonly false */
        const char *root_path;     /* default $HUSK_ROOTFS */
        const char *hostname;      /* default "husk-test" */
        const char *mounts;        /* JSON array replacing the defaults */
        const char *mounts_extra;  /* mounts appended: "{...},{...}" */
        const char *namespaces;    /* JSON array; default pid,mount,ipc,uts,network */
        const char *linux_extra;   /* ",\"key\":value..." pasted in linux */
        const char *top_extra;     /* ",\"hooks\":{...}" pasted at top level */
        const char *raw;           /* the whole config.json, as is */
};

struct h_res {
        int status;  /* exit code, 128+N for signal N, -1 on timeout */
        char *out;
        char *err;
};

struct h_opts {
        const char *stdin_data;    /* NULL: /dev/null */
        int fd3;                   /* >= 0: becomes fd 3 of husk */
        const char *const *env;    /* extra "K=V" entries */
        bool no_root;              /* do not add --root */
        const char *cwd;           /* chdir before exec */
        int timeout_ms;            /* default 20000 */
};

extern char h_tmp[];   /* per-test temp dir */
extern char h_root[];  /* per-test --root */

void h_setup(void);
/* VM tests: skip unless qemu-system-x86_64 is installed and a guest kernel
 * was fetched ($HUSK_DATA_DIR, build/data, ../build/data, /var/lib/husk);
 * sets HUSK_DATA_DIR to that directory, absolute. */
void h_require_vm(void);
void h_teardown(void);
const char *h_husk(void);
const char *h_rootfs(void);

/* A bundle dir (h_tmp/bundle-N) with config.json; returns a static-life
 * string (valid until teardown). */
const char *h_bundle(const struct h_cfg *c);
/* A unique container id for this test. */
const char *h_id(const char *name);

/* husk [--root h_root] argv...; returns r->status. */
int h_run(struct h_res *r, const struct h_opts *o, const char *const *argv);
#define HUSK(r, ...) h_run((r), NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define HUSK_O(r, o, ...) h_run((r), (o), (const char *const[]){ __VA_ARGS__, NULL })
void h_res_free(struct h_res *r);
/* Assert a zero exit, printing husk's stderr otherwise. */
#define H_OK(r)                                                                                 \
        cr_assert_eq((r)->status, 0, "husk exited %d: stderr: %s stdout: %s", (r)->status,     \
                     (r)->err, (r)->out)
/* Assert a failure with a one-line message on stderr containing what. */
void h_assert_fail(const struct h_res *r, const char *what);

/* `husk state ID` parsed; NULL when it fails. Free with yajl_tree_free. */
yajl_val h_state(const char *id);
const char *h_jstr(yajl_val v, const char *key);
long long h_jint(yajl_val v, const char *key);
/* The status of ID, malloc'ed ("" when husk state fails). */
char *h_status(const char *id);
/* Poll until ID has status (or ms pass); true when reached. */
bool h_wait_status(const char *id, const char *status, int ms);
/* The cgroup of a container from its state.json (malloc'ed or NULL). */
char *h_cgroup_of(const char *id);
/* Default cgroup path of ID (<v2 root><own cgroup>/husk/<id>). */
char *h_default_cgroup(const char *id);

/* Leftovers: no state dir entry, no cgroup dir (cgroup NULL: the default
 * path), mountinfo line count as at setup, no child process. */
void h_assert_clean(const char *id, const char *cgroup);
int h_mountinfo_lines(void);
char *h_new_mounts(void); /* malloc'ed lines, "" when none */
int h_children(void);
void h_reap(void);

static inline const char *h_s(const char *s) { return s ? s : ""; }

/* Small file helpers. */
char *h_read(const char *path);  /* malloc'ed or NULL */
void h_write(const char *path, const char *s, mode_t mode);
/* A path under h_tmp (static rotating buffers). */
const char *h_path(const char *name);
/* Create and start a detached container running `sh -c script`. */
void h_start_detached(const char *id, const char *bundle);
/* Substring check with a readable failure. */
#define H_HAS(hay, needle)                                                                      \
        cr_assert((hay) && strstr((hay), (needle)), "expected \"%s\" in: %s", (needle),         \
                  (hay) ? (hay) : "(null)")
#define H_HASNT(hay, needle)                                                                    \
        cr_assert(!(hay) || !strstr((hay), (needle)), "did not expect \"%s\" in: %s", (needle), \
                  (hay) ? (hay) : "(null)")

#endif
