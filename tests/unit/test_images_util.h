/* Helpers for the images tests: temporary dirs and OCI layouts built with
 * libarchive's writer (no fixtures on disk). */
#ifndef HUSK_TESTS_IMAGES_UTIL_H
#define HUSK_TESTS_IMAGES_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One tar entry: type 'f' file (data), 'd' dir, 'l' symlink (data =
 * target), 'h' hardlink (data = target), 'c'/'b' char/block device. */
struct tentry {
        const char *path;
        char type;
        const char *data;
};

struct tdesc {
        char media_type[96];
        char digest[72];
        char diff_id[72];   /* sha256 of the uncompressed tar (layers) */
        int64_t size;
};

char *tu_tmpdir(void);
/* printf into a string freed by tu_pool_free() (call it in .fini). */
char *tu_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tu_pool_free(void);
/* Unmount anything below dir and remove it. */
void tu_rmrf(const char *dir);
int tu_count_entries(const char *dir); /* entries of a directory, -1 if missing */
/* Write a layer (filter NULL, "gzip" or "zstd") into layout/blobs/sha256. */
void tu_layer(const char *layout, const struct tentry *e, size_t n, const char *filter,
              struct tdesc *out);
/* Write config (config_body = the "config" object's members), manifest and
 * index.json (ref.name = tag) of an image made of layers. */
void tu_image(const char *layout, const struct tdesc *layers, size_t n, const char *config_body,
              const char *tag, struct tdesc *manifest);
/* Write a blob from memory into the layout. */
void tu_blob(const char *layout, const void *buf, size_t len, const char *mt, struct tdesc *out);
bool tu_exists(const char *path);
/* Path of the busybox layout (built once per test process into a tmp dir). */
char *tu_busybox_layout(const char *tmp);

#endif
