/* VM mode: the container's seccomp filter is compiled on the host (where
 * husk's cache makes it ~1 ms) and handed to the husk in the guest as an
 * entry of its filter cache, <guest root>/.seccomp-cache/<name>: compiling
 * the default profile with libseccomp in the guest costs ~70 ms under TCG.
 * The guest's husk checks the entry like any cache entry (the key holds the
 * profile, the husk and libseccomp versions and the arch, compared in full)
 * and compiles the filter itself when it does not match. */
#include "vm_mode.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "../seccomp/seccomp.h"
#include "log.h"

bool vm_seccomp_entry(const struct oci_config *cfg, const char *root, struct vm_guest_file *f)
{
        const struct oci_seccomp *s = cfg->linux_ ? cfg->linux_->seccomp : NULL;
        char dir[PATH_MAX], name[17];
        struct seccomp_prog prog;
        herr_t err = { 0 };
        *f = (struct vm_guest_file){ 0 };
        if (!s || snprintf(dir, sizeof(dir), "%s/.seccomp-cache", root) >= (int)sizeof(dir))
                return false;
        seccomp_set_warn(NULL); /* the guest's husk warns about unknown syscalls */
        int r = seccomp_prepare(s, dir, &prog, &err);
        seccomp_set_warn(husk_warn_str);
        if (r < 0)
                return false; /* the guest's husk reports it */
        r = seccomp_cache_entry(s, &prog, name, &f->data, &f->len, &err);
        seccomp_prog_free(&prog);
        if (r < 0)
                return false;
        snprintf(f->path, sizeof(f->path), "%s/.seccomp-cache/%s", VM_GUEST_ROOT, name);
        return true;
}
