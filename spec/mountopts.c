#include "mountopts.h"

#include <string.h>
#include <sys/mount.h>

static const struct mount_opt opts[] = {
        { "ro", MOPT_FLAG, false, MS_RDONLY },
        { "rw", MOPT_FLAG, true, MS_RDONLY },
        { "nosuid", MOPT_FLAG, false, MS_NOSUID },
        { "suid", MOPT_FLAG, true, MS_NOSUID },
        { "nodev", MOPT_FLAG, false, MS_NODEV },
        { "dev", MOPT_FLAG, true, MS_NODEV },
        { "noexec", MOPT_FLAG, false, MS_NOEXEC },
        { "exec", MOPT_FLAG, true, MS_NOEXEC },
        { "sync", MOPT_FLAG, false, MS_SYNCHRONOUS },
        { "async", MOPT_FLAG, true, MS_SYNCHRONOUS },
        { "dirsync", MOPT_FLAG, false, MS_DIRSYNC },
        { "remount", MOPT_FLAG, false, MS_REMOUNT },
        { "mand", MOPT_FLAG, false, MS_MANDLOCK },
        { "nomand", MOPT_FLAG, true, MS_MANDLOCK },
        { "atime", MOPT_FLAG, true, MS_NOATIME },
        { "noatime", MOPT_FLAG, false, MS_NOATIME },
        { "diratime", MOPT_FLAG, true, MS_NODIRATIME },
        { "nodiratime", MOPT_FLAG, false, MS_NODIRATIME },
        { "relatime", MOPT_FLAG, false, MS_RELATIME },
        { "norelatime", MOPT_FLAG, true, MS_RELATIME },
        { "strictatime", MOPT_FLAG, false, MS_STRICTATIME },
        { "nostrictatime", MOPT_FLAG, true, MS_STRICTATIME },
        { "silent", MOPT_FLAG, false, MS_SILENT },
        { "loud", MOPT_FLAG, true, MS_SILENT },
        { "lazytime", MOPT_FLAG, false, MS_LAZYTIME },
        { "nolazytime", MOPT_FLAG, true, MS_LAZYTIME },
        { "bind", MOPT_BIND, false, MS_BIND },
        { "rbind", MOPT_BIND, false, MS_BIND | MS_REC },
        { "shared", MOPT_PROPAGATION, false, MS_SHARED },
        { "rshared", MOPT_PROPAGATION, false, MS_SHARED | MS_REC },
        { "slave", MOPT_PROPAGATION, false, MS_SLAVE },
        { "rslave", MOPT_PROPAGATION, false, MS_SLAVE | MS_REC },
        { "private", MOPT_PROPAGATION, false, MS_PRIVATE },
        { "rprivate", MOPT_PROPAGATION, false, MS_PRIVATE | MS_REC },
        { "unbindable", MOPT_PROPAGATION, false, MS_UNBINDABLE },
        { "runbindable", MOPT_PROPAGATION, false, MS_UNBINDABLE | MS_REC },
        { "tmpcopyup", MOPT_IGNORED, false, 0 },
        { "defaults", MOPT_IGNORED, false, 0 },
};

const struct mount_opt *mount_opt_lookup(const char *name)
{
        for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
                if (!strcmp(opts[i].name, name))
                        return &opts[i];
        return NULL;
}

const struct mount_opt *mount_opt_at(size_t i)
{
        return i < sizeof opts / sizeof opts[0] ? &opts[i] : NULL;
}
