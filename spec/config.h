/* spec/config.h: the OCI runtime-spec config.json as typed C structs.
 *
 * Every field of config.md, config-linux.md and config-vm.md is represented.
 * Conventions:
 *   - absent strings and objects are NULL;
 *   - string arrays are NULL-terminated (char **) with a count beside them;
 *   - optional numbers and booleans are opt_* with .set;
 *   - maps (annotations, sysctl, unified, ...) are arrays of oci_kv.
 * oci_config_parse() fills a struct oci_config; oci_config_free() frees it.
 */
#ifndef HUSK_SPEC_CONFIG_H
#define HUSK_SPEC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"

typedef struct { bool set; int64_t v; } opt_i64;
typedef struct { bool set; uint64_t v; } opt_u64;
typedef struct { bool set; bool v; } opt_bool;

struct oci_kv {
        char *key;
        char *value;
};

/* ---------------------------------------------------------------- process */

struct oci_rlimit {
        char *type;            /* "RLIMIT_NOFILE", ... */
        uint64_t soft;
        uint64_t hard;
};

struct oci_capabilities {
        char **bounding;    size_t n_bounding;
        char **effective;   size_t n_effective;
        char **inheritable; size_t n_inheritable;
        char **permitted;   size_t n_permitted;
        char **ambient;     size_t n_ambient;
};

struct oci_user {
        uint32_t uid;
        uint32_t gid;
        opt_u64 umask;
        uint32_t *additional_gids; size_t n_additional_gids;
        char *username;        /* Windows only; kept for completeness */
};

struct oci_scheduler {
        char *policy;          /* SCHED_OTHER, ... (REQUIRED) */
        opt_i64 nice;
        opt_i64 priority;
        char **flags; size_t n_flags;   /* SCHED_FLAG_* */
        opt_u64 runtime;
        opt_u64 deadline;
        opt_u64 period;
};

struct oci_io_priority {
        char *class_;          /* IOPRIO_CLASS_RT | BE | IDLE */
        int64_t priority;
};

struct oci_cpu_affinity {
        char *initial;
        char *final;
};

struct oci_console_size {
        uint32_t height;
        uint32_t width;
};

struct oci_process {
        bool terminal;
        struct oci_console_size *console_size;
        struct oci_user user;
        char **args; size_t n_args;
        char *command_line;    /* Windows only */
        char **env;  size_t n_env;
        char *cwd;
        struct oci_capabilities *capabilities;
        struct oci_rlimit *rlimits; size_t n_rlimits;
        bool no_new_privileges;
        char *apparmor_profile;
        opt_i64 oom_score_adj;
        struct oci_scheduler *scheduler;
        char *selinux_label;
        struct oci_io_priority *io_priority;
        struct oci_cpu_affinity *exec_cpu_affinity;
};

/* ----------------------------------------------------------- root, mounts */

struct oci_root {
        char *path;
        bool readonly;
};

struct oci_id_mapping {
        uint32_t container_id;
        uint32_t host_id;
        uint32_t size;
};

struct oci_mount {
        char *destination;
        char *source;
        char *type;
        char **options; size_t n_options;
        struct oci_id_mapping *uid_mappings; size_t n_uid_mappings;
        struct oci_id_mapping *gid_mappings; size_t n_gid_mappings;
};

/* ------------------------------------------------------------------ hooks */

struct oci_hook {
        char *path;
        char **args; size_t n_args;
        char **env;  size_t n_env;
        opt_i64 timeout;       /* seconds, > 0 */
};

struct oci_hook_list {
        struct oci_hook *hooks;
        size_t n;
};

struct oci_hooks {
        struct oci_hook_list prestart;
        struct oci_hook_list create_runtime;
        struct oci_hook_list create_container;
        struct oci_hook_list start_container;
        struct oci_hook_list poststart;
        struct oci_hook_list poststop;
};

/* ------------------------------------------------------------------ linux */

enum oci_ns_type {
        OCI_NS_PID,
        OCI_NS_NETWORK,
        OCI_NS_MOUNT,
        OCI_NS_IPC,
        OCI_NS_UTS,
        OCI_NS_USER,
        OCI_NS_CGROUP,
        OCI_NS_TIME,
        OCI_NS_COUNT
};

struct oci_namespace {
        enum oci_ns_type type;
        char *path;            /* NULL: create a new namespace */
};

struct oci_time_offset {
        bool set;
        int64_t secs;
        uint32_t nanosecs;
};

struct oci_device {
        char *type;            /* "c", "b", "u", "p" */
        char *path;
        int64_t major;         /* required for c/b/u */
        int64_t minor;
        opt_u64 file_mode;
        opt_u64 uid;
        opt_u64 gid;
};

struct oci_net_device {
        char *host_name;       /* the map key */
        char *name;            /* optional new name */
};

struct oci_device_cgroup {
        bool allow;
        char *type;            /* "a", "c", "b" or NULL (all) */
        opt_i64 major;         /* unset: wildcard */
        opt_i64 minor;
        char *access;          /* "rwm" subset or NULL (all) */
};

struct oci_memory {
        opt_i64 limit;
        opt_i64 reservation;
        opt_i64 swap;
        opt_i64 kernel;
        opt_i64 kernel_tcp;
        opt_u64 swappiness;
        opt_bool disable_oom_killer;
        opt_bool use_hierarchy;
        opt_bool check_before_update;
};

struct oci_cpu {
        opt_u64 shares;
        opt_i64 quota;
        opt_u64 burst;
        opt_u64 period;
        opt_i64 realtime_runtime;
        opt_u64 realtime_period;
        char *cpus;
        char *mems;
        opt_i64 idle;
};

struct oci_pids {
        int64_t limit;
};

struct oci_weight_device {
        int64_t major;
        int64_t minor;
        opt_u64 weight;
        opt_u64 leaf_weight;
};

struct oci_throttle_device {
        int64_t major;
        int64_t minor;
        uint64_t rate;
};

struct oci_block_io {
        opt_u64 weight;
        opt_u64 leaf_weight;
        struct oci_weight_device *weight_device; size_t n_weight_device;
        struct oci_throttle_device *throttle_read_bps;   size_t n_throttle_read_bps;
        struct oci_throttle_device *throttle_write_bps;  size_t n_throttle_write_bps;
        struct oci_throttle_device *throttle_read_iops;  size_t n_throttle_read_iops;
        struct oci_throttle_device *throttle_write_iops; size_t n_throttle_write_iops;
};

struct oci_hugepage_limit {
        char *page_size;
        uint64_t limit;
};

struct oci_net_priority {
        char *name;
        uint32_t priority;
};

struct oci_network {
        opt_u64 class_id;
        struct oci_net_priority *priorities; size_t n_priorities;
};

struct oci_rdma {
        char *device;          /* the map key */
        opt_u64 hca_handles;
        opt_u64 hca_objects;
};

struct oci_resources {
        struct oci_device_cgroup *devices; size_t n_devices;
        struct oci_memory *memory;
        struct oci_cpu *cpu;
        struct oci_pids *pids;
        struct oci_block_io *block_io;
        struct oci_hugepage_limit *hugepage_limits; size_t n_hugepage_limits;
        struct oci_network *network;
        struct oci_rdma *rdma; size_t n_rdma;
        struct oci_kv *unified; size_t n_unified;
};

struct oci_intel_rdt {
        char *clos_id;
        char *l3_cache_schema;
        char *mem_bw_schema;
        char **schemata; size_t n_schemata;
        opt_bool enable_monitoring;
};

struct oci_seccomp_arg {
        uint32_t index;
        uint64_t value;
        opt_u64 value_two;
        char *op;              /* SCMP_CMP_* */
};

struct oci_seccomp_syscall {
        char **names; size_t n_names;
        char *action;          /* SCMP_ACT_* */
        opt_u64 errno_ret;
        struct oci_seccomp_arg *args; size_t n_args;
};

struct oci_seccomp {
        char *default_action;
        opt_u64 default_errno_ret;
        char **architectures; size_t n_architectures;
        char **flags; size_t n_flags;
        char *listener_path;
        char *listener_metadata;
        struct oci_seccomp_syscall *syscalls; size_t n_syscalls;
};

struct oci_personality {
        char *domain;          /* LINUX | LINUX32 */
        char **flags; size_t n_flags;
};

struct oci_memory_policy {
        char *mode;            /* MPOL_* */
        char *nodes;
        char **flags; size_t n_flags;
};

struct oci_linux {
        struct oci_namespace *namespaces; size_t n_namespaces;
        struct oci_id_mapping *uid_mappings; size_t n_uid_mappings;
        struct oci_id_mapping *gid_mappings; size_t n_gid_mappings;
        struct oci_time_offset time_monotonic;
        struct oci_time_offset time_boottime;
        struct oci_device *devices; size_t n_devices;
        struct oci_net_device *net_devices; size_t n_net_devices;
        char *cgroups_path;
        struct oci_resources *resources;
        struct oci_intel_rdt *intel_rdt;
        struct oci_kv *sysctl; size_t n_sysctl;
        struct oci_seccomp *seccomp;
        char *rootfs_propagation;
        char **masked_paths;   size_t n_masked_paths;
        char **readonly_paths; size_t n_readonly_paths;
        char *mount_label;
        struct oci_personality *personality;
        struct oci_memory_policy *memory_policy;
};

/* --------------------------------------------------------------------- vm */

struct oci_vm_iomem {
        opt_u64 first_gfn;
        uint64_t first_mfn;    /* REQUIRED */
        uint64_t nr_mfns;      /* REQUIRED */
};

struct oci_vm {
        char *hypervisor_path;
        char **hypervisor_parameters; size_t n_hypervisor_parameters;
        char *kernel_path;     /* REQUIRED when vm is present */
        char **kernel_parameters; size_t n_kernel_parameters;
        char *kernel_initrd;
        char *image_path;
        char *image_format;
        opt_u64 hw_vcpus;
        opt_u64 hw_memory;     /* bytes */
        char *hw_device_tree;
        char **hw_dtdevs; size_t n_hw_dtdevs;
        struct oci_vm_iomem *hw_iomems; size_t n_hw_iomems;
        uint32_t *hw_irqs; size_t n_hw_irqs;
};

/* ----------------------------------------------------------------- config */

struct oci_config {
        char *oci_version;
        struct oci_root *root;
        struct oci_mount *mounts; size_t n_mounts;
        struct oci_process *process;
        char *hostname;
        char *domainname;
        struct oci_hooks *hooks;
        struct oci_kv *annotations; size_t n_annotations;
        struct oci_linux *linux_;
        struct oci_vm *vm;
        /* Platform objects husk does not run but must still accept. */
        bool has_windows, has_solaris, has_freebsd, has_zos;
};

/* Parse a config.json document. On failure err names the JSON path and the
 * cause, e.g. "linux.resources.memory.limit: expected integer". The result
 * is also validated against the spec (oci_config_validate). */
int oci_config_parse(const char *json, size_t len, struct oci_config **out, herr_t *err);

/* Read <bundle>/config.json and parse it; errors start with "config.json: ". */
int oci_config_load(const char *path, struct oci_config **out, herr_t *err);

/* Semantic checks of config.md/config-linux.md that a schema cannot express
 * (absolute paths, duplicate namespaces, valid capability names, ...). */
int oci_config_validate(const struct oci_config *c, herr_t *err);

/* Checks that only matter when husk is about to run the config on Linux:
 * process and root present, process.args non-empty, no non-linux platform. */
int oci_config_validate_runnable(const struct oci_config *c, herr_t *err);

void oci_config_free(struct oci_config *c);

/* Enum <-> string tables. */
const char *oci_ns_type_name(enum oci_ns_type t);     /* "pid", "network", ... */
int oci_ns_type_from_name(const char *name);          /* -1 when unknown */

/* Look up an annotation; NULL when absent. */
const char *oci_config_annotation(const struct oci_config *c, const char *key);
/* The namespace entry of that type, or NULL when the config has none. */
const struct oci_namespace *oci_config_namespace(const struct oci_config *c, enum oci_ns_type t);

#endif
