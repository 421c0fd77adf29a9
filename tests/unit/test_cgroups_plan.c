/* Unit tests of the linux.resources -> cgroup v2 file mapping, applied to a
 * scratch directory with fake controller files. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../cgroups/cgroups.h"
#include "../../common/fileutil.h"

static char scratch[64];

static void mk_scratch(void)
{
        strcpy(scratch, "/tmp/husk-cgplan-XXXXXX");
        cr_assert_not_null(mkdtemp(scratch));
}

static void rm_scratch(void)
{
        herr_t e;
        remove_tree(scratch, &e);
}

static void touch(const char *name)
{
        char p[256];
        snprintf(p, sizeof p, "%s/%s", scratch, name);
        FILE *f = fopen(p, "w");
        cr_assert_not_null(f, "%s", p);
        fclose(f);
}

static char *slurp(const char *name)
{
        static char buf[4096];
        char p[256];
        snprintf(p, sizeof p, "%s/%s", scratch, name);
        FILE *f = fopen(p, "r");
        cr_assert_not_null(f, "%s", p);
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

/* Plan res, touch every planned file, apply, return 0 or -1. */
static int plan_apply(const struct oci_resources *res, herr_t *e)
{
        struct cg_plan p;
        if (cg_plan(res, &p, e) < 0)
                return -1;
        for (size_t i = 0; i < p.n; i++)
                if (!(p.w[i].flags & CG_W_OPTIONAL))
                        touch(p.w[i].file);
        int r = cg_plan_apply(&p, scratch, e);
        cg_plan_free(&p);
        return r;
}

static void expect_error(const struct oci_resources *res, const char *needle)
{
        struct cg_plan p;
        herr_t e = {0};
        cr_assert_eq(cg_plan(res, &p, &e), -1, "expected an error containing '%s'", needle);
        cr_assert_not_null(strstr(e.msg, needle), "message '%s' lacks '%s'", e.msg, needle);
        cr_assert_eq(p.n, 0);
}

TestSuite(cgroups_plan, .init = mk_scratch, .fini = rm_scratch);

Test(cgroups_plan, memory_limit_reservation_swap)
{
        struct oci_memory m = {.limit = {true, 100 << 20}, .reservation = {true, 50 << 20},
                               .swap = {true, 300 << 20}, .use_hierarchy = {true, true},
                               .disable_oom_killer = {true, false}};
        struct oci_resources r = {.memory = &m};
        herr_t e;
        cr_assert_eq(plan_apply(&r, &e), 0, "%s", e.msg);
        cr_assert_str_eq(slurp("memory.max"), "104857600");
        cr_assert_str_eq(slurp("memory.low"), "52428800");
        cr_assert_str_eq(slurp("memory.swap.max"), "209715200");
}

Test(cgroups_plan, memory_unlimited)
{
        struct oci_memory m = {.limit = {true, -1}, .swap = {true, -1}, .reservation = {true, -1}};
        struct oci_resources r = {.memory = &m};
        herr_t e;
        cr_assert_eq(plan_apply(&r, &e), 0, "%s", e.msg);
        cr_assert_str_eq(slurp("memory.max"), "max");
        cr_assert_str_eq(slurp("memory.low"), "max");
        cr_assert_str_eq(slurp("memory.swap.max"), "max");
}

Test(cgroups_plan, memory_errors)
{
        struct oci_memory m = {.limit = {true, -5}};
        struct oci_resources r = {.memory = &m};
        expect_error(&r, "linux.resources.memory.limit: -5 is negative");
        m = (struct oci_memory){.limit = {true, 1000}, .swap = {true, 10}};
        expect_error(&r, "linux.resources.memory.swap: 10 is below memory.limit 1000");
        m = (struct oci_memory){.swap = {true, 1 << 20}};
        expect_error(&r, "memory.swap: a swap limit needs a memory limit");
        m = (struct oci_memory){.disable_oom_killer = {true, true}};
        expect_error(&r, "memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer");
        m = (struct oci_memory){.swappiness = {true, 10}};
        expect_error(&r, "memory.swappiness");
        m = (struct oci_memory){.kernel_tcp = {true, 4096}};
        expect_error(&r, "memory.kernelTCP");
        m = (struct oci_memory){.reservation = {true, -7}};
        expect_error(&r, "memory.reservation: -7");
}

Test(cgroups_plan, cpu_weight_from_shares)
{
        const struct { uint64_t shares; const char *weight; } t[] = {
                {2, "1"}, {1024, "39"}, {262144, "10000"}, {512, "20"},
        };
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
                struct oci_cpu c = {.shares = {true, t[i].shares}};
                struct oci_resources r = {.cpu = &c};
                herr_t e;
                cr_assert_eq(plan_apply(&r, &e), 0, "%s", e.msg);
                cr_assert_str_eq(slurp("cpu.weight"), t[i].weight, "shares %lu", (unsigned long)t[i].shares);
        }
        struct oci_cpu c = {.shares = {true, 1}};
        struct oci_resources r = {.cpu = &c};
        expect_error(&r, "linux.resources.cpu.shares: 1 is outside 2..262144");
        c.shares.v = 1000000;
        expect_error(&r, "cpu.shares: 1000000");
}

Test(cgroups_plan, cpu_max_burst_idle_cpuset)
{
        struct oci_cpu c = {.quota = {true, 50000}, .period = {true, 200000}, .burst = {true, 10000},
                            .idle = {true, 1}, .cpus = "0-1", .mems = "0"};
        struct oci_resources r = {.cpu = &c};
        herr_t e;
        cr_assert_eq(plan_apply(&r, &e), 0, "%s", e.msg);
        cr_assert_str_eq(slurp("cpu.max"), "50000 200000");
        cr_assert_str_eq(slurp("cpu.max.burst"), "10000");
        cr_assert_str_eq(slurp("cpu.idle"), "1");
        cr_assert_str_eq(slurp("cpuset.cpus"), "0-1");
        cr_assert_str_eq(slurp("cpuset.mems"), "0");

        struct oci_cpu u = {.quota = {true, -1}};
        r.cpu = &u;
        cr_assert_eq(plan_apply(&r, &e), 0, "%s", e.msg);
        cr_assert_str_eq(slurp("cpu.max"), "max 100000");
        struct oci_cpu p = {.period = {true, 50000}};
        r.cpu = &p;
        cr_assert_eq(plan_apply(&r, &e), 0, "%s", e.msg);
        cr_assert_str_eq(slurp("cpu.max"), "max 50000");
}

Test(cgroups_plan, cpu_errors)
{
        struct oci_cpu c = {.quota = {true, 1000}, .burst = {true, 5000}};
        struct oci_resources r = {.cpu = &c};
        expect_error(&r, "cpu.burst: 5000 is larger than quota 1000");
        c = (struct oci_cpu){.quota = {true, 10}};
        expect_error(&r, "linux.resources.cpu.quota: 10 is below 1000");
        c = (struct oci_cpu){.quota = {true, 5000}, .period = {true, 5000000}};
        expect_error(&r, "linux.resources.cpu.period: 5000000 is outside");
        c = (struct oci_cpu){.idle = {true, 2}};
        expect_error(&r, "cpu.idle: 2 is neither 0 nor 1");
        c = (struct oci_cpu){.cpus = "0-3;rm"};
        expect_error(&r, "cpu.cpus: '0-3;rm'");
        const char *bad[] = {"3-1", "1,", ",1", "1--2", "-1", "1,,2", "0-", "1 2", "99999"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                c = (struct oci_cpu){.mems = (char *)bad[i]};
                char needle[64];
                snprintf(needle, sizeof needle, "linux.resources.cpu.mems: '%s' is not a list", bad[i]);
                expect_error(&r, needle);
        }
        const char *good[] = {"0", "0-3,7", "1,3,5-6", "10-10"};
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
                c = (struct oci_cpu){.cpus = (char *)good[i]};
                struct cg_plan p;
                herr_t e;
                cr_assert_eq(cg_plan(&r, &p, &e), 0, "%s: %s", good[i], e.msg);
                cg_plan_free(&p);
        }
        c = (struct oci_cpu){.realtime_runtime = {true, 950000}};
        expect_error(&r, "realtime");
}

Test(cgroups_plan, pids)
{
        struct oci_pids p = {.limit = -1};
        struct oci_resources r = {.pids = &p};
        herr_t e;
        cr_assert_eq(plan_apply(&r, &e), 0, "%s", e.msg);
        cr_assert_str_eq(slurp("pids.max"), "max");
        p.limit = 0;   /* a real limit per the spec */
        cr_assert_eq(plan_apply(&r, &e), 0, "%s", e.msg);
        cr_assert_str_eq(slurp("pids.max"), "0");
        p.limit = 32771;
        cr_assert_eq(plan_apply(&r, &e), 0, "%s", e.msg);
        cr_assert_str_eq(slurp("pids.max"), "32771");
        p.limit = -2;
        expect_error(&r, "linux.resources.pids.limit: -2 is negative");
}

Test(cgroups_plan, io_weight_with_and_without_bfq)
{
        struct oci_block_io b = {.weight = {true, 500}};
        struct oci_resources r = {.block_io = &b};
        herr_t e;
        cr_assert_eq(plan_apply(&r, &e), 0, "%s", e.msg);
        cr_assert_str_eq(slurp("io.weight"), "default 4950");
        char p[256];
        snprintf(p, sizeof p, "%s/io.bfq.weight", scratch);
        cr_assert_eq(access(p, F_OK), -1, "io.bfq.weight must not be created");
        touch("io.bfq.weight");
        cr_assert_eq(plan_apply(&r, &e), 0, "%s", e.msg);
        cr_assert_str_eq(slurp("io.bfq.weight"), "500");
        b.weight.v = 5;
        expect_error(&r, "linux.resources.blockIO.weight: 5 is outside 10..1000");
        b = (struct oci_block_io){.leaf_weight = {true, 10}};
        expect_error(&r, "blockIO.leafWeight");
}

Test(cgroups_plan, io_max_one_line_per_device)
{
        struct oci_throttle_device rb[] = {{8, 0, 1048576}, {8, 16, 0}};
        struct oci_throttle_device wi[] = {{8, 0, 100}};
        struct oci_weight_device wd[] = {{8, 0, {true, 1000}, {false, 0}}};
        struct oci_block_io b = {.throttle_read_bps = rb, .n_throttle_read_bps = 2,
                                 .throttle_write_iops = wi, .n_throttle_write_iops = 1,
                                 .weight_device = wd, .n_weight_device = 1};
        struct oci_resources r = {.block_io = &b};
        struct cg_plan p;
        herr_t e;
        cr_assert_eq(cg_plan(&r, &p, &e), 0, "%s", e.msg);
        cr_assert_eq(p.n, 4);
        cr_assert_str_eq(p.w[0].file, "io.weight");
        cr_assert_str_eq(p.w[0].value, "8:0 10000");
        cr_assert_str_eq(p.w[1].file, "io.bfq.weight");
        cr_assert_str_eq(p.w[1].value, "8:0 1000");
        cr_assert_str_eq(p.w[2].file, "io.max");
        cr_assert_str_eq(p.w[2].value, "8:0 rbps=1048576 wiops=100");
        cr_assert_str_eq(p.w[3].value, "8:16 rbps=max");
        cg_plan_free(&p);
        rb[0].major = -1;
        expect_error(&r, "throttleReadBpsDevice: device -1:0 is not valid");
}

Test(cgroups_plan, hugetlb_and_rdma)
{
        struct oci_hugepage_limit h[] = {{"2MB", 8 << 20}};
        struct oci_rdma d[] = {{"mlx5_1", {true, 3}, {true, 10000}}, {"rxe3", {false, 0}, {true, 7}}};
        struct oci_resources r = {.hugepage_limits = h, .n_hugepage_limits = 1, .rdma = d, .n_rdma = 1};
        herr_t e;
        cr_assert_eq(plan_apply(&r, &e), 0, "%s", e.msg);
        cr_assert_str_eq(slurp("hugetlb.2MB.max"), "8388608");
        cr_assert_str_eq(slurp("rdma.max"), "mlx5_1 hca_handle=3 hca_object=10000");
        r.rdma = d + 1;
        cr_assert_eq(plan_apply(&r, &e), 0, "%s", e.msg);
        cr_assert_str_eq(slurp("rdma.max"), "rxe3 hca_object=7");
        h[0].page_size = "2M";
        expect_error(&r, "hugepageLimits[0].pageSize: '2M'");
        h[0].page_size = "../../x";
        expect_error(&r, "hugepageLimits[0].pageSize");
}

Test(cgroups_plan, network_is_v1_only)
{
        struct oci_network n = {.class_id = {true, 0x100001}};
        struct oci_resources r = {.network = &n};
        expect_error(&r, "linux.resources.network: classID/priorities are cgroup v1 only");
}

Test(cgroups_plan, unified_verbatim_and_key_validation)
{
        struct oci_kv kv[] = {{"memory.high", "1073741824"}, {"io.max", "259:0 rbps=2097152\n253:0 wiops=120"},
                              {"cgroup.max.depth", "3"}, {"hugetlb.1GB.max", "1073741824"}};
        struct oci_resources r = {.unified = kv, .n_unified = 4};
        herr_t e;
        cr_assert_eq(plan_apply(&r, &e), 0, "%s", e.msg);
        cr_assert_str_eq(slurp("memory.high"), "1073741824");
        cr_assert_str_eq(slurp("io.max"), "259:0 rbps=2097152\n253:0 wiops=120");
        cr_assert_str_eq(slurp("cgroup.max.depth"), "3");
        cr_assert_str_eq(slurp("hugetlb.1GB.max"), "1073741824");
        const char *bad[] = {"cgroup.procs", "cgroup.subtree_control", "cgroup.threads", "cgroup.kill",
                             "../memory.max", "memory/../../x", "nodot", ".max", "memory.", "memory.max x", "memory.max\n",
                             "memory..max"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct oci_kv one = {(char *)bad[i], "1"};
                struct oci_resources r1 = {.unified = &one, .n_unified = 1};
                char needle[128];
                snprintf(needle, sizeof needle, "linux.resources.unified: key '%s'", bad[i]);
                expect_error(&r1, needle);
        }
}

Test(cgroups_plan, unified_is_written_after_typed_fields)
{
        struct oci_memory m = {.limit = {true, 4096 * 1024}};
        struct oci_kv kv[] = {{"memory.max", "8388608"}};
        struct oci_resources r = {.memory = &m, .unified = kv, .n_unified = 1};
        herr_t e;
        cr_assert_eq(plan_apply(&r, &e), 0, "%s", e.msg);
        cr_assert_str_eq(slurp("memory.max"), "8388608");
}

Test(cgroups_plan, missing_controller_names_field_and_host_offer)
{
        struct oci_memory m = {.limit = {true, 1 << 20}};
        struct oci_pids pd = {.limit = 10};
        struct oci_resources r = {.memory = &m, .pids = &pd};
        struct cg_plan p;
        herr_t e;
        cr_assert_eq(cg_plan(&r, &p, &e), 0, "%s", e.msg);
        cr_assert_eq(cg_plan_check(&p, "memory pids\n", &e), 0, "%s", e.msg);
        cr_assert_eq(cg_plan_check(&p, "hugetlb\n", &e), -1);
        cr_assert_str_eq(e.msg, "linux.resources.memory.limit: cgroup v2 controller 'memory' is not "
                         "available (this host offers: hugetlb)");
        cr_assert_eq(cg_plan_check(&p, "memory hugetlb\n", &e), -1);
        cr_assert_not_null(strstr(e.msg, "linux.resources.pids.limit: cgroup v2 controller 'pids'"), "%s", e.msg);
        cr_assert_eq(cg_plan_check(&p, "\n", &e), -1);
        cr_assert_not_null(strstr(e.msg, "(this host offers: none)"), "%s", e.msg);
        /* "memoryx" does not offer "memory" */
        cr_assert_eq(cg_plan_check(&p, "memoryx pids\n", &e), -1);
        /* no v2 hierarchy at all */
        cr_assert_eq(cg_plan_check(&p, NULL, &e), -1);
        cr_assert_str_eq(e.msg, "linux.resources.memory.limit: cgroup v2 controller 'memory' is not "
                         "available (this host has no cgroup v2 hierarchy)");
        cg_plan_free(&p);
        struct oci_kv kv[] = {{"cgroup.max.depth", "3"}};
        struct oci_resources u = {.unified = kv, .n_unified = 1};
        cr_assert_eq(cg_plan(&u, &p, &e), 0, "%s", e.msg);
        cr_assert_eq(cg_plan_check(&p, NULL, &e), -1);
        cr_assert_not_null(strstr(e.msg, "cgroup.max.depth needs a cgroup v2 hierarchy"), "%s", e.msg);
        cg_plan_free(&p);
        struct oci_resources none = {0};
        cr_assert_eq(cg_plan(&none, &p, &e), 0, "%s", e.msg);
        cr_assert_eq(cg_plan_check(&p, NULL, &e), 0, "%s", e.msg);
        cg_plan_free(&p);
}

Test(cgroups_plan, apply_to_missing_file_names_field)
{
        struct oci_pids pd = {.limit = 10};
        struct oci_resources r = {.pids = &pd};
        struct cg_plan p;
        herr_t e;
        cr_assert_eq(cg_plan(&r, &p, &e), 0);
        cr_assert_eq(cg_plan_apply(&p, scratch, &e), -1);
        cr_assert_not_null(strstr(e.msg, "linux.resources.pids.limit: "), "%s", e.msg);
        cr_assert_not_null(strstr(e.msg, "pids.max does not exist"), "%s", e.msg);
        cg_plan_free(&p);
}

Test(cgroups_plan, no_resources_no_writes)
{
        struct cg_plan p;
        herr_t e;
        cr_assert_eq(cg_plan(NULL, &p, &e), 0);
        cr_assert_eq(p.n, 0);
        struct oci_resources r = {0};
        cr_assert_eq(cg_plan(&r, &p, &e), 0);
        cr_assert_eq(p.n, 0);
}
