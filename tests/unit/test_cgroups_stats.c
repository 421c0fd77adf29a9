/* Unit tests of cg_stats() parsing, against a scratch directory holding
 * cgroup v2 stat files as the kernel writes them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cgroups/cgroups.h"
#include "../../common/fileutil.h"

static char dir[64];

static void setup(void)
{
        strcpy(dir, "/tmp/husk-cgstats-XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
        herr_t e;
        remove_tree(dir, &e);
}

static void put(const char *name, const char *content)
{
        char p[256];
        snprintf(p, sizeof p, "%s/%s", dir, name);
        FILE *f = fopen(p, "w");
        cr_assert_not_null(f);
        fputs(content, f);
        fclose(f);
}

TestSuite(cgroups_stats, .init = setup, .fini = teardown);

Test(cgroups_stats, full_set_of_files)
{
        put("memory.current", "1048576\n");
        put("memory.max", "max\n");
        put("memory.peak", "2097152\n");
        put("memory.swap.current", "0\n");
        put("memory.swap.max", "4096\n");
        put("memory.stat", "anon 4096\nfile 8192\nkernel_stack 16384\nslab 123\nsock 0\nshmem 5\n"
                           "file_mapped 6\nfile_dirty 7\nfile_writeback 8\nanon_thp 0\ninactive_anon 9\n"
                           "active_anon 10\ninactive_file 11\nactive_file 12\nunevictable 13\n"
                           "pgfault 1000\npgmajfault 3\n");
        put("memory.events", "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n");
        put("cpu.stat", "usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\nnr_periods 40\n"
                        "nr_throttled 7\nthrottled_usec 900\nnr_bursts 0\nburst_usec 0\n");
        put("pids.current", "3\n");
        put("pids.max", "max\n");
        put("io.stat", "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"
                       "259:1 rbytes=10 wbytes=20 rios=30 wios=40 dbytes=0 dios=0\n");
        struct cg_stats s;
        herr_t e;
        cr_assert_eq(cg_stats(dir, &s, &e), 0, "%s", e.msg);
        cr_assert(s.have_memory && s.have_cpu && s.have_pids && s.have_io);
        cr_assert_eq(s.mem_usage, 1048576);
        cr_assert_eq(s.mem_limit, CG_UNLIMITED);
        cr_assert_eq(s.mem_max_usage, 2097152);
        cr_assert_eq(s.swap_limit, 4096);
        cr_assert_eq(s.anon, 4096);
        cr_assert_eq(s.file, 8192);
        cr_assert_eq(s.kernel_stack, 16384);
        cr_assert_eq(s.inactive_anon, 9);
        cr_assert_eq(s.active_file, 12);
        cr_assert_eq(s.pgmajfault, 3);
        cr_assert_eq(s.oom, 2);
        cr_assert_eq(s.oom_kill, 1);
        cr_assert_eq(s.cpu_usage_usec, 5000);
        cr_assert_eq(s.cpu_system_usec, 2000);
        cr_assert_eq(s.nr_throttled, 7);
        cr_assert_eq(s.throttled_usec, 900);
        cr_assert_eq(s.pids_current, 3);
        cr_assert_eq(s.pids_limit, CG_UNLIMITED);
        cr_assert_eq(s.n_io, 2);
        cr_assert_eq(s.io[0].major, 8);
        cr_assert_eq(s.io[0].wbytes, 8192);
        cr_assert_eq(s.io[1].major, 259);
        cr_assert_eq(s.io[1].minor, 1);
        cr_assert_eq(s.io[1].rios, 30);
        cr_assert_eq(s.io[1].wios, 40);
}

Test(cgroups_stats, missing_controllers_are_absent_not_errors)
{
        put("cpu.stat", "usage_usec 77\nuser_usec 70\nsystem_usec 7\n");
        struct cg_stats s;
        herr_t e;
        cr_assert_eq(cg_stats(dir, &s, &e), 0, "%s", e.msg);
        cr_assert(s.have_cpu);
        cr_assert_not(s.have_memory);
        cr_assert_not(s.have_pids);
        cr_assert_not(s.have_io);
        cr_assert_eq(s.cpu_usage_usec, 77);
        cr_assert_eq(s.nr_throttled, 0);
        /* A key that merely starts like another is not confused with it. */
        put("memory.current", "1\n");
        put("memory.events", "oom_kill 4\noom 9\n");
        cr_assert_eq(cg_stats(dir, &s, &e), 0, "%s", e.msg);
        cr_assert_eq(s.oom, 9);
        cr_assert_eq(s.oom_kill, 4);
}

Test(cgroups_stats, missing_cgroup_is_an_error)
{
        struct cg_stats s;
        herr_t e;
        char p[128];
        snprintf(p, sizeof p, "%s/gone", dir);
        cr_assert_eq(cg_stats(p, &s, &e), -1);
        cr_assert_not_null(strstr(e.msg, "/gone"), "%s", e.msg);
}
