/* `husk check` for VM mode: what is there, what is missing, which
 * accelerator will be used and why. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "vm.h"

static char *which(const char *prog)
{
        if (strchr(prog, '/'))
                return access(prog, X_OK) == 0 ? strdup(prog) : NULL;
        const char *path = getenv("PATH");
        _cleanup_free_ char *copy = strdup(path ? path : "/usr/bin:/bin");
        for (char *save, *d = copy ? strtok_r(copy, ":", &save) : NULL; d;
             d = strtok_r(NULL, ":", &save)) {
                char *p = NULL;
                if (asprintf(&p, "%s/%s", d, prog) < 0)
                        return NULL;
                if (access(p, X_OK) == 0)
                        return p;
                free(p);
        }
        return NULL;
}

int vm_check(const struct vm_opts *o, char **report, herr_t *err)
{
        char *buf = NULL, reason[160];
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return herr_sys(err, "vm check");
        const char *env = getenv("HUSK_DATA_DIR");
        const char *data = o->data_dir ? o->data_dir : env && *env ? env : "/var/lib/husk";
        _cleanup_free_ char *qemu = which(o->qemu ? o->qemu : "qemu-system-x86_64");
        _cleanup_free_ char *kernel = NULL;
        if (o->kernel)
                kernel = strdup(o->kernel);
        else if (asprintf(&kernel, "%s/kernel/current/vmlinux", data) < 0)
                kernel = NULL;
        bool have_kernel = kernel && access(kernel, R_OK) == 0;
        (void)vm_kvm_usable(reason, sizeof(reason));
        fprintf(f, "vm: qemu: %s\n", qemu ? qemu : "not found (apt-get install qemu-system-x86)");
        fprintf(f, "vm: kernel: %s%s\n", kernel ? kernel : "?",
                have_kernel ? "" : " missing (make vm-kernel)");
        fprintf(f, "vm: rootfs share: %s\n", access("/usr/lib/qemu/virtiofsd", X_OK) == 0
                                                    ? "virtiofs (/usr/lib/qemu/virtiofsd)"
                                                    : "virtio-9p (no virtiofsd)");
        fprintf(f, "vm: accelerator: %s\n", reason);
        fprintf(f, "vm: vsock: %s\n", access("/dev/vhost-vsock", R_OK | W_OK) == 0
                                              ? "available (unused: virtio-serial is the channel)"
                                              : "no /dev/vhost-vsock (virtio-serial is the channel)");
        if (fclose(f) != 0) {
                free(buf);
                return herr_sys(err, "vm check");
        }
        *report = buf;
        if (!qemu)
                return herr_set(err, ENOENT, "VM mode: qemu-system-x86_64 not found");
        if (!have_kernel)
                return herr_set(err, ENOENT, "VM mode: no kernel at %s (make vm-kernel)", kernel);
        return 0;
}
