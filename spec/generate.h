/* spec/generate.h: documents husk writes rather than reads. */
#ifndef HUSK_SPEC_GENERATE_H
#define HUSK_SPEC_GENERATE_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/error.h"

/* One mount of oci_gen_opts.mounts (added after the default mounts). */
struct oci_gen_mount {
        const char *destination;
        const char *type;
        const char *source;
        const char *const *options;     /* NULL-terminated, or NULL */
};

enum oci_gen_seccomp {
        OCI_GEN_SECCOMP_DEFAULT = 0,    /* seccomp/'s default profile */
        OCI_GEN_SECCOMP_NONE,           /* no linux.seccomp (unconfined) */
        OCI_GEN_SECCOMP_JSON,           /* seccomp_json: an OCI linux.seccomp object */
};

/* Everything a generated config.json varies in. Start from
 * oci_gen_defaults() and change fields; pointers are borrowed. */
struct oci_gen_opts {
        bool rootless;                  /* user namespace with the caller's ids
                                         * mapped, rootless-safe mounts */
        const char *root_path;          /* "rootfs" */
        bool root_readonly;
        const char *const *args;        /* NULL-terminated */
        const char *const *env;         /* NULL-terminated "K=V" */
        const char *cwd;
        unsigned uid, gid;
        const unsigned *additional_gids;
        size_t n_additional_gids;
        bool terminal;
        const char *hostname;           /* NULL: no "hostname" */
        const char *const *caps;        /* NULL: the default set of `husk spec` */
        bool no_new_privileges;
        enum oci_gen_seccomp seccomp;
        const char *seccomp_json;       /* OCI_GEN_SECCOMP_JSON: a JSON object */
        const struct oci_gen_mount *mounts;
        size_t n_mounts;
        bool network_ns;                /* a new network namespace */
        /* linux.resources; 0: not set */
        long long memory_limit;         /* bytes */
        long long pids_limit;
        long long cpu_quota, cpu_period;/* microseconds */
        const char *const *annotations; /* NULL-terminated key, value, key, value... */
};

/* The values of `husk spec [--rootless]`. */
void oci_gen_defaults(struct oci_gen_opts *o, bool rootless);

/* A config.json from o (pretty-printed, NUL-terminated malloc'd *out;
 * *len without the NUL when len). A seccomp_json that is not a JSON object
 * is an error naming it. */
int oci_config_gen(const struct oci_gen_opts *o, char **out, size_t *len, herr_t *err);

/* The default config.json of `husk spec` (runc-like: busybox-friendly sh,
 * masked/readonly paths, default capability set, namespaces; rootless:
 * user namespace with the caller's ids mapped, no network namespace). */
int oci_default_config_json(bool rootless, char **out, size_t *len, herr_t *err);

/* The features document of features.md / features-linux.md, truthful
 * about what this build of husk supports. */
int oci_features_json(char **out, size_t *len, herr_t *err);

#endif
