/* The runc commands around a running container's cgroup: ps ID, pause,
 * resume, update, events. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "../cgroups/cgroups.h"
#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "cli.h"
#include "container.h"
#include "exec.h"
#include "vm_exec.h"

static int need_cgroup(struct opened *o, const char *cmd, herr_t *err)
{
        if (!o->st.cgroup)
                return herr_set(err, 0, "%s: container '%s' has no cgroup (the host has no cgroup v2 hierarchy)",
                                cmd, o->st.id);
        return 0;
}

static int one_id(const char *cmd, int argc, char **argv, const char **id, herr_t *err)
{
        if (optind != argc - 1)
                return cli_usage_error(cmd, optind >= argc ? "missing container id" : "too many arguments", err);
        *id = argv[optind];
        return 0;
}

static int no_opts(const char *cmd, int argc, char **argv, herr_t *err)
{
        static const struct option none[] = { { NULL, 0, NULL, 0 } };
        opterr = 0;
        if (getopt_long(argc, argv, "+", none, NULL) != -1)
                return cli_usage_error(cmd, "unknown option", err);
        return 0;
}

/* ------------------------------------------------------------------ ps */

static void proc_cmdline(pid_t pid, char *buf, size_t size)
{
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
        buf[0] = 0;
        FILE *f = fopen(path, "re");
        if (!f)
                return;
        size_t n = fread(buf, 1, size - 1, f);
        fclose(f);
        buf[n] = 0;
        for (size_t i = 0; n && i < n - 1; i++)
                if (!buf[i])
                        buf[i] = ' ';
        if (!n) {
                snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
                if ((f = fopen(path, "re"))) {
                        if (fgets(buf, (int)size, f))
                                buf[strcspn(buf, "\n")] = 0;
                        fclose(f);
                }
        }
}

static void proc_ids(pid_t pid, unsigned *uid, int *ppid)
{
        char path[64], line[256];
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        *uid = 0;
        *ppid = 0;
        FILE *f = fopen(path, "re");
        if (!f)
                return;
        while (fgets(line, sizeof line, f)) {
                if (!strncmp(line, "Uid:", 4))
                        *uid = (unsigned)strtoul(line + 4, NULL, 10);
                else if (!strncmp(line, "PPid:", 5))
                        *ppid = (int)strtol(line + 5, NULL, 10);
        }
        fclose(f);
}

/* runc's table: the host's `ps` (default -ef, or the ps options after
 * the id) filtered to the rows whose PID column is one of pids. Returns 1
 * when ps cannot be run (the caller prints its own table). */
static int host_ps(char **ps_args, int n_args, const pid_t *pids, size_t n, herr_t *err)
{
        char *args[64] = { "ps" };
        int na = 1;
        if (n_args == 0)
                args[na++] = "-ef";
        for (int i = 0; i < n_args && na < 63; i++)
                args[na++] = ps_args[i];
        args[na] = NULL;
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return herr_sys(err, "ps: pipe");
        pid_t child = fork();
        if (child < 0) {
                close(pfd[0]);
                close(pfd[1]);
                return herr_sys(err, "ps: fork");
        }
        if (child == 0) {
                dup2(pfd[1], 1);
                dup2(pfd[1], 2);
                execvp("ps", args);
                _exit(127);
        }
        close(pfd[1]);
        FILE *f = fdopen(pfd[0], "r");
        if (!f) {
                close(pfd[0]);
                waitpid(child, NULL, 0);
                return herr_sys(err, "ps");
        }
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        int pid_col = -1, rc = 0;
        bool header = true;
        _cleanup_free_ char *out = NULL;
        size_t out_len = 0;
        FILE *mem = open_memstream(&out, &out_len);
        while (mem && (len = getline(&line, &cap, f)) > 0) {
                char copy[4096];
                snprintf(copy, sizeof copy, "%s", line);
                int col = 0;
                char *save = NULL;
                bool match = false;
                for (char *tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save), col++) {
                        if (header && !strcmp(tok, "PID"))
                                pid_col = col;
                        if (!header && col == pid_col) {
                                char *end;
                                long v = strtol(tok, &end, 10);
                                for (size_t i = 0; !*end && i < n; i++)
                                        match |= pids[i] == v;
                        }
                }
                if (header || match)
                        fputs(line, mem);
                header = false;
        }
        free(line);
        fclose(f);
        if (mem)
                fclose(mem);
        int st = 0;
        while (waitpid(child, &st, 0) < 0 && errno == EINTR)
                ;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 127 && n_args == 0)
                return 1;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                rc = herr_set(err, 0, "ps: the host's ps failed: %.200s", out ? out : "");
        else if (pid_col < 0)
                rc = herr_set(err, 0, "ps: the output of the host's ps has no PID column");
        else
                fwrite(out, 1, out_len, stdout);
        return rc;
}

static int cmd_ps(struct cli *c, int argc, char **argv, herr_t *err)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' },
                { "quiet", no_argument, NULL, 'q' },
                { NULL, 0, NULL, 0 },
        };
        const char *format = "table";
        int o;
        opterr = 0;
        while ((o = getopt_long(argc, argv, "+f:q", opts, NULL)) != -1) {
                if (o == 'f')
                        format = optarg;
                else if (o != 'q')
                        return cli_usage_error("ps", "unknown option", err), EXIT_HUSK_ERROR;
        }
        if (optind >= argc) {
                /* No id: the alias of list. */
                for (const struct command *cmd = commands_info(); cmd->name; cmd++)
                        if (!strcmp(cmd->name, "list")) {
                                optind = 1;
                                return cmd->run(c, argc, argv, err);
                        }
                return herr_set(err, 0, "ps: list is missing"), EXIT_HUSK_ERROR;
        }
        const char *id = argv[optind];
        if (strcmp(format, "table") && strcmp(format, "json"))
                return herr_set(err, 0, "ps --format '%s': expected table or json", format), EXIT_HUSK_ERROR;
        struct opened ct;
        if (container_open(c->root, id, LOCK_SH, &ct, err) < 0)
                return EXIT_HUSK_ERROR;
        int rc = EXIT_HUSK_ERROR;
        pid_t *pids = NULL;
        size_t n = 0;
        if (ct.st.vm && argc - optind > 1) {
                herr_set(err, 0, "ps %s: options for ps(1) are not supported for a VM-mode container", id);
                goto out;
        }
        if (ct.st.vm) { /* the processes in the guest, as husk ps prints them there */
                rc = vm_container_ps(ct.dirfd, id, ct.status, !strcmp(format, "json"), err);
                rc = rc < 0 ? EXIT_HUSK_ERROR : rc;
                goto out;
        }
        if (!strcmp(ct.status, "stopped")) {
                rc = 0; /* no processes */
        } else if (need_cgroup(&ct, "ps", err) < 0 || cg_pids(ct.st.cgroup, &pids, &n, err) < 0) {
                goto out;
        }
        rc = 0;
        if (!strcmp(format, "json")) {
                printf("[");
                for (size_t i = 0; i < n; i++)
                        printf("%s%d", i ? "," : "", (int)pids[i]);
                printf("]\n");
        } else {
                int r = host_ps(argv + optind + 1, argc - optind - 1, pids, n, err);
                if (r <= 0) {
                        rc = r < 0 ? EXIT_HUSK_ERROR : 0;
                        goto out;
                }
                printf("%-8s %-8s %-8s %s\n", "UID", "PID", "PPID", "CMD");
                for (size_t i = 0; i < n; i++) {
                        char cmd[512];
                        unsigned uid;
                        int ppid;
                        proc_ids(pids[i], &uid, &ppid);
                        proc_cmdline(pids[i], cmd, sizeof cmd);
                        printf("%-8u %-8d %-8d %s\n", uid, (int)pids[i], ppid, cmd);
                }
        }
out:
        free(pids);
        container_close(&ct);
        return rc;
}

/* ------------------------------------------------------ pause, resume */

static int freeze(struct cli *c, int argc, char **argv, bool frozen, herr_t *err)
{
        const char *id = NULL;
        if (no_opts(argv[0], argc, argv, err) < 0 || one_id(argv[0], argc, argv, &id, err) < 0)
                return EXIT_HUSK_ERROR;
        struct opened ct;
        if (container_open(c->root, id, LOCK_EX, &ct, err) < 0)
                return EXIT_HUSK_ERROR;
        int rc = EXIT_HUSK_ERROR;
        const char *want = frozen ? "running" : "paused";
        if (strcmp(ct.status, want))
                herr_set(err, 0, "container '%s' is %s, not %s: cannot %s it", id, ct.status, want, argv[0]);
        else if (need_cgroup(&ct, argv[0], err) == 0 && cg_freeze(ct.st.cgroup, frozen, err) == 0)
                rc = 0;
        container_close(&ct);
        return rc;
}

static int cmd_pause(struct cli *c, int argc, char **argv, herr_t *err)
{
        return freeze(c, argc, argv, true, err);
}

static int cmd_resume(struct cli *c, int argc, char **argv, herr_t *err)
{
        return freeze(c, argc, argv, false, err);
}

/* -------------------------------------------------------------- update */

/* runc's memory values: bytes with an optional k/m/g/t suffix, or -1. */
static int parse_bytes(const char *flag, const char *s, long long *out, herr_t *err)
{
        if (!strcmp(s, "-1")) {
                *out = -1;
                return 0;
        }
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || v < 0)
                goto bad;
        long long mul = 1;
        switch (tolower((unsigned char)*end)) {
        case 0: break;
        case 'b': mul = 1; break;
        case 'k': mul = 1LL << 10; break;
        case 'm': mul = 1LL << 20; break;
        case 'g': mul = 1LL << 30; break;
        case 't': mul = 1LL << 40; break;
        default: goto bad;
        }
        if (*end) {
                end++;
                if (tolower((unsigned char)*end) == 'i')
                        end++;
                if (tolower((unsigned char)*end) == 'b')
                        end++;
                if (*end)
                        goto bad;
        }
        if (v * (double)mul > 9.2e18)
                goto bad;
        *out = (long long)(v * (double)mul);
        return 0;
bad:
        return herr_set(err, 0, "update %s '%s': expected a size in bytes (suffix k, m, g or t) or -1", flag, s);
}

enum { U_RES = 0x100, U_MEM, U_MEMRES, U_MEMSWAP, U_KMEM, U_KTCP, U_CPUSHARES, U_CPUQUOTA, U_CPUPERIOD,
       U_CPURTP, U_CPURTR, U_CPUSET, U_MEMS, U_PIDS, U_BLKIO, U_L3, U_MEMBW, U_CPUIDLE, U_COUNT };

static int cmd_update(struct cli *c, int argc, char **argv, herr_t *err)
{
        static const struct option opts[] = {
                { "resources", required_argument, NULL, U_RES },
                { "memory", required_argument, NULL, U_MEM },
                { "memory-reservation", required_argument, NULL, U_MEMRES },
                { "memory-swap", required_argument, NULL, U_MEMSWAP },
                { "kernel-memory", required_argument, NULL, U_KMEM },
                { "kernel-memory-tcp", required_argument, NULL, U_KTCP },
                { "cpu-share", required_argument, NULL, U_CPUSHARES },
                { "cpu-quota", required_argument, NULL, U_CPUQUOTA },
                { "cpu-period", required_argument, NULL, U_CPUPERIOD },
                { "cpu-rt-period", required_argument, NULL, U_CPURTP },
                { "cpu-rt-runtime", required_argument, NULL, U_CPURTR },
                { "cpuset-cpus", required_argument, NULL, U_CPUSET },
                { "cpuset-mems", required_argument, NULL, U_MEMS },
                { "pids-limit", required_argument, NULL, U_PIDS },
                { "blkio-weight", required_argument, NULL, U_BLKIO },
                { "l3-cache-schema", required_argument, NULL, U_L3 },
                { "mem-bw-schema", required_argument, NULL, U_MEMBW },
                { "cpu-idle", required_argument, NULL, U_CPUIDLE },
                { NULL, 0, NULL, 0 },
        };
        const char *val[U_COUNT] = { 0 };
        int o;
        opterr = 0;
        while ((o = getopt_long(argc, argv, "+r:", opts, NULL)) != -1) {
                if (o == 'r')
                        o = U_RES;
                if (o < U_RES || o >= U_COUNT)
                        return cli_usage_error("update", "unknown option or missing value", err), EXIT_HUSK_ERROR;
                val[o] = optarg;
        }
        const char *id = NULL;
        if (one_id("update", argc, argv, &id, err) < 0)
                return EXIT_HUSK_ERROR;
        if (val[U_L3] || val[U_MEMBW])
                return herr_set(err, 0, "update: intelRdt (--l3-cache-schema, --mem-bw-schema) is not supported by "
                                        "husk"), EXIT_HUSK_ERROR;
        /* Build one resources document: --resources, then the flags as a
         * second document applied after it (flags win, as in runc). */
        _cleanup_free_ char *res_json = NULL;
        size_t res_len = 0;
        if (val[U_RES]) {
                int r = !strcmp(val[U_RES], "-") ? read_fd(0, 4u << 20, &res_json, &res_len, err)
                                                  : read_file(val[U_RES], 4u << 20, &res_json, &res_len, err);
                if (r < 0 || json_one_object(res_json, res_len, "linux.resources", err) < 0)
                        return herr_prefix(err, "update --resources"), EXIT_HUSK_ERROR;
        }
        char flags[2048];
        size_t fl = 0;
#define ADD(...) fl += (size_t)snprintf(flags + fl, sizeof flags - fl, __VA_ARGS__)
        long long mem[4];
        const int memk[4] = { U_MEM, U_MEMRES, U_MEMSWAP, U_KMEM };
        const char *memn[4] = { "limit", "reservation", "swap", "kernel" };
        const char *memf[4] = { "--memory", "--memory-reservation", "--memory-swap", "--kernel-memory" };
        bool any_mem = false;
        ADD("{");
        for (int i = 0; i < 4; i++)
                if (val[memk[i]]) {
                        if (parse_bytes(memf[i], val[memk[i]], &mem[i], err) < 0)
                                return EXIT_HUSK_ERROR;
                        ADD("%s\"%s\":%lld", any_mem ? "," : "\"memory\":{", memn[i], mem[i]);
                        any_mem = true;
                }
        if (val[U_KTCP]) {
                long long v;
                if (parse_bytes("--kernel-memory-tcp", val[U_KTCP], &v, err) < 0)
                        return EXIT_HUSK_ERROR;
                ADD("%s\"kernelTCP\":%lld", any_mem ? "," : "\"memory\":{", v);
                any_mem = true;
        }
        if (any_mem)
                ADD("}");
        struct { int k; const char *name; const char *flag; long min, max; } cpun[] = {
                { U_CPUSHARES, "shares", "--cpu-share", 0, LONG_MAX },
                { U_CPUQUOTA, "quota", "--cpu-quota", -1, LONG_MAX },
                { U_CPUPERIOD, "period", "--cpu-period", 0, LONG_MAX },
                { U_CPURTP, "realtimePeriod", "--cpu-rt-period", 0, LONG_MAX },
                { U_CPURTR, "realtimeRuntime", "--cpu-rt-runtime", -1, LONG_MAX },
                { U_CPUIDLE, "idle", "--cpu-idle", 0, 1 },
        };
        bool any_cpu = false;
        for (size_t i = 0; i < sizeof cpun / sizeof cpun[0]; i++)
                if (val[cpun[i].k]) {
                        long v;
                        if (cli_int(cpun[i].flag, val[cpun[i].k], cpun[i].min, cpun[i].max, &v, err) < 0)
                                return herr_prefix(err, "update"), EXIT_HUSK_ERROR;
                        ADD("%s%s\"%s\":%ld", fl > 1 && !any_cpu ? "," : "", any_cpu ? "," : "\"cpu\":{",
                            cpun[i].name, v);
                        any_cpu = true;
                }
        const int strk[2] = { U_CPUSET, U_MEMS };
        const char *strn[2] = { "cpus", "mems" };
        for (int i = 0; i < 2; i++)
                if (val[strk[i]]) {
                        for (const char *s = val[strk[i]]; *s; s++)
                                if (!isdigit((unsigned char)*s) && *s != ',' && *s != '-')
                                        return herr_set(err, 0, "update --cpuset-%s '%s': expected a list like 0-2,4",
                                                        strn[i], val[strk[i]]), EXIT_HUSK_ERROR;
                        ADD("%s%s\"%s\":\"%s\"", fl > 1 && !any_cpu ? "," : "", any_cpu ? "," : "\"cpu\":{",
                            strn[i], val[strk[i]]);
                        any_cpu = true;
                }
        if (any_cpu)
                ADD("}");
        if (val[U_PIDS]) {
                long v;
                if (cli_int("--pids-limit", val[U_PIDS], -1, LONG_MAX, &v, err) < 0)
                        return herr_prefix(err, "update"), EXIT_HUSK_ERROR;
                ADD("%s\"pids\":{\"limit\":%ld}", fl > 1 ? "," : "", v);
        }
        if (val[U_BLKIO]) {
                long v;
                if (cli_int("--blkio-weight", val[U_BLKIO], 10, 1000, &v, err) < 0)
                        return herr_prefix(err, "update"), EXIT_HUSK_ERROR;
                ADD("%s\"blockIO\":{\"weight\":%ld}", fl > 1 ? "," : "", v);
        }
        ADD("}");
#undef ADD
        if (fl >= sizeof flags)
                return herr_set(err, 0, "update: flags too long"), EXIT_HUSK_ERROR;
        if (!res_json && fl <= 2)
                return herr_set(err, 0, "update: nothing to change (give --resources FILE or a flag like --memory)"),
                       EXIT_HUSK_ERROR;
        /* Parse and validate everything before touching the cgroup. */
        struct oci_config *docs[2] = { NULL, NULL };
        const char *srcs[2] = { res_json, fl > 2 ? flags : NULL };
        size_t lens[2] = { res_len, fl };
        int rc = EXIT_HUSK_ERROR;
        struct cg_plan plans[2] = { { 0 }, { 0 } };
        struct opened ct = { .dirfd = -1 };
        _cleanup_free_ char *offered = NULL;
        for (int i = 0; i < 2; i++) {
                if (!srcs[i])
                        continue;
                static const char pre[] = "{\"ociVersion\":\"1.0.2\",\"linux\":{\"resources\":";
                size_t n = sizeof pre + lens[i] + 3;
                _cleanup_free_ char *doc = malloc(n);
                if (!doc) {
                        herr_set(err, ENOMEM, "update");
                        goto out;
                }
                snprintf(doc, n, "%s%.*s}}", pre, (int)lens[i], srcs[i]);
                if (oci_config_parse(doc, strlen(doc), &docs[i], err) < 0) {
                        herr_prefix(err, "update%s", i == 0 ? " --resources" : "");
                        goto out;
                }
                const struct oci_resources *res = docs[i]->linux_ ? docs[i]->linux_->resources : NULL;
                if (res && cg_plan(res, &plans[i], err) < 0) {
                        herr_prefix(err, "update");
                        goto out;
                }
        }
        if (container_open(c->root, id, LOCK_EX, &ct, err) < 0)
                goto out;
        if (!strcmp(ct.status, "stopped")) {
                herr_set(err, 0, "container '%s' is stopped: cannot update it", id);
                goto out;
        }
        if (need_cgroup(&ct, "update", err) < 0)
                goto out;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/cgroup.controllers", ct.st.cgroup);
        size_t olen;
        if (read_file(path, 65536, &offered, &olen, err) < 0)
                goto out;
        for (int i = 0; i < 2; i++)
                if (plans[i].n && cg_plan_check(&plans[i], offered, err) < 0) {
                        herr_prefix(err, "update container '%s'", id);
                        goto out;
                }
        for (int i = 0; i < 2; i++)
                if (plans[i].n && cg_plan_apply(&plans[i], ct.st.cgroup, err) < 0) {
                        herr_prefix(err, "update container '%s'", id);
                        goto out;
                }
        rc = 0;
out:
        for (int i = 0; i < 2; i++) {
                cg_plan_free(&plans[i]);
                oci_config_free(docs[i]);
        }
        container_close(&ct);
        return rc;
}

/* -------------------------------------------------------------- events */

#define K(s) yajl_gen_string(g, (const unsigned char *)(s), strlen(s))
#define KU(s, v) (K(s), yajl_gen_integer(g, (long long)(v)))

static void gen_stats(yajl_gen g, const struct cg_stats *s)
{
        yajl_gen_map_open(g);
        K("cpu");
        yajl_gen_map_open(g);
        K("usage");
        yajl_gen_map_open(g);
        KU("total", s->cpu_usage_usec * 1000);
        KU("kernel", s->cpu_system_usec * 1000);
        KU("user", s->cpu_user_usec * 1000);
        yajl_gen_map_close(g);
        K("throttling");
        yajl_gen_map_open(g);
        KU("periods", s->nr_periods);
        KU("throttledPeriods", s->nr_throttled);
        KU("throttledTime", s->throttled_usec * 1000);
        yajl_gen_map_close(g);
        yajl_gen_map_close(g);
        K("memory");
        yajl_gen_map_open(g);
        K("usage");
        yajl_gen_map_open(g);
        KU("limit", s->mem_limit == CG_UNLIMITED ? 0 : s->mem_limit);
        KU("usage", s->mem_usage);
        KU("max", s->mem_max_usage);
        KU("failcnt", s->oom);
        yajl_gen_map_close(g);
        K("swap");
        yajl_gen_map_open(g);
        KU("limit", s->swap_limit == CG_UNLIMITED ? 0 : s->swap_limit);
        KU("usage", s->swap_usage);
        yajl_gen_map_close(g);
        K("raw");
        yajl_gen_map_open(g);
        KU("anon", s->anon);
        KU("file", s->file);
        KU("kernel_stack", s->kernel_stack);
        KU("slab", s->slab);
        KU("sock", s->sock);
        KU("shmem", s->shmem);
        KU("file_mapped", s->file_mapped);
        KU("file_dirty", s->file_dirty);
        KU("file_writeback", s->file_writeback);
        KU("active_anon", s->active_anon);
        KU("inactive_anon", s->inactive_anon);
        KU("active_file", s->active_file);
        KU("inactive_file", s->inactive_file);
        KU("unevictable", s->unevictable);
        KU("pgfault", s->pgfault);
        KU("pgmajfault", s->pgmajfault);
        yajl_gen_map_close(g);
        yajl_gen_map_close(g);
        K("pids");
        yajl_gen_map_open(g);
        KU("current", s->pids_current);
        KU("limit", s->pids_limit == CG_UNLIMITED ? 0 : s->pids_limit);
        yajl_gen_map_close(g);
        K("blkio");
        yajl_gen_map_open(g);
        K("ioServiceBytesRecursive");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < s->n_io; i++) {
                const char *ops[2] = { "Read", "Write" };
                uint64_t v[2] = { s->io[i].rbytes, s->io[i].wbytes };
                for (int j = 0; j < 2; j++) {
                        yajl_gen_map_open(g);
                        KU("major", s->io[i].major);
                        KU("minor", s->io[i].minor);
                        K("op");
                        K(ops[j]);
                        KU("value", v[j]);
                        yajl_gen_map_close(g);
                }
        }
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        K("hugetlb");
        yajl_gen_map_open(g);
        yajl_gen_map_close(g);
        yajl_gen_map_close(g);
}

/* One event line: {"type":T,"id":ID,"data":{...}}. */
static void emit(const char *type, const char *id, const struct cg_stats *s)
{
        yajl_gen g = yajl_gen_alloc(NULL);
        yajl_gen_map_open(g);
        K("type");
        K(type);
        K("id");
        K(id);
        if (s) {
                K("data");
                gen_stats(g, s);
        }
        yajl_gen_map_close(g);
        const unsigned char *buf;
        size_t len;
        yajl_gen_get_buf(g, &buf, &len);
        printf("%.*s\n", (int)len, buf);
        fflush(stdout);
        yajl_gen_free(g);
}
#undef K
#undef KU

/* "5s", "500ms", "1m", or plain seconds. */
static int parse_interval(const char *s, long *ms, herr_t *err)
{
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        double mul = 1000;
        if (!strcmp(end, "ms"))
                mul = 1;
        else if (!strcmp(end, "m"))
                mul = 60000;
        else if (*end && strcmp(end, "s"))
                v = -1;
        if (errno || end == s || v <= 0 || v * mul > 86400000.0 || v * mul < 1)
                return herr_set(err, 0, "events --interval '%s': expected a duration like 5s or 500ms", s);
        *ms = (long)(v * mul);
        return 0;
}

static int cmd_events(struct cli *c, int argc, char **argv, herr_t *err)
{
        static const struct option opts[] = {
                { "stats", no_argument, NULL, 's' },
                { "interval", required_argument, NULL, 'i' },
                { NULL, 0, NULL, 0 },
        };
        bool stats_once = false;
        long interval = 5000;
        int o;
        opterr = 0;
        while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
                if (o == 's')
                        stats_once = true;
                else if (o == 'i') {
                        if (parse_interval(optarg, &interval, err) < 0)
                                return EXIT_HUSK_ERROR;
                } else
                        return cli_usage_error("events", "unknown option or missing value", err), EXIT_HUSK_ERROR;
        }
        const char *id = NULL;
        if (one_id("events", argc, argv, &id, err) < 0)
                return EXIT_HUSK_ERROR;
        struct opened ct;
        if (container_open(c->root, id, LOCK_SH, &ct, err) < 0)
                return EXIT_HUSK_ERROR;
        int rc = EXIT_HUSK_ERROR;
        char *cg = ct.st.cgroup ? strdup(ct.st.cgroup) : NULL;
        pid_t pid = ct.st.pid;
        unsigned long long pstart = ct.st.pid_start;
        bool stopped = !strcmp(ct.status, "stopped");
        /* Do not hold the lock while we watch. */
        close(ct.dirfd);
        ct.dirfd = -1;
        if (stopped) {
                herr_set(err, 0, "container '%s' is stopped", id);
                goto out;
        }
        if (need_cgroup(&ct, "events", err) < 0)
                goto out;
        struct cg_stats s;
        if (stats_once) {
                if (cg_stats(cg, &s, err) < 0)
                        goto out;
                emit("stats", id, &s);
                rc = 0;
                goto out;
        }
        uint64_t oom_seen = 0;
        bool first = true;
        struct timespec last = { 0 };
        for (;;) {
                if (!pid_alive(pid, pstart)) {
                        rc = 0;
                        break;
                }
                if (cg_stats(cg, &s, err) < 0) {
                        /* The cgroup went away with the container. */
                        herr_clear(err);
                        rc = 0;
                        break;
                }
                if (!first && s.oom_kill > oom_seen)
                        emit("oom", id, NULL);
                oom_seen = s.oom_kill;
                first = false;
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                long since = (now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000;
                if (last.tv_sec == 0 || since >= interval) {
                        emit("stats", id, &s);
                        last = now;
                }
                /* Check for OOM kills and exit at least every 200 ms. */
                poll(NULL, 0, interval < 200 ? (int)interval : 200);
        }
out:
        free(cg);
        container_close(&ct);
        return rc;
}

static const struct command table[] = {
        { "ps", "processes of a container (without ID: alias of list)", "ps [--format table|json] ID [PS OPTIONS]", cmd_ps,
          false },
        { "pause", "freeze every process of a container", "pause ID", cmd_pause, false },
        { "resume", "thaw a paused container", "resume ID", cmd_resume, false },
        { "update", "change a running container's resources",
          "update [--resources FILE|-] [--memory N] [--memory-reservation N] [--memory-swap N]\n"
          "            [--cpu-share N] [--cpu-quota N] [--cpu-period N] [--cpuset-cpus L] [--cpuset-mems L]\n"
          "            [--pids-limit N] [--blkio-weight N] [--cpu-idle 0|1] ID",
          cmd_update, false },
        { "events", "container events and statistics as JSON lines", "events [--stats] [--interval 5s] ID",
          cmd_events, false },
        { NULL, NULL, NULL, NULL, false },
};

const struct command *commands_dropin(void)
{
        return table;
}
