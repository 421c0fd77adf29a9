/* Helpers of the hardening tests (test_cve_*.c, test_faults.c,
 * test_load.c): bundles in a scratch directory, husk invocations. */
#ifndef HUSK_TEST_HARDENING_UTIL_H
#define HUSK_TEST_HARDENING_UTIL_H

#include <stdbool.h>
#include <stddef.h>

struct hk {
        char dir[256];    /* scratch directory (removed by hk_done) */
        char root[300];   /* --root */
        char bundle[300]; /* bundle dir; config.json written by hk_config */
        char rootfs[300]; /* the rootfs (a private copy with hk_init(.., true)) */
        char tag[32];     /* "hk<pid>": container ids are global (cgroups) */
};

/* The husk under test (HUSK), skipping the test when unset. */
const char *hk_husk(void);
/* Scratch dir, state root, bundle; copy_rootfs: a private rootfs copy the
 * test may modify (else HUSK_ROOTFS itself). Skips without HUSK_ROOTFS. */
void hk_init(struct hk *h, bool copy_rootfs);
void hk_done(struct hk *h);

struct hk_cfg {
        const char *user;    /* process.user body; default "\"uid\":0,\"gid\":0" */
        const char *args;    /* JSON array body, e.g. "\"sh\",\"-c\",\"true\"" */
        const char *cwd;     /* default "/" */
        const char *caps;    /* JSON object body of process.capabilities */
        const char *mounts;  /* extra mounts: ",{...},{...}" appended */
        const char *masked;  /* maskedPaths body; default "\"/proc/kcore\"" */
        const char *ns;      /* extra namespaces: ",{...}" */
        const char *linux_extra; /* ",\"key\":value" appended to linux */
        bool no_new_privs;
        bool no_sysfs;       /* leave /sys out (a user namespace without netns) */
};
/* Write bundle/config.json (rootfs = h->rootfs). */
void hk_config(struct hk *h, const struct hk_cfg *c);

/* Run `<husk> --root <root> <args>` through sh (each '@' in args becomes
 * h->tag, so "delete @c1" names this test's container); returns the exit status
 * (128+sig when killed); output (stdout+stderr) in *out when out != NULL
 * (malloc'd). husk == NULL: hk_husk(). */
int hk_run(struct hk *h, const char *husk, char **out, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* Shell command; same return convention. */
int hk_sh(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Host bookkeeping counts compared before/after. */
struct hk_counts {
        int mounts;      /* host mounts naming the scratch dir or the tag */
        int fds_husk;    /* -1: not measured */
        int zombies;     /* zombie children of this process */
        int cgroups;     /* directories under <v2>/husk */
        int state;       /* entries under root */
        int procs_tag;   /* processes whose cmdline has tag */
};
void hk_counts(struct hk *h, const char *tag, struct hk_counts *c);
/* Processes whose command line contains tag. */
int hk_procs_with(const char *tag);
/* The cgroup v2 directory husk uses for id ("" when none is mounted). */
void hk_cgroup_dir(const char *id, char *out, size_t n);
/* true when `husk <cmd> --help` works. */
bool hk_has_command(const char *cmd);

#endif
