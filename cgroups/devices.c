/* cgroups/devices.c: linux.resources.devices as a BPF_PROG_TYPE_CGROUP_DEVICE
 * program (cgroup v2 has no devices.allow file).
 *
 * The program sees struct bpf_cgroup_dev_ctx: access_type = (access << 16) |
 * type, major, minor. The OCI rules are checked last to first (later rules
 * take precedence); the first rule that matches decides; no match denies.
 * An allow rule matches when every requested access is in its access set,
 * a deny rule when any requested access is in it. */
#include "cgroups.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "../common/cleanup.h"
#include "internal.h"

#define INSN(c, d, s, o, i) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define LDX_W(d, s, o) INSN(BPF_LDX | BPF_W | BPF_MEM, d, s, o, 0)
#define ALU_K(op, d, i) INSN(BPF_ALU64 | (op) | BPF_K, d, 0, 0, i)
#define MOV_X(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define JMP_K(op, d, i, o) INSN(BPF_JMP | (op) | BPF_K, d, 0, o, i)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* A rule turned into numbers: type 0 = any, access mask of BPF_DEVCG_ACC_*,
 * -1 for a wildcard major/minor. */
struct rule {
        bool allow;
        int type;
        int access;
        int64_t major, minor;
};

static int parse_rule(const struct oci_device_cgroup *d, size_t i, struct rule *r, herr_t *err)
{
        r->allow = d->allow;
        if (!d->type || !strcmp(d->type, "a"))
                r->type = 0;
        else if (!strcmp(d->type, "c"))
                r->type = BPF_DEVCG_DEV_CHAR;
        else if (!strcmp(d->type, "b"))
                r->type = BPF_DEVCG_DEV_BLOCK;
        else
                return cg_fail(err, EINVAL, "linux.resources.devices[%zu].type: '%s' is not a, b or c", i, d->type);
        r->access = 0;
        const char *a = d->access ? d->access : "rwm";
        if (!*a)
                return cg_fail(err, EINVAL, "linux.resources.devices[%zu].access: empty", i);
        for (const char *c = a; *c; c++) {
                switch (*c) {
                case 'r': r->access |= BPF_DEVCG_ACC_READ; break;
                case 'w': r->access |= BPF_DEVCG_ACC_WRITE; break;
                case 'm': r->access |= BPF_DEVCG_ACC_MKNOD; break;
                default:
                        return cg_fail(err, EINVAL, "linux.resources.devices[%zu].access: '%s' is not a "
                                        "combination of r, w and m", i, a);
                }
        }
        r->major = d->major.set ? d->major.v : -1;
        r->minor = d->minor.set ? d->minor.v : -1;
        if (r->major < -1 || r->major > 0xfff || r->minor < -1 || r->minor > 0xfffff)
                return cg_fail(err, EINVAL, "linux.resources.devices[%zu]: device %lld:%lld is not valid", i,
                                (long long)r->major, (long long)r->minor);
        return 0;
}

/* Emit one rule's block; jumps to "next" are patched once its length is known. */
static size_t emit_rule(struct bpf_insn *p, const struct rule *r)
{
        const int all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
        size_t n = 0;
        if (r->type)
                p[n++] = JMP_K(BPF_JNE, 2, r->type, 0);
        if (r->access != all) {
                p[n++] = MOV_X(1, 3);
                if (r->allow) {
                        p[n++] = ALU_K(BPF_AND, 1, ~r->access & all);
                        p[n++] = JMP_K(BPF_JNE, 1, 0, 0);
                } else {
                        p[n++] = ALU_K(BPF_AND, 1, r->access);
                        p[n++] = JMP_K(BPF_JEQ, 1, 0, 0);
                }
        }
        if (r->major >= 0)
                p[n++] = JMP_K(BPF_JNE, 4, (int32_t)r->major, 0);
        if (r->minor >= 0)
                p[n++] = JMP_K(BPF_JNE, 5, (int32_t)r->minor, 0);
        p[n++] = ALU_K(BPF_MOV, 0, r->allow ? 1 : 0);
        p[n++] = EXIT();
        /* Every conditional jump goes to the end of this block. */
        for (size_t i = 0; i + 2 < n; i++)
                if (BPF_CLASS(p[i].code) == BPF_JMP)
                        p[i].off = (int16_t)(n - i - 1);
        return n;
}

int cg_devices_prog(const struct oci_device_cgroup *rules, size_t n, void **insns, size_t *n_insns,
                    herr_t *err)
{
        /* 6 prologue + at most 8 per rule + 2 epilogue. */
        _cleanup_free_ struct bpf_insn *p = calloc(6 + 8 * n + 2, sizeof *p);
        if (!p)
                return herr_set(err, ENOMEM, "device filter");
        size_t k = 0;
        p[k++] = LDX_W(2, 1, 0);
        p[k++] = ALU_K(BPF_AND, 2, 0xffff);
        p[k++] = LDX_W(3, 1, 0);
        p[k++] = ALU_K(BPF_RSH, 3, 16);
        p[k++] = LDX_W(4, 1, 4);
        p[k++] = LDX_W(5, 1, 8);
        /* Validate every rule, even those a catch-all makes irrelevant. */
        for (size_t i = 0; i < n; i++) {
                struct rule r = {0};
                if (parse_rule(&rules[i], i, &r, err) < 0)
                        return -1;
        }
        bool catch_all = false;
        for (size_t i = n; i-- > 0 && !catch_all;) {
                struct rule r = {0};
                parse_rule(&rules[i], i, &r, err);
                k += emit_rule(p + k, &r);
                /* The verifier refuses unreachable code after a rule that
                 * matches everything. */
                catch_all = !r.type && r.access == 7 && r.major < 0 && r.minor < 0;
        }
        if (!catch_all) {
                p[k++] = ALU_K(BPF_MOV, 0, 0);
                p[k++] = EXIT();
        }
        *insns = TAKE_PTR(p);
        *n_insns = k;
        return 0;
}

static int bpf(int cmd, union bpf_attr *attr)
{
        return (int)syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

static int load_prog(const struct bpf_insn *insns, size_t n, herr_t *err)
{
        static char log[4096];
        union bpf_attr a;
        memset(&a, 0, sizeof a);
        a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        a.expected_attach_type = BPF_CGROUP_DEVICE;
        a.insns = (uint64_t)(uintptr_t)insns;
        a.insn_cnt = (uint32_t)n;
        a.license = (uint64_t)(uintptr_t)"Apache-2.0";
        int fd = bpf(BPF_PROG_LOAD, &a);
        if (fd >= 0)
                return fd;
        int e = errno;
        /* Retry with the verifier log for the message. */
        log[0] = '\0';
        a.log_buf = (uint64_t)(uintptr_t)log;
        a.log_size = sizeof log;
        a.log_level = 1;
        fd = bpf(BPF_PROG_LOAD, &a);
        if (fd >= 0)
                return fd;
        log[strcspn(log, "\n")] = '\0';
        return herr_set(err, e, "device filter: BPF_PROG_LOAD%s%s", *log ? ": " : "", log);
}

/* Ids of the device programs attached directly to the cgroup. */
static int query_progs(int cgfd, uint32_t *ids, uint32_t *n, herr_t *err)
{
        union bpf_attr a;
        memset(&a, 0, sizeof a);
        a.query.target_fd = (uint32_t)cgfd;
        a.query.attach_type = BPF_CGROUP_DEVICE;
        a.query.prog_ids = (uint64_t)(uintptr_t)ids;
        a.query.prog_cnt = *n;
        if (bpf(BPF_PROG_QUERY, &a) < 0)
                return herr_sys(err, "device filter: BPF_PROG_QUERY");
        *n = a.query.prog_cnt;
        return 0;
}

static int detach_prog(int cgfd, uint32_t id, herr_t *err)
{
        union bpf_attr a;
        memset(&a, 0, sizeof a);
        a.prog_id = id;
        _cleanup_close_ int pfd = bpf(BPF_PROG_GET_FD_BY_ID, &a);
        if (pfd < 0)
                return errno == ENOENT ? 0 : herr_sys(err, "device filter: BPF_PROG_GET_FD_BY_ID %u", id);
        memset(&a, 0, sizeof a);
        a.target_fd = (uint32_t)cgfd;
        a.attach_bpf_fd = (uint32_t)pfd;
        a.attach_type = BPF_CGROUP_DEVICE;
        if (bpf(BPF_PROG_DETACH, &a) < 0 && errno != ENOENT)
                return herr_sys(err, "device filter: BPF_PROG_DETACH %u", id);
        return 0;
}

int cg_devices_apply(const char *dir, const struct oci_device_cgroup *rules, size_t n, herr_t *err)
{
        _cleanup_free_ struct bpf_insn *insns = NULL;
        size_t ni;
        if (cg_devices_prog(rules, n, (void **)&insns, &ni, err) < 0)
                return -1;
        _cleanup_close_ int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cgfd < 0)
                return herr_sys(err, "device filter: cgroup %s", dir);
        uint32_t old[64], n_old = ARRAY_SIZE(old);
        if (query_progs(cgfd, old, &n_old, err) < 0)
                return -1;
        _cleanup_close_ int pfd = load_prog(insns, ni, err);
        if (pfd < 0)
                return -1;
        union bpf_attr a;
        memset(&a, 0, sizeof a);
        a.target_fd = (uint32_t)cgfd;
        a.attach_bpf_fd = (uint32_t)pfd;
        a.attach_type = BPF_CGROUP_DEVICE;
        a.attach_flags = BPF_F_ALLOW_MULTI;
        if (bpf(BPF_PROG_ATTACH, &a) < 0)
                return herr_sys(err, "device filter: BPF_PROG_ATTACH to %s", dir);
        for (uint32_t i = 0; i < n_old && i < ARRAY_SIZE(old); i++)
                if (detach_prog(cgfd, old[i], err) < 0)
                        return -1;
        return 0;
}

/* The runtime-spec default devices (null, zero, full, random, urandom, tty,
 * console, ptmx), the pty slaves (c 136:*), and mknod of any node (opening
 * still needs a rule), as allow rules. */
#define DEV(t, ma, mi, a) {.allow = true, .type = (char *)(t), .major = {ma >= 0, ma}, \
                           .minor = {mi >= 0, mi}, .access = (char *)(a)}
static const struct oci_device_cgroup default_rules[] = {
        DEV("c", -1, -1, "m"), DEV("b", -1, -1, "m"),
        DEV("c", 1, 3, "rwm"), DEV("c", 1, 5, "rwm"), DEV("c", 1, 7, "rwm"),
        DEV("c", 1, 8, "rwm"), DEV("c", 1, 9, "rwm"), DEV("c", 5, 0, "rwm"),
        DEV("c", 5, 1, "rwm"), DEV("c", 5, 2, "rwm"), DEV("c", 136, -1, "rwm"),
};

size_t cg_default_device_rules(const struct oci_device_cgroup **rules)
{
        *rules = default_rules;
        return ARRAY_SIZE(default_rules);
}
