/* Unit tests of the generated device filter: a tiny interpreter runs the
 * BPF program on (type, access, major, minor) like the kernel would. The
 * native attach test lives in test_cgroups_native.c. */
#include <criterion/criterion.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>

#include "../../cgroups/cgroups.h"

/* Interpreter for the instructions the generator uses. */
static int run(const struct bpf_insn *p, size_t n, uint32_t type, uint32_t access, uint32_t major,
               uint32_t minor)
{
        uint32_t ctx[3] = {(access << 16) | type, major, minor};
        uint64_t r[11] = {0};
        for (size_t pc = 0; pc < n; pc++) {
                const struct bpf_insn *i = &p[pc];
                uint8_t cls = BPF_CLASS(i->code), op = BPF_OP(i->code);
                uint64_t src = BPF_SRC(i->code) == BPF_X ? r[i->src_reg] : (uint64_t)(int64_t)i->imm;
                if (cls == BPF_LDX) {
                        cr_assert_eq(i->src_reg, 1);
                        r[i->dst_reg] = ctx[i->off / 4];
                } else if (cls == BPF_ALU64) {
                        switch (op) {
                        case BPF_MOV: r[i->dst_reg] = src; break;
                        case BPF_AND: r[i->dst_reg] &= src; break;
                        case BPF_RSH: r[i->dst_reg] >>= src; break;
                        default: cr_assert_fail("alu op %x", op);
                        }
                } else if (cls == BPF_JMP) {
                        if (op == BPF_EXIT)
                                return (int)r[0];
                        bool jump = op == BPF_JEQ ? r[i->dst_reg] == src : r[i->dst_reg] != src;
                        cr_assert(op == BPF_JEQ || op == BPF_JNE, "jmp op %x", op);
                        if (jump)
                                pc += i->off;
                        cr_assert_lt(pc, n, "jump out of the program");
                } else {
                        cr_assert_fail("class %x", cls);
                }
        }
        cr_assert_fail("fell off the end");
        return -1;
}

#define C BPF_DEVCG_DEV_CHAR
#define B BPF_DEVCG_DEV_BLOCK
#define RD BPF_DEVCG_ACC_READ
#define WR BPF_DEVCG_ACC_WRITE
#define MK BPF_DEVCG_ACC_MKNOD

/* The kernel verifier refuses unreachable instructions: check them here. */
static void all_reachable(const struct bpf_insn *p, size_t n)
{
        bool seen[256] = {false};
        cr_assert_leq(n, 256);
        seen[0] = true;
        for (size_t pc = 0; pc < n; pc++) {
                if (!seen[pc])
                        cr_assert_fail("instruction %zu is unreachable", pc);
                uint8_t cls = BPF_CLASS(p[pc].code), op = BPF_OP(p[pc].code);
                if (cls == BPF_JMP && op == BPF_EXIT)
                        continue;
                if (pc + 1 < n)
                        seen[pc + 1] = true;
                if (cls == BPF_JMP && pc + 1 + p[pc].off < n)
                        seen[pc + 1 + p[pc].off] = true;
        }
        cr_assert_eq(BPF_OP(p[n - 1].code), BPF_EXIT, "the program must end with exit");
}

static struct bpf_insn *prog;
static size_t n_prog;

static void gen(const struct oci_device_cgroup *rules, size_t n)
{
        herr_t e;
        free(prog);
        prog = NULL;
        cr_assert_eq(cg_devices_prog(rules, n, (void **)&prog, &n_prog, &e), 0, "%s", e.msg);
        all_reachable(prog, n_prog);
}

static void fini(void)
{
        free(prog);
        prog = NULL;
}

TestSuite(cgroups_devices, .fini = fini);

Test(cgroups_devices, empty_list_denies_everything)
{
        gen(NULL, 0);
        cr_assert_eq(run(prog, n_prog, C, RD, 1, 3), 0);
        cr_assert_eq(run(prog, n_prog, B, WR, 8, 0), 0);
}

Test(cgroups_devices, later_rules_take_precedence)
{
        struct oci_device_cgroup r[] = {
                {.allow = false, .access = "rwm"},                                        /* deny all */
                {.allow = true, .type = "c", .major = {true, 1}, .minor = {true, 3}, .access = "rwm"},
                {.allow = true, .type = "c", .major = {true, 1}, .access = "r"},       /* c 1:* r */
                {.allow = false, .type = "c", .major = {true, 1}, .minor = {true, 3}, .access = "w"},
        };
        gen(r, 4);
        cr_assert_eq(run(prog, n_prog, C, RD, 1, 3), 1, "c 1:3 read allowed");
        cr_assert_eq(run(prog, n_prog, C, WR, 1, 3), 0, "c 1:3 write denied by the last rule");
        cr_assert_eq(run(prog, n_prog, C, RD | WR, 1, 3), 0, "rw open denied (w is denied)");
        cr_assert_eq(run(prog, n_prog, C, MK, 1, 3), 1, "c 1:3 mknod allowed by rule 2");
        cr_assert_eq(run(prog, n_prog, C, RD, 1, 5), 1, "c 1:5 read allowed by rule 3");
        cr_assert_eq(run(prog, n_prog, C, WR, 1, 5), 0, "c 1:5 write: only the deny-all matches");
        cr_assert_eq(run(prog, n_prog, B, RD, 1, 3), 0, "block 1:3 is not char 1:3");
        cr_assert_eq(run(prog, n_prog, C, RD, 2, 3), 0);
}

Test(cgroups_devices, allow_needs_every_requested_access)
{
        struct oci_device_cgroup r[] = {{.allow = true, .type = "c", .major = {true, 10}, .minor = {true, 200},
                                         .access = "rw"}};
        gen(r, 1);
        cr_assert_eq(run(prog, n_prog, C, RD | WR, 10, 200), 1);
        cr_assert_eq(run(prog, n_prog, C, RD | MK, 10, 200), 0);
        cr_assert_eq(run(prog, n_prog, C, MK, 10, 200), 0);
}

Test(cgroups_devices, wildcards_and_type_a)
{
        struct oci_device_cgroup r[] = {
                {.allow = true, .type = "a", .access = "m"},
                {.allow = true, .type = "b", .minor = {true, 0}, .access = "rwm"},
        };
        gen(r, 2);
        cr_assert_eq(run(prog, n_prog, C, MK, 5, 1), 1);
        cr_assert_eq(run(prog, n_prog, B, MK, 259, 7), 1);
        cr_assert_eq(run(prog, n_prog, B, RD, 259, 0), 1);
        cr_assert_eq(run(prog, n_prog, B, RD, 259, 1), 0);
        cr_assert_eq(run(prog, n_prog, C, RD, 259, 0), 0);
}

Test(cgroups_devices, allow_all_then_deny_one)
{
        struct oci_device_cgroup r[] = {
                {.allow = true},
                {.allow = false, .type = "c", .major = {true, 1}, .minor = {true, 3}},
        };
        gen(r, 2);
        cr_assert_eq(run(prog, n_prog, C, RD, 1, 3), 0);
        cr_assert_eq(run(prog, n_prog, C, RD, 1, 5), 1);
        cr_assert_eq(run(prog, n_prog, B, WR, 8, 0), 1);
}

Test(cgroups_devices, invalid_rules_are_errors)
{
        herr_t e;
        void *p = NULL;
        size_t n;
        struct oci_device_cgroup r = {.allow = true, .type = "x"};
        cr_assert_eq(cg_devices_prog(&r, 1, &p, &n, &e), -1);
        cr_assert_str_eq(e.msg, "linux.resources.devices[0].type: 'x' is not a, b or c");
        r = (struct oci_device_cgroup){.allow = true, .access = "rwx"};
        cr_assert_eq(cg_devices_prog(&r, 1, &p, &n, &e), -1);
        cr_assert_not_null(strstr(e.msg, "devices[0].access: 'rwx'"), "%s", e.msg);
        r = (struct oci_device_cgroup){.allow = true, .major = {true, -4}};
        cr_assert_eq(cg_devices_prog(&r, 1, &p, &n, &e), -1);
        cr_assert_not_null(strstr(e.msg, "devices[0]: device -4:-1 is not valid"), "%s", e.msg);
        cr_assert_null(p);
}

Test(cgroups_devices, default_rules_after_deny_all)
{
        const struct oci_device_cgroup *d;
        size_t nd = cg_default_device_rules(&d);
        struct oci_device_cgroup r[32] = {{.allow = false, .access = "rwm"}};
        cr_assert_lt(nd, 31);
        memcpy(r + 1, d, nd * sizeof *d);
        gen(r, nd + 1);
        const uint32_t open_ok[][2] = {{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2}, {136, 4}};
        for (size_t i = 0; i < sizeof open_ok / sizeof open_ok[0]; i++)
                cr_assert_eq(run(prog, n_prog, C, RD | WR, open_ok[i][0], open_ok[i][1]), 1, "c %u:%u",
                             open_ok[i][0], open_ok[i][1]);
        cr_assert_eq(run(prog, n_prog, C, RD, 1, 1), 0, "/dev/mem stays closed");
        cr_assert_eq(run(prog, n_prog, C, RD, 10, 200), 0, "/dev/net/tun needs a config rule");
        cr_assert_eq(run(prog, n_prog, B, MK, 8, 0), 1, "mknod is allowed");
        cr_assert_eq(run(prog, n_prog, B, RD, 8, 0), 0, "opening a disk is not");
}
