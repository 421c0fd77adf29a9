#include "test_images_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <openssl/evp.h>

#include "../../common/fileutil.h"

static char *pool[256];
static size_t npool;

char *tu_fmt(const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;
        va_start(ap, fmt);
        cr_assert(vasprintf(&s, fmt, ap) >= 0);
        va_end(ap);
        cr_assert(npool < 256);
        return pool[npool++] = s;
}

void tu_pool_free(void)
{
        while (npool)
                free(pool[--npool]);
}

char *tu_tmpdir(void)
{
        char t[] = "/tmp/husk-imgtest-XXXXXX";
        cr_assert(mkdtemp(t));
        return strdup(t);
}

void tu_rmrf(const char *dir)
{
        char cmd[512];
        snprintf(cmd, sizeof cmd,
                 "grep -o ' %s/[^ ]*' /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null;"
                 " rm -rf '%s'", dir, dir);
        cr_assert_eq(system(cmd), 0);
}

int tu_count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        if (!d)
                return -1;
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

bool tu_exists(const char *path)
{
        struct stat st;
        return lstat(path, &st) == 0;
}

static void hex_of(const void *buf, size_t len, char *out)
{
        unsigned char md[32];
        unsigned int n;
        EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL);
        for (int i = 0; i < 32; i++)
                sprintf(out + 2 * i, "%02x", md[i]);
}

void tu_blob(const char *layout, const void *buf, size_t len, const char *mt, struct tdesc *out)
{
        char hex[65], p[1024];
        hex_of(buf, len, hex);
        snprintf(p, sizeof p, "%s/blobs/sha256", layout);
        herr_t e = { 0 };
        cr_assert_eq(mkdir_p(p, 0755, &e), 0, "%s", e.msg);
        snprintf(p, sizeof p, "%s/blobs/sha256/%s", layout, hex);
        cr_assert_eq(write_file_atomic(p, buf, len, 0644, &e), 0, "%s", e.msg);
        snprintf(out->digest, sizeof out->digest, "sha256:%s", hex);
        snprintf(out->media_type, sizeof out->media_type, "%s", mt);
        out->size = (int64_t)len;
}

static void add_entry(struct archive *a, const struct tentry *t)
{
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, t->path);
        archive_entry_set_mtime(e, 0, 0);
        size_t len = t->data ? strlen(t->data) : 0;
        switch (t->type) {
        case 'f': archive_entry_set_filetype(e, AE_IFREG); archive_entry_set_perm(e, 0644);
                  archive_entry_set_size(e, (la_int64_t)len); break;
        case 'd': archive_entry_set_filetype(e, AE_IFDIR); archive_entry_set_perm(e, 0755); break;
        case 'l': archive_entry_set_filetype(e, AE_IFLNK); archive_entry_set_perm(e, 0777);
                  archive_entry_set_symlink(e, t->data); break;
        case 'h': archive_entry_set_filetype(e, AE_IFREG); archive_entry_set_perm(e, 0644);
                  archive_entry_set_hardlink(e, t->data); archive_entry_set_size(e, 0); break;
        case 'c': case 'b':
                  archive_entry_set_filetype(e, t->type == 'c' ? AE_IFCHR : AE_IFBLK);
                  archive_entry_set_perm(e, 0600); archive_entry_set_rdev(e, makedev(8, 0)); break;
        }
        cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK, "%s", archive_error_string(a));
        if (t->type == 'f' && len)
                cr_assert_eq(archive_write_data(a, t->data, len), (la_ssize_t)len);
        archive_entry_free(e);
}

static char *write_tar(const char *layout, const struct tentry *e, size_t n, const char *filter,
                       size_t *len)
{
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%s.layer.tmp", layout);
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        if (filter && strcmp(filter, "gzip") == 0)
                archive_write_add_filter_gzip(a);
        else if (filter && strcmp(filter, "zstd") == 0)
                cr_assert_eq(archive_write_add_filter_zstd(a), ARCHIVE_OK);
        cr_assert_eq(archive_write_open_filename(a, tmp), ARCHIVE_OK);
        for (size_t i = 0; i < n; i++)
                add_entry(a, &e[i]);
        archive_write_close(a);
        archive_write_free(a);
        char *buf = NULL;
        herr_t er = { 0 };
        cr_assert_eq(read_file(tmp, 1 << 30, &buf, len, &er), 0, "%s", er.msg);
        unlink(tmp);
        return buf;
}

void tu_layer(const char *layout, const struct tentry *e, size_t n, const char *filter,
              struct tdesc *out)
{
        size_t len = 0;
        char *buf = write_tar(layout, e, n, NULL, &len), hex[65];
        hex_of(buf, len, hex);
        if (filter) {
                free(buf);
                buf = write_tar(layout, e, n, filter, &len);
        }
        char mt[96];
        snprintf(mt, sizeof mt, "application/vnd.oci.image.layer.v1.tar%s%s", filter ? "+" : "",
                 filter ? filter : "");
        tu_blob(layout, buf, len, mt, out);
        snprintf(out->diff_id, sizeof out->diff_id, "sha256:%s", hex);
        free(buf);
}

static void desc_json(FILE *f, const struct tdesc *d)
{
        fprintf(f, "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}", d->media_type, d->digest,
                (long long)d->size);
}

void tu_image(const char *layout, const struct tdesc *layers, size_t n, const char *config_body,
              const char *tag, struct tdesc *manifest)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        fprintf(f, "{\"created\":\"2024-05-06T07:08:09Z\",\"architecture\":\"amd64\",\"os\":\"linux\","
                   "\"config\":{%s},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[", config_body ? config_body : "");
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s\"%s\"", i ? "," : "", layers[i].diff_id);
        fprintf(f, "]}}");
        fclose(f);
        struct tdesc cfg;
        tu_blob(layout, buf, len, "application/vnd.oci.image.config.v1+json", &cfg);
        free(buf);
        f = open_memstream(&buf, &len);
        fprintf(f, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":");
        desc_json(f, &cfg);
        fprintf(f, ",\"layers\":[");
        for (size_t i = 0; i < n; i++) {
                fprintf(f, "%s", i ? "," : "");
                desc_json(f, &layers[i]);
        }
        fprintf(f, "]}");
        fclose(f);
        tu_blob(layout, buf, len, "application/vnd.oci.image.manifest.v1+json", manifest);
        free(buf);
        char p[1024], idx[1024];
        herr_t e = { 0 };
        snprintf(idx, sizeof idx, "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\","
                 "\"size\":%lld,\"annotations\":{\"org.opencontainers.image.ref.name\":\"%s\"}}]}",
                 manifest->media_type, manifest->digest, (long long)manifest->size, tag ? tag : "latest");
        snprintf(p, sizeof p, "%s/index.json", layout);
        cr_assert_eq(write_file_atomic(p, idx, strlen(idx), 0644, &e), 0);
        snprintf(p, sizeof p, "%s/oci-layout", layout);
        cr_assert_eq(write_file_atomic(p, "{\"imageLayoutVersion\":\"1.0.0\"}", 30, 0644, &e), 0);
}

char *tu_busybox_layout(const char *tmp)
{
        char *out = tu_fmt("%s/busybox-oci", tmp), cmd[1024];
        snprintf(cmd, sizeof cmd, "sh ../images/make-busybox-layout.sh %s >/dev/null", out);
        cr_assert_eq(system(cmd), 0, "make-busybox-layout.sh failed (run from tests/)");
        return out;
}
