/* list, spec, features. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "../images/images.h"
#include "../spec/generate.h"
#include "cli.h"
#include "state.h"

struct row {
        struct container_state st;
        const char *status;
};

static int collect(const char *root, struct row **rows, size_t *n, herr_t *err)
{
        *rows = NULL;
        *n = 0;
        _cleanup_closedir_ DIR *d = opendir(root);
        if (!d)
                return errno == ENOENT ? 0 : herr_sys(err, "--root %s", root);
        struct dirent *de;
        size_t cap = 0;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                herr_t e2 = { 0 };
                int fd;
                if (store_open_reader(root, de->d_name, &fd, &e2) < 0)
                        continue;
                if (*n == cap) {
                        cap = cap ? cap * 2 : 16;
                        struct row *nr = realloc(*rows, cap * sizeof **rows);
                        if (!nr) {
                                close(fd);
                                return herr_set(err, ENOMEM, "list");
                        }
                        *rows = nr;
                }
                struct row *r = &(*rows)[*n];
                if (fd < 0 || state_load(fd, &r->st, &e2) < 0) {
                        memset(&r->st, 0, sizeof r->st);
                        r->st.id = strdup(de->d_name);
                        r->status = "creating";
                } else {
                        r->status = state_status(fd, &r->st);
                }
                if (fd >= 0)
                        close(fd);
                (*n)++;
        }
        return 0;
}

static void print_json(struct row *rows, size_t n)
{
        yajl_gen g = yajl_gen_alloc(NULL);
        yajl_gen_config(g, yajl_gen_beautify, 0);
        yajl_gen_array_open(g);
        for (size_t i = 0; i < n; i++) {
                const struct container_state *s = &rows[i].st;
#define KS(k, v)                                                                          \
        do {                                                                              \
                yajl_gen_string(g, (const unsigned char *)k, strlen(k));                  \
                const char *vv = (v) ? (v) : "";                                          \
                yajl_gen_string(g, (const unsigned char *)vv, strlen(vv));                \
        } while (0)
                yajl_gen_map_open(g);
                KS("ociVersion", "1.3.0");
                KS("id", s->id);
                yajl_gen_string(g, (const unsigned char *)"pid", 3);
                yajl_gen_integer(g, strcmp(rows[i].status, "stopped") ? s->pid : 0);
                KS("status", rows[i].status);
                KS("bundle", s->bundle);
                KS("rootfs", s->rootfs);
                KS("created", s->created);
                KS("owner", s->owner);
                if (s->image)
                        KS("image", s->image);
                if (s->command)
                        KS("command", s->command);
                yajl_gen_map_close(g);
#undef KS
        }
        yajl_gen_array_close(g);
        const unsigned char *buf;
        size_t len;
        yajl_gen_get_buf(g, &buf, &len);
        printf("%.*s\n", (int)len, buf);
        yajl_gen_free(g);
}

/* "3s ago", "2m ago", "5h ago", "4d ago" from an RFC 3339 UTC time. */
static void list_age(const char *created, char *buf, size_t size)
{
        struct tm tm = { 0 };
        const char *end = created ? strptime(created, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
        if (!end) {
                snprintf(buf, size, "-");
                return;
        }
        long long d = (long long)time(NULL) - (long long)timegm(&tm);
        if (d < 0)
                d = 0;
        if (d < 60)
                snprintf(buf, size, "%llds ago", d);
        else if (d < 3600)
                snprintf(buf, size, "%lldm ago", d / 60);
        else if (d < 86400)
                snprintf(buf, size, "%lldh ago", d / 3600);
        else
                snprintf(buf, size, "%lldd ago", d / 86400);
}

static int cmp_rows(const void *a, const void *b)
{
        return strcmp(((const struct row *)a)->st.id, ((const struct row *)b)->st.id);
}

static int cmd_list(struct cli *c, int argc, char **argv, herr_t *err)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' },
                { "quiet", no_argument, NULL, 'q' },
                { NULL, 0, NULL, 0 },
        };
        const char *format = "table";
        bool quiet = false;
        int o;
        opterr = 0;
        while ((o = getopt_long(argc, argv, "+f:q", opts, NULL)) != -1) {
                if (o == 'f')
                        format = optarg;
                else if (o == 'q')
                        quiet = true;
                else
                        return cli_usage_error(argv[0], "unknown option", err), EXIT_HUSK_ERROR;
        }
        if (optind != argc)
                return cli_usage_error(argv[0], "takes no arguments", err), EXIT_HUSK_ERROR;
        if (strcmp(format, "table") && strcmp(format, "json"))
                return herr_set(err, 0, "%s --format '%s': expected table or json", argv[0], format),
                       EXIT_HUSK_ERROR;
        struct row *rows;
        size_t n;
        if (collect(c->root, &rows, &n, err) < 0)
                return EXIT_HUSK_ERROR;
        if (n) /* qsort(NULL, 0) is undefined (UBSan) */
                qsort(rows, n, sizeof *rows, cmp_rows);
        if (quiet) {
                for (size_t i = 0; i < n; i++)
                        printf("%s\n", rows[i].st.id);
        } else if (!strcmp(format, "json")) {
                print_json(rows, n);
        } else {
                printf("%-20s %-20s %-30s %-8s %-10s %s\n", "ID", "IMAGE", "COMMAND", "STATUS", "AGE", "PID");
                for (size_t i = 0; i < n; i++) {
                        const struct container_state *s = &rows[i].st;
                        bool stopped = !strcmp(rows[i].status, "stopped");
                        char cmd[31], age[32];
                        const char *c = s->command ? s->command : "";
                        snprintf(cmd, sizeof cmd, "%s", c);
                        if (strlen(c) > 30)
                                memcpy(cmd + 27, "...", 4);
                        list_age(s->created, age, sizeof age);
                        printf("%-20s %-20s %-30s %-8s %-10s %d\n", s->id,
                               s->image ? s->image : s->bundle ? s->bundle : "", cmd, rows[i].status, age,
                               stopped ? 0 : s->pid);
                }
        }
        for (size_t i = 0; i < n; i++)
                container_state_free(&rows[i].st);
        free(rows);
        return 0;
}

static int cmd_spec(struct cli *c, int argc, char **argv, herr_t *err)
{
        (void)c;
        static const struct option opts[] = {
                { "rootless", no_argument, NULL, 'r' },
                { "bundle", required_argument, NULL, 'b' },
                { NULL, 0, NULL, 0 },
        };
        bool rootless = false;
        const char *bundle = ".";
        int o;
        opterr = 0;
        while ((o = getopt_long(argc, argv, "+b:", opts, NULL)) != -1) {
                if (o == 'r')
                        rootless = true;
                else if (o == 'b')
                        bundle = optarg;
                else
                        return cli_usage_error("spec", "unknown option", err), EXIT_HUSK_ERROR;
        }
        if (optind != argc)
                return cli_usage_error("spec", "takes no arguments", err), EXIT_HUSK_ERROR;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/config.json", bundle);
        if (access(path, F_OK) == 0)
                return herr_set(err, EEXIST, "%s: remove it first", path), EXIT_HUSK_ERROR;
        _cleanup_free_ char *json = NULL;
        size_t len;
        if (oci_default_config_json(rootless, &json, &len, err) < 0)
                return EXIT_HUSK_ERROR;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return herr_sys(err, "%s", path), EXIT_HUSK_ERROR;
        if (write_all(fd, json, len) < 0 || write_all(fd, "\n", 1) < 0)
                return herr_sys(err, "%s", path), EXIT_HUSK_ERROR;
        return 0;
}

static int cmd_features(struct cli *c, int argc, char **argv, herr_t *err)
{
        (void)c;
        if (argc > 1)
                return cli_usage_error("features", "takes no arguments", err), EXIT_HUSK_ERROR;
        (void)argv;
        _cleanup_free_ char *json = NULL;
        size_t len;
        if (oci_features_json(&json, &len, err) < 0)
                return EXIT_HUSK_ERROR;
        printf("%s\n", json);
        return 0;
}

static int cmd_image(struct cli *c, int argc, char **argv, herr_t *err)
{
        if (argc < 2)
                return cli_usage_error("image", "missing subcommand (import, ls, inspect, rm, prune)", err),
                       EXIT_HUSK_ERROR;
        int rc = image_cli(argc - 1, argv + 1, c->storage, err);
        return rc == 0 ? 0 : EXIT_HUSK_ERROR;
}

static const struct command table[] = {
        { "image", "manage the image store: import, ls, inspect, rm, prune",
          "image import [--name NAME[:TAG]] PATH[:TAG] | ls | inspect REF | rm REF | prune", cmd_image, false },
        { "list", "list containers", "list [--format table|json] [-q]", cmd_list, false },
        { "spec", "write a default config.json", "spec [--rootless] [--bundle DIR]", cmd_spec, false },
        { "features", "print the features husk supports (JSON)", "features", cmd_features, false },
        { NULL, NULL, NULL, NULL, false },
};

const struct command *commands_info(void)
{
        return table;
}
