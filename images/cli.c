/* images/cli.c: `husk image import|ls|inspect|rm|prune`. The only file of
 * images/ that prints (results to stdout; errors go back in err). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "../common/cleanup.h"
#include "internal.h"

static void progress(const char *digest, uint64_t done, uint64_t total, void *data)
{
        (void)data;
        printf("\rimporting %.19s… %llu MiB / %llu MiB", digest, (unsigned long long)(done >> 20),
               (unsigned long long)(total >> 20));
        if (done >= total)
                fputs("\033[K\n", stdout);
        fflush(stdout);
}

static int usage(herr_t *err, const char *u)
{
        herr_plain(err, EINVAL, "usage: husk image %s", u);
        return 2;
}

static int cmd_import(int argc, char **argv, const char *storage, herr_t *err)
{
        static const char u[] = "import [--name NAME[:TAG]] [--allow-devices] PATH[:TAG]";
        struct image_import_opts o = { 0 };
        const char *path = NULL;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
                        o.name = argv[++i];
                else if (strcmp(argv[i], "--allow-devices") == 0)
                        o.allow_devices = true;
                else if (argv[i][0] == '-' || path)
                        return usage(err, u);
                else
                        path = argv[i];
        }
        if (!path)
                return usage(err, u);
        _cleanup_free_ char *p = strdup(path), *ref = NULL;
        if (!p)
                return herr_set(err, ENOMEM, "import"), 1;
        struct stat st;
        char *colon = strrchr(p, ':');
        if (stat(p, &st) < 0 && colon && colon != p) {
                *colon = '\0';
                o.select_tag = colon + 1;
        }
        if (isatty(STDOUT_FILENO))
                o.progress = progress;
        if (image_import(storage, p, &o, &ref, err) < 0)
                return 1;
        _cleanup_free_ char *dg = NULL;
        if (image_resolve(storage, ref, &dg, err) < 0)
                return 1;
        printf("imported %s %s\n", ref, dg);
        return 0;
}

static void human(uint64_t n, char *buf, size_t sz)
{
        const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        double v = (double)n;
        size_t i = 0;
        while (v >= 1024 && i < 4) {
                v /= 1024;
                i++;
        }
        snprintf(buf, sz, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void created_of(const char *storage, const char *cfg_digest, char out[32])
{
        _cleanup_free_ char *buf = NULL;
        herr_t e = { 0 };
        snprintf(out, 32, "-");
        if (blob_read(storage, cfg_digest, MAX_JSON_BLOB, &buf, NULL, &e) < 0)
                return;
        yajl_val v = yajl_tree_parse(buf, NULL, 0);
        const char *p[] = { "created", NULL };
        yajl_val c = v ? yajl_tree_get(v, p, yajl_t_string) : NULL;
        if (c)
                snprintf(out, 32, "%.19s", YAJL_GET_STRING(c));
        if (v)
                yajl_tree_free(v);
}

static int cmd_ls(const char *storage, herr_t *err)
{
        struct ref_entry *r = NULL;
        size_t n = 0;
        if (refs_load(storage, &r, &n, err) < 0)
                return 1;
        printf("%-40s %-12s %10s  %s\n", "REF", "DIGEST", "SIZE", "CREATED");
        for (size_t i = 0; i < n; i++) {
                struct image_manifest m;
                herr_t e = { 0 };
                uint64_t size = 0;
                char sz[32] = "?", created[32] = "-";
                if (image_load_manifest(storage, r[i].digest, &m, &e) == 0) {
                        size = (uint64_t)m.config.size;
                        for (size_t j = 0; j < m.n_layers; j++)
                                size += (uint64_t)m.layers[j].size;
                        human(size, sz, sizeof sz);
                        created_of(storage, m.config.digest, created);
                        manifest_free(&m);
                }
                printf("%-40s %-12.12s %10s  %s\n", r[i].name, r[i].digest + 7, sz, created);
        }
        refs_free(r, n);
        return 0;
}

static int valid_json(const char *s)
{
        yajl_val v = yajl_tree_parse(s, NULL, 0);
        if (v)
                yajl_tree_free(v);
        return v != NULL;
}

static int cmd_inspect(const char *storage, const char *ref, herr_t *err)
{
        _cleanup_free_ char *dg = NULL, *man = NULL, *cfg = NULL;
        struct image_manifest m;
        if (image_resolve(storage, ref, &dg, err) < 0 || image_load_manifest(storage, dg, &m, err) < 0)
                return 1;
        int rc = blob_read(storage, dg, MAX_JSON_BLOB, &man, NULL, err);
        if (rc == 0)
                rc = blob_read(storage, m.config.digest, MAX_JSON_BLOB, &cfg, NULL, err);
        if (rc == 0 && !valid_json(cfg))
                rc = herr_plain(err, EINVAL, "config %s: invalid JSON", m.config.digest);
        if (rc == 0) {
                printf("{\n\"ref\": \"%s\",\n\"digest\": \"%s\",\n\"layers\": [", ref, dg);
                for (size_t i = 0; i < m.n_layers; i++)
                        printf("%s\"%s/layers/%s\"", i ? ", " : "", storage, digest_hex(m.layers[i].digest));
                printf("],\n\"manifest\": %s,\n\"config\": %s\n}\n", man, cfg);
        }
        manifest_free(&m);
        return rc < 0 ? 1 : 0;
}

int image_cli(int argc, char **argv, const char *storage, herr_t *err)
{
        static const char u[] = "import|ls|inspect|rm|prune ...";
        if (!storage)
                storage = IMAGE_DEFAULT_STORAGE;
        if (argc < 1)
                return usage(err, u);
        const char *c = argv[0];
        if (strcmp(c, "import") == 0)
                return cmd_import(argc, argv, storage, err);
        if (strcmp(c, "ls") == 0 || strcmp(c, "list") == 0)
                return argc == 1 ? cmd_ls(storage, err) : usage(err, "ls");
        if (strcmp(c, "inspect") == 0)
                return argc == 2 ? cmd_inspect(storage, argv[1], err) : usage(err, "inspect REF");
        if (strcmp(c, "rm") == 0) {
                if (argc < 2)
                        return usage(err, "rm REF...");
                for (int i = 1; i < argc; i++) {
                        if (image_remove(storage, argv[i], err) < 0)
                                return 1;
                        printf("removed %s\n", argv[i]);
                }
                return 0;
        }
        if (strcmp(c, "prune") == 0) {
                unsigned n = 0;
                if (argc != 1)
                        return usage(err, "prune");
                if (image_prune(storage, &n, err) < 0)
                        return 1;
                printf("pruned %u blobs and layers\n", n);
                return 0;
        }
        return usage(err, u);
}
