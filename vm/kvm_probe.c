/* Is KVM fit to boot a guest? A nested KVM that emulates every instruction
 * runs a trivial guest but ~1000x slowly, so time a tight loop: 1,000,000
 * iterations of `dec ecx; jnz` in real mode, then HLT. Hardware-assisted KVM
 * needs well under a millisecond; over PROBE_BUDGET_MS means "use TCG". The
 * probe runs in a child process so that a hang can simply be killed. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define PROBE_BUDGET_MS 50
#define GUEST_CODE 0x1000

enum { P_OK, P_NODEV, P_API, P_VM, P_MEM, P_VCPU, P_REGS, P_RUN, P_EXIT, P_SLOW };

static const char *const probe_reason[] = {
        [P_OK] = "KVM available",
        [P_NODEV] = "cannot open /dev/kvm",
        [P_API] = "unsupported KVM API version",
        [P_VM] = "KVM_CREATE_VM failed",
        [P_MEM] = "cannot map guest memory",
        [P_VCPU] = "KVM_CREATE_VCPU failed",
        [P_REGS] = "cannot set vCPU registers",
        [P_RUN] = "KVM_RUN failed",
        [P_EXIT] = "probe guest did not halt",
        [P_SLOW] = "KVM too slow (nested KVM emulating instructions?)",
};

static const uint8_t code[] = {
        0x66, 0xb9, 0x40, 0x42, 0x0f, 0x00, /* mov ecx, 1000000 */
        0x66, 0x49,                         /* dec ecx */
        0x75, 0xfc,                         /* jnz -4 */
        0xf4,                               /* hlt */
};

static long ms_since(const struct timespec *t0)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static int setup_vcpu(int kvm, int vcpu)
{
        struct kvm_sregs sregs;
        struct kvm_regs regs = { .rip = GUEST_CODE, .rflags = 2 };
        (void)kvm;
        if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
                return -1;
        sregs.cs.base = 0;
        sregs.cs.selector = 0;
        if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
                return -1;
        return 0;
}

static int probe_child(int ready_fd)
{
        int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (kvm < 0)
                return P_NODEV;
        if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
                return P_API;
        int vmfd = ioctl(kvm, KVM_CREATE_VM, 0);
        if (vmfd < 0)
                return P_VM;
        uint8_t *mem = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED)
                return P_MEM;
        memcpy(mem + GUEST_CODE, code, sizeof(code));
        struct kvm_userspace_memory_region region = {
                .slot = 0, .guest_phys_addr = 0, .memory_size = 0x2000,
                .userspace_addr = (uint64_t)(uintptr_t)mem,
        };
        if (ioctl(vmfd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
                return P_MEM;
        int vcpu = ioctl(vmfd, KVM_CREATE_VCPU, 0);
        int sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
        if (vcpu < 0 || sz <= 0)
                return P_VCPU;
        struct kvm_run *run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
        if (run == MAP_FAILED)
                return P_VCPU;
        if (setup_vcpu(kvm, vcpu) < 0)
                return P_REGS;
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (write(ready_fd, "r", 1) != 1) /* the parent's budget starts now */
                return P_RUN;
        if (ioctl(vcpu, KVM_RUN, 0) < 0)
                return P_RUN;
        if (run->exit_reason != KVM_EXIT_HLT)
                return P_EXIT;
        return ms_since(&t0) > PROBE_BUDGET_MS ? P_SLOW : P_OK;
}

bool vm_kvm_usable(char *reason, size_t len)
{
        if (access("/dev/kvm", R_OK | W_OK) < 0) {
                snprintf(reason, len, "TCG: /dev/kvm not accessible (%s)", strerror(errno));
                return false;
        }
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0) {
                snprintf(reason, len, "TCG: KVM probe: pipe: %s", strerror(errno));
                return false;
        }
        pid_t pid = fork();
        if (pid < 0) {
                snprintf(reason, len, "TCG: KVM probe: fork: %s", strerror(errno));
                close(pfd[0]);
                close(pfd[1]);
                return false;
        }
        if (pid == 0)
                _exit(probe_child(pfd[1]));
        close(pfd[1]);
        /* wait (up to 1 s) until the guest is about to run, then the budget */
        struct pollfd p = { .fd = pfd[0], .events = POLLIN };
        (void)poll(&p, 1, 1000);
        close(pfd[0]);
        int st;
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (!vm_reap(pid, PROBE_BUDGET_MS + 10, &st)) {
                kill(pid, SIGKILL);
                vm_reap(pid, -1, &st);
                snprintf(reason, len,
                         "TCG: KVM too slow: a 1M-iteration loop did not finish in %d ms "
                         "(nested KVM emulating instructions?)", PROBE_BUDGET_MS);
                return false;
        }
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : P_RUN;
        if (code < 0 || code > P_SLOW)
                code = P_RUN;
        if (code == P_OK) {
                snprintf(reason, len, "KVM: probe loop finished in %ld ms", ms_since(&t0));
                return true;
        }
        snprintf(reason, len, "TCG: %s", probe_reason[code]);
        return false;
}
