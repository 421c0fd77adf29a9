/* runtime/exec.h: run a new process in a running container (husk exec). */
#ifndef HUSK_RUNTIME_EXEC_H
#define HUSK_RUNTIME_EXEC_H

#include <stdbool.h>

#include "../common/error.h"
#include "../spec/config.h"

struct exec_opts {
        const char *root;
        const char *id;
        const char *pid_file;
        const char *console_socket;
        bool detach;
        int preserve_fds;
        bool no_seccomp;              /* not used by the CLI: seccomp always applies */
};

/* Run p in container id: it joins every namespace and the cgroup of the
 * container's init, chroots into its root, gets p's attributes, ids,
 * capabilities and the container's seccomp filter. With detach, returns 0
 * once p runs; else waits and returns its exit status (128+N on signal N).
 * Returns -1 with err on failure before p runs. */
int container_exec(const struct exec_opts *o, struct oci_process *p, herr_t *err);

/* Check that json is exactly one JSON object (no trailing data); err
 * starts with what. */
int json_one_object(const char *json, size_t len, const char *what, herr_t *err);

/* Parse a process.json document (the "process" object of config.md). */
int exec_parse_process(const char *json, size_t len, struct oci_config **holder, herr_t *err);

#endif
