/* runtime/frontdoor.h: the container-engine flags of `husk run|create
 * --image` (-e, -v, --memory, --net, --timeout, ...). Each flag maps onto
 * the generated config.json (spec/generate.h's struct oci_gen_opts);
 * --dry-run prints that config instead of running it. */
#ifndef HUSK_RUNTIME_FRONTDOOR_H
#define HUSK_RUNTIME_FRONTDOOR_H

#include <getopt.h>
#include <stdbool.h>

#include "../common/error.h"
#include "../images/images.h"
#include "../spec/generate.h"

/* The network mode (--net and -p are net/'s, runtime/network.h): the
 * generated config has a network namespace unless it is "host". */
enum fd_net { FD_NET_DEFAULT, FD_NET_NONE, FD_NET_HOST, FD_NET_BRIDGE };

struct frontdoor {
        const char *first_flag;        /* the first image-mode flag seen */
        char **env;                    /* -e / --env-file, "K=V" (owned) */
        size_t n_env;
        const char *workdir, *user, *hostname;
        struct oci_gen_mount *mounts;  /* -v / --tmpfs (strings owned) */
        size_t n_mounts;
        bool read_only, rm, tty, interactive, vm, dry_run;
        long long memory, pids, cpu_quota;
        enum fd_net net;
        char **cap_add, **cap_drop;    /* "CAP_X" (owned), NULL-terminated */
        size_t n_cap_add, n_cap_drop;
        enum oci_gen_seccomp seccomp;
        char *seccomp_json;            /* --security-opt seccomp=FILE */
        long long timeout_ms;          /* --timeout; 0: none */
        char **owned;                  /* other strings to free */
        size_t n_owned;
        /* filled by frontdoor_gen_opts: */
        char **caps;
        const char *annotations[4];
        struct oci_gen_opts gen;
        struct image_run_opts run;
};

/* getopt values; the short ones are the letters themselves. */
enum {
        FD_OPT_ENV = 'e', FD_OPT_WORKDIR = 'w', FD_OPT_USER = 'u', FD_OPT_VOLUME = 'v',
        FD_OPT_TTY = 't', FD_OPT_INTERACTIVE = 'i',
        FD_OPT_ENV_FILE = 0x200, FD_OPT_TMPFS, FD_OPT_READ_ONLY, FD_OPT_MEMORY, FD_OPT_CPUS,
        FD_OPT_PIDS, FD_OPT_HOSTNAME, FD_OPT_CAP_ADD, FD_OPT_CAP_DROP,
        FD_OPT_SECURITY, FD_OPT_VM, FD_OPT_TIMEOUT, FD_OPT_RM, FD_OPT_DRY_RUN,
};

#define FRONTDOOR_SHORT "e:w:u:v:ti"

#define FRONTDOOR_LONG_OPTIONS                                                   \
        { "env", required_argument, NULL, FD_OPT_ENV },                          \
        { "env-file", required_argument, NULL, FD_OPT_ENV_FILE },                \
        { "workdir", required_argument, NULL, FD_OPT_WORKDIR },                  \
        { "user", required_argument, NULL, FD_OPT_USER },                        \
        { "volume", required_argument, NULL, FD_OPT_VOLUME },                    \
        { "tmpfs", required_argument, NULL, FD_OPT_TMPFS },                      \
        { "read-only", no_argument, NULL, FD_OPT_READ_ONLY },                    \
        { "memory", required_argument, NULL, FD_OPT_MEMORY },                    \
        { "cpus", required_argument, NULL, FD_OPT_CPUS },                        \
        { "pids-limit", required_argument, NULL, FD_OPT_PIDS },                  \
        { "hostname", required_argument, NULL, FD_OPT_HOSTNAME },                \
        { "cap-add", required_argument, NULL, FD_OPT_CAP_ADD },                  \
        { "cap-drop", required_argument, NULL, FD_OPT_CAP_DROP },                \
        { "security-opt", required_argument, NULL, FD_OPT_SECURITY },            \
        { "tty", no_argument, NULL, FD_OPT_TTY },                                \
        { "interactive", no_argument, NULL, FD_OPT_INTERACTIVE },                \
        { "timeout", required_argument, NULL, FD_OPT_TIMEOUT },                  \
        { "rm", no_argument, NULL, FD_OPT_RM },                                  \
        { "dry-run", no_argument, NULL, FD_OPT_DRY_RUN }

/* Handle one getopt result. Returns 1 when it was a front-door flag,
 * 0 when not, -1 on a malformed value (err: what is wrong, what is right). */
int frontdoor_opt(struct frontdoor *f, int opt, const char *arg, const char *flag, herr_t *err);

/* After all flags: cross-checks (-p needs --net bridge, ...) and the
 * image_run_opts (with .gen) for image_prepare_bundle in f->run. args is
 * the command (may be NULL). */
int frontdoor_finish(struct frontdoor *f, char **args, bool detach, bool keep, herr_t *err);

/* The error of getopt_long's '?' for argv[prev] (optopt set): an unknown
 * option, or one without its value. shorts: the optstring used. */
int frontdoor_bad_option(const char *cmd, int argc, char **argv, int prev, const char *shorts, herr_t *err);

/* After a failed image_run_prepare: a missing image's error says how to
 * find or add one. Returns -1. */
int frontdoor_image_hint(const char *ref, const char *storage, herr_t *err);

/* Whether argv (before any "--") asks for --image mode. */
bool frontdoor_wants_image(int argc, char **argv);

/* Parse "30s", "500ms", "2m", "1h", "10" (seconds) into milliseconds. */
int frontdoor_duration(const char *s, long long *ms);
/* Parse "256m", "1g", "512k", "1000" (bytes) into bytes. */
int frontdoor_size(const char *s, long long *bytes);

void frontdoor_free(struct frontdoor *f);

#endif
