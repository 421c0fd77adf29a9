/* spec/features_probe.c: probe the host for features (LSMs). */
#include "features_probe.h"

#include <ctype.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "../common/cleanup.h"

bool features_apparmor_enabled(void)
{
        _cleanup_close_ int fd = open("/sys/module/apparmor/parameters/enabled",
                                      O_RDONLY | O_CLOEXEC);
        char c = 0;

        return fd >= 0 && read(fd, &c, 1) == 1 && c == 'Y';
}

bool features_selinux_enabled(void)
{
        return access("/sys/fs/selinux/enforce", F_OK) == 0;
}
