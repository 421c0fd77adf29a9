/* seccomp/rawload.c: the filter as a BPF program (exported from
 * libseccomp, or read from the cache) loaded with seccomp(2) itself, with
 * the kernel flags of the config: also those the linked libseccomp has no
 * attribute for (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV before 2.6.0). */
#include "seccomp_internal.h"

#include <errno.h>
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

int seccomp_export(scmp_filter_ctx ctx, struct seccomp_prog *p, herr_t *err)
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
        p->len = (unsigned short)(len / sizeof(struct sock_filter));
        p->insns = insns;
        return 0;
}

unsigned long seccomp_kernel_flags(const struct oci_seccomp *s, bool notify)
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

int seccomp_prog_load(const struct seccomp_prog *p, int *notify_fd, herr_t *err)
{
        struct sock_fprog prog = { .len = p->len, .filter = p->insns };
        *notify_fd = -1;
        long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->flags, &prog);
        if (r < 0 && errno == EACCES)
                return herr_sys(err, "linux.seccomp: loading the filter needs no_new_privs or CAP_SYS_ADMIN");
        if (r < 0)
                return herr_sys(err, "linux.seccomp: seccomp(SECCOMP_SET_MODE_FILTER, 0x%lx)", p->flags);
        if (p->notify) {
                *notify_fd = (int)r;   /* the kernel opens it O_CLOEXEC */
                return 0;
        }
        if (r > 0)
                return herr_set(err, 0, "linux.seccomp: TSYNC: thread %ld could not be synchronised", r);
        return 0;
}

void seccomp_prog_free(struct seccomp_prog *p)
{
        free(p->insns);
        p->insns = NULL;
        p->len = 0;
}
