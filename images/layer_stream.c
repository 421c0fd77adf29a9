/* images/layer_stream.c: a layer's tar stream, decompressed once and
 * hashed on the way (the diff_id of config.rootfs.diff_ids).
 *
 * A first libarchive reader (gzip/zstd filters, raw format) decompresses
 * the blob; a second one (tar format) reads that stream through
 * stream_read(), which hashes every byte it hands over. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "../common/cleanup.h"
#include "internal.h"

#define STREAM_BUF (1 << 16)

struct layer_stream {
        struct archive *raw, *tar;
        EVP_MD_CTX *md;
        bool raw_eof;
        char buf[STREAM_BUF];
};

static la_ssize_t stream_read(struct archive *a, void *data, const void **out)
{
        struct layer_stream *s = data;
        *out = s->buf;
        if (s->raw_eof)
                return 0;
        la_ssize_t n = archive_read_data(s->raw, s->buf, sizeof s->buf);
        if (n < 0) {
                archive_set_error(a, EIO, "decompress: %s", archive_error_string(s->raw));
                return -1;
        }
        EVP_DigestUpdate(s->md, s->buf, (size_t)n);
        return n;
}

void layer_stream_free(struct layer_stream *s)
{
        if (!s)
                return;
        if (s->tar)
                archive_read_free(s->tar);
        if (s->raw)
                archive_read_free(s->raw);
        if (s->md)
                EVP_MD_CTX_free(s->md);
        free(s);
}

int layer_stream_open(int fd, struct layer_stream **out, struct archive **tar, herr_t *err)
{
        struct layer_stream *s = calloc(1, sizeof *s);
        if (!s || !(s->md = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) ||
            !(s->raw = archive_read_new()) || !(s->tar = archive_read_new())) {
                layer_stream_free(s);
                return herr_set(err, ENOMEM, "layer stream");
        }
        archive_read_support_filter_gzip(s->raw);
        archive_read_support_filter_zstd(s->raw);
        archive_read_support_format_raw(s->raw);
        archive_read_support_format_empty(s->raw);
        struct archive_entry *e;
        int r = archive_read_open_fd(s->raw, fd, STREAM_BUF);
        if (r == ARCHIVE_OK)
                r = archive_read_next_header(s->raw, &e);
        if (r == ARCHIVE_EOF) {
                s->raw_eof = true;
        } else if (r != ARCHIVE_OK) {
                herr_plain(err, EINVAL, "not a tar, tar+gzip or tar+zstd stream: %s",
                           archive_error_string(s->raw));
                layer_stream_free(s);
                return -1;
        }
        archive_read_support_format_tar(s->tar);
        archive_read_support_format_empty(s->tar);
        if (archive_read_open(s->tar, s, NULL, stream_read, NULL) != ARCHIVE_OK) {
                herr_plain(err, EINVAL, "not a tar archive: %s", archive_error_string(s->tar));
                layer_stream_free(s);
                return -1;
        }
        *tar = s->tar;
        *out = s;
        return 0;
}

int layer_stream_finish(struct layer_stream *s, const char *expect, herr_t *err)
{
        for (;;) { /* hash what follows the tar's end marker too */
                la_ssize_t n = s->raw_eof ? 0 : archive_read_data(s->raw, s->buf, sizeof s->buf);
                if (n < 0)
                        return herr_plain(err, EIO, "decompress: %s", archive_error_string(s->raw));
                if (n == 0)
                        break;
                EVP_DigestUpdate(s->md, s->buf, (size_t)n);
        }
        if (!expect)
                return 0;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        char hex[DIGEST_HEX_LEN + 1];
        EVP_DigestFinal_ex(s->md, md, &len);
        for (unsigned i = 0; i < 32; i++)
                snprintf(hex + 2 * i, 3, "%02x", md[i]);
        if (!digest_hex(expect) || strcmp(hex, expect + 7) != 0)
                return herr_plain(err, EBADMSG, "diff_id mismatch: uncompressed content is "
                                  "sha256:%.12s…, config says %s", hex, expect);
        return 0;
}
