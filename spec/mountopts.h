/* spec/mountopts.h: the mount options husk understands (config.md mounts,
 * mount(8) names). One table serves the runtime and `husk features`. */
#ifndef HUSK_SPEC_MOUNTOPTS_H
#define HUSK_SPEC_MOUNTOPTS_H

#include <stdbool.h>
#include <stddef.h>

enum mount_opt_kind {
        MOPT_FLAG,          /* sets (or with .clear, clears) an MS_* flag */
        MOPT_PROPAGATION,   /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (+MS_REC) */
        MOPT_BIND,          /* bind / rbind */
        MOPT_IGNORED,       /* accepted, no effect for husk (e.g. tmpcopyup) */
};

struct mount_opt {
        const char *name;
        enum mount_opt_kind kind;
        bool clear;
        unsigned long flag;
};

const struct mount_opt *mount_opt_lookup(const char *name);
/* Iterate: returns the i-th entry or NULL past the end. */
const struct mount_opt *mount_opt_at(size_t i);

#endif
