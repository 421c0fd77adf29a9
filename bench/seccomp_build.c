/* bench/seccomp_build.c: time building (not loading) the default seccomp
 * profile's filter: seccomp_build + seccomp_export_bpf to /dev/null, 100
 * runs, median in microseconds. Also reports the BPF program size with the
 * binary-tree optimisation husk uses and with libseccomp's linear default. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../seccomp/seccomp.h"

#define RUNS 100

static double now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

/* BPF instructions of the default profile at an optimisation level. */
static long bpf_insns(int level)
{
        herr_t err;
        scmp_filter_ctx ctx;
        struct stat st;
        int fd = memfd_create("bpf", MFD_CLOEXEC);
        if (fd < 0 || seccomp_build(seccomp_default_profile(), &ctx, &err) < 0)
                return -1;
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, (uint32_t)level);
        int r = seccomp_export_bpf(ctx, fd);
        seccomp_release(ctx);
        long n = r == 0 && fstat(fd, &st) == 0 ? (long)(st.st_size / 8) : -1;
        close(fd);
        return n;
}

int main(void)
{
        double t[RUNS];
        herr_t err;
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null < 0) {
                perror("/dev/null");
                return 1;
        }
        for (int i = 0; i < RUNS; i++) {
                scmp_filter_ctx ctx;
                double t0 = now_us();
                if (seccomp_build(seccomp_default_profile(), &ctx, &err) < 0) {
                        fprintf(stderr, "bench-seccomp: %s\n", err.msg);
                        return 1;
                }
                int r = seccomp_export_bpf(ctx, null);
                seccomp_release(ctx);
                t[i] = now_us() - t0;
                if (r < 0) {
                        fprintf(stderr, "bench-seccomp: seccomp_export_bpf failed (%d)\n", r);
                        return 1;
                }
        }
        close(null);
        qsort(t, RUNS, sizeof t[0], cmp_double);
        printf("seccomp default profile: build+export median %.0f us (min %.0f, max %.0f, %d runs)\n",
               (t[RUNS / 2 - 1] + t[RUNS / 2]) / 2, t[0], t[RUNS - 1], RUNS);
        printf("seccomp default profile: %ld BPF instructions (binary tree), %ld (linear)\n",
               bpf_insns(2), bpf_insns(1));
        return 0;
}
