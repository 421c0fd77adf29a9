/* husk compare: the table, the JSON document and the SVG chart. */
#include "compare.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"

enum kind { K_STR, K_COUNT, K_NUM, K_BOOL, K_COST_LOW, K_COST_HIGH };

struct row {
        const char *label;
        const char *key;        /* probe key; "start_ms"/"host_kib" are husk's own */
        enum kind kind;
        bool cost;
};

static const struct row rows[] = {
        { "kernel release", "kernel_release", K_STR, false },
        { "devices in /dev", "dev_entries", K_COUNT, false },
        { "effective capabilities", "cap_eff", K_STR, false },
        { "seccomp mode", "seccomp_mode", K_STR, false },
        { "dangerous syscalls blocked", "blocked_syscalls_count", K_NUM, false },
        { "pids visible", "visible_pids", K_NUM, false },
        { "network interfaces", "net_interfaces", K_COUNT, false },
        { "host disks visible", "block_devices", K_COUNT, false },
        { "/proc/sys writable", "proc_sys_writable", K_BOOL, false },
        { "/sys/firmware readable", "sys_firmware_readable", K_BOOL, false },
        { "/proc/kcore readable", "proc_kcore_readable", K_BOOL, false },
        { "mount", "can_mount", K_BOOL, false },
        { "module loading", "can_load_modules", K_BOOL, false },
        { "raw sockets", "can_raw_socket", K_BOOL, false },
        { "ptrace of pid 1", "can_ptrace_pid1", K_BOOL, false },
        { "keyctl", "can_keyctl", K_BOOL, false },
        { "start to first output (ms)", "start_ms", K_COST_LOW, true },
        { "host memory (MiB)", "host_kib", K_COST_LOW, true },
        { "syscall latency (ns)", "syscall_ns", K_COST_LOW, true },
        { "fork+exec per second", "fork_exec_per_s", K_COST_HIGH, true },
        { "file write (MB/s)", "file_write_mb_s", K_COST_HIGH, true },
        { "file read (MB/s)", "file_read_mb_s", K_COST_HIGH, true },
        { "loopback TCP round trip (us)", "tcp_rtt_us", K_COST_LOW, true },
};

static yajl_val field(const struct compare_side *s, const char *key)
{
        const char *p[] = { key, NULL };
        return s->probe ? yajl_tree_get(s->probe, p, yajl_t_any) : NULL;
}

/* The number a row shows for a side; NAN when unknown. */
static double number(const struct compare_side *s, const struct row *r)
{
        if (!s->ok)
                return NAN;
        if (!strcmp(r->key, "start_ms"))
                return s->start_ms;
        if (!strcmp(r->key, "host_kib"))
                return s->host_kib < 0 ? NAN : s->host_kib / 1024.0;
        yajl_val v = field(s, r->key);
        if (r->kind == K_COUNT)
                return v && YAJL_IS_ARRAY(v) ? (double)v->u.array.len : NAN;
        if (!v || !YAJL_IS_NUMBER(v))
                return NAN;
        double d = YAJL_GET_DOUBLE(v);
        return d < 0 ? NAN : d;
}

static void cell(const struct compare_side *s, const struct row *r, char *buf, size_t len)
{
        if (!s->ok) {
                snprintf(buf, len, "-");
                return;
        }
        yajl_val v = field(s, r->key);
        if (r->kind == K_STR) {
                snprintf(buf, len, "%s", v && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : "?");
        } else if (r->kind == K_BOOL) {
                snprintf(buf, len, "%s", !v ? "?" : YAJL_IS_TRUE(v) ? "yes" : "no");
        } else {
                double d = number(s, r);
                if (isnan(d))
                        snprintf(buf, len, "n/a");
                else if (d >= 100 || r->kind == K_COUNT || r->kind == K_NUM)
                        snprintf(buf, len, "%.0f", d);
                else
                        snprintf(buf, len, "%.2f", d);
        }
}

static void verdict(const struct compare_result *res, const struct row *r, char *buf, size_t len)
{
        const struct compare_side *n = &res->side[COMPARE_NATIVE], *v = &res->side[COMPARE_VM];
        char a[256], b[256];
        if (!n->ok || !v->ok) {
                snprintf(buf, len, "-");
                return;
        }
        cell(n, r, a, sizeof a);
        cell(v, r, b, sizeof b);
        if (r->cost) {
                double x = number(n, r), y = number(v, r);
                if (isnan(x) || isnan(y) || x <= 0 || y <= 0) {
                        snprintf(buf, len, "-");
                        return;
                }
                double ratio = r->kind == K_COST_LOW ? y / x : x / y;
                if (ratio >= 0.9 && ratio <= 1.1)
                        snprintf(buf, len, "about the same");
                else
                        snprintf(buf, len, "VM %.1fx %s", ratio >= 1 ? ratio : 1 / ratio,
                                 ratio >= 1 ? "costlier" : "cheaper");
                return;
        }
        if (!strcmp(a, b)) {
                snprintf(buf, len, "same");
        } else if (r->kind == K_BOOL) {
                snprintf(buf, len, "%s", !strcmp(a, "yes") ? "only the container can" : "only the VM can");
        } else if (!strcmp(r->key, "kernel_release")) {
                snprintf(buf, len, "VM runs its own kernel");
        } else {
                snprintf(buf, len, "differs");
        }
}

void compare_print_table(const struct compare_result *r)
{
        printf("husk compare: image %s, %s, VM acceleration %s\n\n", r->image, r->date, r->accel ? r->accel : "?");
        for (int m = 0; m < COMPARE_MODES; m++)
                if (!r->side[m].ok)
                        printf("%s mode unavailable: %s\n", m == COMPARE_VM ? "VM" : "native", r->side[m].why);
        printf("%-30s %-22s %-22s %s\n", "probe", "container", "VM", "verdict");
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                char a[256], b[256], v[128];
                cell(&r->side[COMPARE_NATIVE], &rows[i], a, sizeof a);
                cell(&r->side[COMPARE_VM], &rows[i], b, sizeof b);
                verdict(r, &rows[i], v, sizeof v);
                if (i == 0 || rows[i].cost != rows[i - 1].cost)
                        printf("%s\n", rows[i].cost ? "-- cost" : "-- isolation");
                printf("%-30s %-22.22s %-22.22s %s\n", rows[i].label, a, b, v);
        }
}

static yajl_gen_status gs(yajl_gen g, const char *s)
{
        return yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

int compare_json(const struct compare_result *r, char **out, herr_t *err)
{
        yajl_gen g = yajl_gen_alloc(NULL);
        if (!g)
                return herr_set(err, ENOMEM, "compare");
        yajl_gen_config(g, yajl_gen_beautify, 1);
        yajl_gen_map_open(g);
        gs(g, "date"), gs(g, r->date);
        gs(g, "image"), gs(g, r->image);
        gs(g, "vmAcceleration");
        r->accel ? gs(g, r->accel) : yajl_gen_null(g);
        gs(g, "modes");
        yajl_gen_map_open(g);
        for (int m = 0; m < COMPARE_MODES; m++) {
                const struct compare_side *s = &r->side[m];
                gs(g, m == COMPARE_VM ? "vm" : "container");
                yajl_gen_map_open(g);
                gs(g, "ok"), yajl_gen_bool(g, s->ok);
                if (!s->ok)
                        gs(g, "error"), gs(g, s->why);
                yajl_gen_map_close(g);
        }
        yajl_gen_map_close(g);
        gs(g, "probes");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                char a[256], b[256], v[128];
                cell(&r->side[COMPARE_NATIVE], &rows[i], a, sizeof a);
                cell(&r->side[COMPARE_VM], &rows[i], b, sizeof b);
                verdict(r, &rows[i], v, sizeof v);
                yajl_gen_map_open(g);
                gs(g, "name"), gs(g, rows[i].key);
                gs(g, "label"), gs(g, rows[i].label);
                gs(g, "kind"), gs(g, rows[i].cost ? "cost" : "isolation");
                gs(g, "container"), gs(g, a);
                gs(g, "vm"), gs(g, b);
                gs(g, "verdict"), gs(g, v);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        const unsigned char *buf;
        size_t len;
        int rc = 0;
        if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok || !(*out = strndup((const char *)buf, len)))
                rc = herr_set(err, ENOMEM, "compare: JSON");
        yajl_gen_free(g);
        return rc;
}

int compare_svg(const struct compare_result *r, const char *path, herr_t *err)
{
        _cleanup_fclose_ FILE *f = fopen(path, "we");
        if (!f)
                return herr_sys(err, "--svg %s", path);
        size_t ncost = 0;
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
                ncost += rows[i].cost;
        const int w = 760, rowh = 56, top = 60;
        int h = top + (int)ncost * rowh + 30;
        fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", w, h);
        fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
        fprintf(f, "<text x=\"10\" y=\"22\" font-size=\"16\">husk compare: cost, container vs VM (%s, %s)</text>\n",
                r->image, r->date);
        fprintf(f, "<rect x=\"10\" y=\"34\" width=\"12\" height=\"12\" fill=\"#3b7dd8\"/><text x=\"26\" y=\"45\">container</text>\n");
        fprintf(f, "<rect x=\"110\" y=\"34\" width=\"12\" height=\"12\" fill=\"#e07b39\"/><text x=\"126\" y=\"45\">VM</text>\n");
        int y = top;
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                if (!rows[i].cost)
                        continue;
                double a = number(&r->side[COMPARE_NATIVE], &rows[i]), b = number(&r->side[COMPARE_VM], &rows[i]);
                double mx = fmax(isnan(a) ? 0 : a, isnan(b) ? 0 : b);
                fprintf(f, "<text x=\"10\" y=\"%d\">%s%s</text>\n", y + 12, rows[i].label,
                        rows[i].kind == K_COST_HIGH ? " — higher is better" : " — lower is better");
                const double vals[2] = { a, b };
                const char *colors[2] = { "#3b7dd8", "#e07b39" };
                for (int k = 0; k < 2; k++) {
                        double len = mx > 0 && !isnan(vals[k]) ? vals[k] / mx * 480 : 0;
                        fprintf(f, "<rect x=\"230\" y=\"%d\" width=\"%.1f\" height=\"14\" fill=\"%s\"/>\n",
                                y + 18 * k, len, colors[k]);
                        if (isnan(vals[k]))
                                fprintf(f, "<text x=\"234\" y=\"%d\">n/a</text>\n", y + 18 * k + 11);
                        else
                                fprintf(f, "<text x=\"%.1f\" y=\"%d\">%.2f</text>\n", 234 + len, y + 18 * k + 11, vals[k]);
                }
                y += rowh;
        }
        fprintf(f, "</svg>\n");
        if (fflush(f) != 0)
                return herr_sys(err, "--svg %s", path);
        return 0;
}
