/* vmrun: boot husk's VM and run one command in it (test/dev tool).
 * Usage: vmrun [--share DIR] [--ro] [--9p|--virtiofs] [--append ARGS]
 *              [--kernel VMLINUX] [--data-dir DIR] [--agent PATH]
 *              [--mem MIB] [--cpus N] [--tcg|--kvm] [--tty] [--cgroup-procs FILE]
 *              [-v] -- CMD [ARG...]
 * Exits with the command's exit status (128+N when killed by signal N),
 * 125 when the VM could not run it. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <time.h>

#include "../../vm/vm.h"

int main(int argc, char **argv)
{
        static const struct option lo[] = {
                { "share", 1, 0, 's' }, { "ro", 0, 0, 'r' }, { "9p", 0, 0, '9' },
                { "virtiofs", 0, 0, 'f' }, { "append", 1, 0, 'a' }, { "kernel", 1, 0, 'k' },
                { "data-dir", 1, 0, 'd' }, { "agent", 1, 0, 'g' }, { "mem", 1, 0, 'm' },
                { "cpus", 1, 0, 'c' }, { "tcg", 0, 0, 't' }, { "kvm", 0, 0, 'K' },
                { "tty", 0, 0, 'T' }, { "cgroup-procs", 1, 0, 'C' }, { 0 } };
        struct vm_opts o = { .die_with_parent = true };
        int verbose = 0, tty = 0, c;
        while ((c = getopt_long(argc, argv, "+v", lo, NULL)) != -1) {
                switch (c) {
                case 's': o.share_dir = optarg; break;
                case 'r': o.share_ro = true; break;
                case '9': o.share_kind = VM_SHARE_9P; break;
                case 'f': o.share_kind = VM_SHARE_VIRTIOFS; break;
                case 'a': o.extra_cmdline = optarg; break;
                case 'k': o.kernel = optarg; break;
                case 'd': o.data_dir = optarg; break;
                case 'g': o.agent = optarg; break;
                case 'm': o.mem_bytes = strtoull(optarg, NULL, 10) << 20; break;
                case 'c': o.vcpus = (unsigned)atoi(optarg); break;
                case 't': o.accel = VM_ACCEL_TCG; break;
                case 'K': o.accel = VM_ACCEL_KVM; break;
                case 'v': verbose = 1; break;
                case 'T': tty = 1; break;
                case 'C': o.cgroup_procs = optarg; break;
                default: return 125;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "vmrun: no command\n");
                return 125;
        }
        struct vm_process p;
        vm_process_init(&p, argv + optind);
        p.terminal = tty;
        struct winsize ws;
        if (tty && ioctl(0, TIOCGWINSZ, &ws) == 0) {
                p.rows = ws.ws_row;
                p.cols = ws.ws_col;
        } else if (tty) {
                p.rows = 24;
                p.cols = 80;
        }
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGHUP);
        if (tty)
                sigaddset(&set, SIGWINCH);
        sigprocmask(SIG_BLOCK, &set, NULL);
        p.signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
        herr_t err = { 0 };
        struct vm *vm;
        struct timespec t0, t1, t2;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (vm_start(&o, &vm, &err) < 0) {
                fprintf(stderr, "vmrun: %s\n", err.msg);
                return 125;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (verbose)
                fprintf(stderr, "vmrun: %s; agent ready after %.2f s\n", vm_accel_notice(vm),
                        (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
        int status = 125;
        int r = vm_exec(vm, &p, &status, &err);
        if (r == 0)
                r = vm_wait(vm, 10000, &err);
        vm_free(vm);
        clock_gettime(CLOCK_MONOTONIC, &t2);
        if (r < 0) {
                fprintf(stderr, "vmrun: %s\n", err.msg);
                return 125;
        }
        if (verbose)
                fprintf(stderr, "vmrun: exit status %d, total %.2f s\n", status,
                        (double)(t2.tv_sec - t0.tv_sec) + (t2.tv_nsec - t0.tv_nsec) / 1e9);
        return status;
}
