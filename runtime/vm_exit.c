/* VM mode: why a VM container stopped, for the user. The monitor writes
 * the reason to <state dir>/vm-exit ("exited 3", "VM stopped before the
 * process exited: QEMU killed by signal 9 (console: ...)"); `husk state`
 * of a stopped VM container shows it as the annotation husk.vm.exit. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "vm_mode.h"

char *vm_container_exit_reason(int dirfd)
{
        _cleanup_close_ int fd = openat(dirfd, VM_STATE_REASON, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        char *r = NULL;
        size_t len;
        herr_t e = { 0 };
        if (fd < 0 || read_fd(fd, 4096, &r, &len, &e) < 0)
                return NULL;
        r[strcspn(r, "\n")] = '\0';
        return r;
}

int vm_container_annotate_exit(int dirfd, struct container_state *st)
{
        /* The monitor writes a reason before it exits: none means it was
         * killed (QEMU and virtiofsd die with it). */
        _cleanup_free_ char *reason = vm_container_exit_reason(dirfd);
        if (!reason)
                reason = strdup("VM monitor ended without a reason (killed by a signal?): QEMU and "
                                "virtiofsd were stopped with it");
        if (!reason)
                return -1;
        struct oci_kv *a = realloc(st->annotations, (st->n_annotations + 1) * sizeof(*a));
        if (!a)
                return -1;
        st->annotations = a;
        a[st->n_annotations].key = strdup(VM_EXIT_ANNOTATION);
        a[st->n_annotations].value = reason;
        if (!a[st->n_annotations].key)
                return -1;
        reason = NULL;
        st->n_annotations++;
        return 0;
}
