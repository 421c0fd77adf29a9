/* cgroups/stats.c: counters for `events --stats`. Files that do not exist
 * (controller not enabled) leave their fields at 0 and have_* false. */
#include "cgroups.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/cleanup.h"
#include "internal.h"

/* Read dir/file if it exists: 1 read, 0 absent, -1 error. */
static int read_opt(const char *dir, const char *file, char **out, herr_t *err)
{
        herr_t e;
        if (cg_read(dir, file, out, &e) == 0)
                return 1;
        if (e.errnum == ENOENT)
                return 0;
        if (err)
                *err = e;
        return -1;
}

static int read_u64(const char *dir, const char *file, uint64_t *v, bool *have, herr_t *err)
{
        _cleanup_free_ char *s = NULL;
        int r = read_opt(dir, file, &s, err);
        if (r <= 0)
                return r;
        *v = !strncmp(s, "max", 3) ? CG_UNLIMITED : strtoull(s, NULL, 10);
        if (have)
                *have = true;
        return 1;
}

static int memory_stats(const char *dir, struct cg_stats *st, herr_t *err)
{
        int r = read_u64(dir, "memory.current", &st->mem_usage, &st->have_memory, err);
        if (r <= 0)
                return r;
        if (read_u64(dir, "memory.max", &st->mem_limit, NULL, err) < 0 ||
            read_u64(dir, "memory.peak", &st->mem_max_usage, NULL, err) < 0 ||
            read_u64(dir, "memory.swap.current", &st->swap_usage, NULL, err) < 0 ||
            read_u64(dir, "memory.swap.max", &st->swap_limit, NULL, err) < 0)
                return -1;
        _cleanup_free_ char *s = NULL;
        r = read_opt(dir, "memory.stat", &s, err);
        if (r < 0)
                return -1;
        if (r > 0) {
                const struct { const char *k; uint64_t *v; } m[] = {
                        {"anon", &st->anon}, {"file", &st->file}, {"kernel_stack", &st->kernel_stack},
                        {"slab", &st->slab}, {"sock", &st->sock}, {"shmem", &st->shmem},
                        {"file_mapped", &st->file_mapped}, {"file_dirty", &st->file_dirty},
                        {"file_writeback", &st->file_writeback}, {"active_anon", &st->active_anon},
                        {"inactive_anon", &st->inactive_anon}, {"active_file", &st->active_file},
                        {"inactive_file", &st->inactive_file}, {"unevictable", &st->unevictable},
                        {"pgfault", &st->pgfault}, {"pgmajfault", &st->pgmajfault},
                };
                for (size_t i = 0; i < ARRAY_SIZE(m); i++)
                        cg_kv(s, m[i].k, m[i].v);
        }
        _cleanup_free_ char *ev = NULL;
        r = read_opt(dir, "memory.events", &ev, err);
        if (r < 0)
                return -1;
        if (r > 0) {
                cg_kv(ev, "oom", &st->oom);
                cg_kv(ev, "oom_kill", &st->oom_kill);
        }
        return 0;
}

static int cpu_stats(const char *dir, struct cg_stats *st, herr_t *err)
{
        _cleanup_free_ char *s = NULL;
        int r = read_opt(dir, "cpu.stat", &s, err);
        if (r <= 0)
                return r;
        st->have_cpu = true;
        cg_kv(s, "usage_usec", &st->cpu_usage_usec);
        cg_kv(s, "user_usec", &st->cpu_user_usec);
        cg_kv(s, "system_usec", &st->cpu_system_usec);
        cg_kv(s, "nr_periods", &st->nr_periods);
        cg_kv(s, "nr_throttled", &st->nr_throttled);
        cg_kv(s, "throttled_usec", &st->throttled_usec);
        return 0;
}

static void parse_io_line(const char *l, struct cg_io_stat *io)
{
        memset(io, 0, sizeof *io);
        sscanf(l, "%u:%u", &io->major, &io->minor);
        const struct { const char *k; uint64_t *v; } m[] = {
                {" rbytes=", &io->rbytes}, {" wbytes=", &io->wbytes},
                {" rios=", &io->rios}, {" wios=", &io->wios},
        };
        const char *end = strchr(l, '\n');
        for (size_t i = 0; i < ARRAY_SIZE(m); i++) {
                const char *p = strstr(l, m[i].k);
                if (p && (!end || p < end))
                        *m[i].v = strtoull(p + strlen(m[i].k), NULL, 10);
        }
}

static int io_stats(const char *dir, struct cg_stats *st, herr_t *err)
{
        _cleanup_free_ char *s = NULL;
        int r = read_opt(dir, "io.stat", &s, err);
        if (r <= 0)
                return r;
        st->have_io = true;
        for (const char *l = s; *l && st->n_io < CG_MAX_IO_DEVICES;) {
                parse_io_line(l, &st->io[st->n_io++]);
                const char *nl = strchr(l, '\n');
                if (!nl)
                        break;
                l = nl + 1;
        }
        return 0;
}

int cg_stats(const char *dir, struct cg_stats *st, herr_t *err)
{
        memset(st, 0, sizeof *st);
        struct stat sb;
        if (stat(dir, &sb) < 0)
                return herr_sys(err, "cgroup %s", dir);
        herr_clear(err);
        if (memory_stats(dir, st, err) < 0 || cpu_stats(dir, st, err) < 0 || io_stats(dir, st, err) < 0)
                return herr_prefix(err, "stats of %s", dir);
        if (read_u64(dir, "pids.current", &st->pids_current, &st->have_pids, err) < 0 ||
            read_u64(dir, "pids.max", &st->pids_limit, NULL, err) < 0)
                return herr_prefix(err, "stats of %s", dir);
        return 0;
}
