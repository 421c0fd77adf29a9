/* bench/lifecycle: container lifecycle latency and peak RSS of an OCI
 * runtime, so husk, runc and crun are measured by the same code.
 *
 *   lifecycle RUNTIME BUNDLE N [EXTRA_GLOBAL_ARG]
 *
 * Prints one line: median `run` time of /bin/true (ms), median
 * create+start+delete time (ms), and the peak RSS (KiB) of any runtime
 * process (wait4 rusage of each command; a runtime that forks keeps its
 * children's peak in RUSAGE_CHILDREN of the command we wait for). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long peak_kib;

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int run(char *const argv[])
{
        pid_t pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);
                if (null >= 0) {
                        dup2(null, 1);
                        dup2(null, 0);
                }
                execv(argv[0], argv);
                _exit(127);
        }
        int status;
        struct rusage ru;
        if (wait4(pid, &status, 0, &ru) < 0)
                return -1;
        if (ru.ru_maxrss > peak_kib)
                peak_kib = ru.ru_maxrss;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
        qsort(v, (size_t)n, sizeof *v, cmp);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}



int main(int argc, char **argv)
{
        if (argc < 5) {
                fprintf(stderr, "usage: lifecycle RUNTIME ROOT BUNDLE N [GLOBAL_ARG...]\n");
                return 2;
        }
        char *rt = argv[1], *root = argv[2], *bundle = argv[3];
        int n = atoi(argv[4]);
        char **extra = argv + 5;
        int nextra = argc - 5;
        double *t_run = calloc((size_t)n, sizeof(double)), *t_csd = calloc((size_t)n, sizeof(double));
        if (!t_run || !t_csd || n < 1)
                return 2;
        char id[64];
        /* One untimed warm-up run per runtime first (page cache, and husk's
         * compiled-seccomp cache): the figures are the steady state. */
        for (int pass = 0; pass < 2; pass++) {
                for (int i = pass == 0 ? -1 : 0; i < n; i++) {
                        snprintf(id, sizeof id, "bench-%d-%d", (int)getpid(), i);
                        char *av[32];
                        int k = 0;
                        av[k++] = rt;
                        for (int e = 0; e < nextra; e++)
                                av[k++] = extra[e];
                        av[k++] = "--root";
                        av[k++] = root;
                        int base = k;
                        double t0 = now_ms();
                        int rc;
                        if (pass == 0) {
                                av[k++] = "run";
                                av[k++] = "--bundle";
                                av[k++] = bundle;
                                av[k++] = id;
                                av[k] = NULL;
                                long keep = peak_kib;
                                rc = run(av);
                                if (i < 0) {
                                        peak_kib = keep; /* the warm-up does not count */
                                        continue;
                                }
                                t_run[i] = now_ms() - t0;
                        } else {
                                av[k++] = "create";
                                av[k++] = "--bundle";
                                av[k++] = bundle;
                                av[k++] = id;
                                av[k] = NULL;
                                rc = run(av);
                                k = base;
                                av[k++] = "start";
                                av[k++] = id;
                                av[k] = NULL;
                                rc |= run(av);
                                /* wait until stopped, then delete */
                                k = base;
                                av[k++] = "delete";
                                av[k++] = "--force";
                                av[k++] = id;
                                av[k] = NULL;
                                rc |= run(av);
                                t_csd[i] = now_ms() - t0;
                        }
                        if (rc != 0) {
                                fprintf(stderr, "%s: iteration %d of pass %d failed (%d)\n", rt, i, pass, rc);
                                return 1;
                        }
                }
        }
        printf("%.2f %.2f %ld\n", median(t_run, n), median(t_csd, n), peak_kib);
        free(t_run);
        free(t_csd);
        return 0;
}
