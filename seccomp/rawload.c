/* seccomp/rawload.c: load a libseccomp-built filter with seccomp(2) itself,
 * for filter flags the linked libseccomp has no attribute for (today:
 * SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV before libseccomp 2.6.0). The BPF
 * is the one libseccomp would load (seccomp_export_bpf of the same ctx). */
#include "seccomp_internal.h"

#include <errno.h>
#include <linux/filter.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/cleanup.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

static int export_bpf(scmp_filter_ctx ctx, struct sock_fprog *prog, herr_t *err)
{
        _cleanup_close_ int fd = memfd_create("husk-seccomp-bpf", MFD_CLOEXEC);
        struct stat st;
        if (fd < 0)
                return herr_sys(err, "linux.seccomp: memfd_create");
        int r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return herr_set(err, -r, "linux.seccomp: exporting the filter");
        if (fstat(fd, &st) < 0)
                return herr_sys(err, "linux.seccomp: fstat");
        size_t len = (size_t)st.st_size;
        if (len == 0 || len % sizeof(struct sock_filter) || len / sizeof(struct sock_filter) > 0xffff)
                return herr_set(err, EINVAL, "linux.seccomp: exported filter of %zu bytes", len);
        struct sock_filter *insns = malloc(len);
        if (!insns)
                return herr_set(err, ENOMEM, "linux.seccomp: filter");
        if (pread(fd, insns, len, 0) != (ssize_t)len) {
                free(insns);
                return herr_sys(err, "linux.seccomp: reading the exported filter");
        }
        prog->len = (unsigned short)(len / sizeof(struct sock_filter));
        prog->filter = insns;
        return 0;
}

static unsigned long kernel_flags(const struct oci_seccomp *s, bool notify)
{
        unsigned long f = notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
        for (size_t i = 0; i < s->n_flags; i++) {
                const char *n = s->flags[i];
                if (strcmp(n, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
                        f |= SECCOMP_FILTER_FLAG_TSYNC;
                else if (strcmp(n, "SECCOMP_FILTER_FLAG_LOG") == 0)
                        f |= SECCOMP_FILTER_FLAG_LOG;
                else if (strcmp(n, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
                        f |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
                else if (strcmp(n, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0 && notify)
                        f |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
        }
        /* TSYNC reports a failing thread id, which would collide with the
         * listener fd: the kernel wants TSYNC_ESRCH with NEW_LISTENER. */
        if ((f & SECCOMP_FILTER_FLAG_TSYNC) && notify)
                f |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
        return f;
}

int seccomp_raw_load(scmp_filter_ctx ctx, const struct oci_seccomp *s, bool notify,
                     int *notify_fd, herr_t *err)
{
        struct sock_fprog prog;
        if (export_bpf(ctx, &prog, err) < 0)
                return -1;
        unsigned long flags = kernel_flags(s, notify);
        long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
        int saved = errno;
        free(prog.filter);
        if (r < 0 && saved == EACCES)
                return herr_set(err, saved, "linux.seccomp: loading the filter needs no_new_privs or CAP_SYS_ADMIN");
        if (r < 0)
                return herr_set(err, saved, "linux.seccomp: seccomp(SECCOMP_SET_MODE_FILTER, 0x%lx)", flags);
        if (notify) {
                *notify_fd = (int)r;   /* the kernel opens it O_CLOEXEC */
                return 0;
        }
        if (r > 0)
                return herr_set(err, 0, "linux.seccomp: TSYNC: thread %ld could not be synchronised", r);
        return 0;
}
