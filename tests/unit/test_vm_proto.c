/* Unit tests of the VM control protocol parser and SPEC encoding. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vm/proto.h"

static size_t mk(uint8_t *b, uint32_t type, const char *payload)
{
        size_t n = strlen(payload);
        proto_put_hdr(b, type, (uint32_t)n);
        memcpy(b + PROTO_HDR_LEN, payload, n);
        return PROTO_HDR_LEN + n;
}

Test(vm_proto, roundtrip)
{
        uint8_t b[64];
        size_t n = mk(b, PROTO_STDOUT, "hello"), used = 0;
        struct frame f;
        cr_assert_eq(proto_parse(b, n, &f, &used), 1);
        cr_assert_eq(f.type, PROTO_STDOUT);
        cr_assert_eq(f.len, 5);
        cr_assert_eq(used, n);
        cr_assert_eq(memcmp(f.data, "hello", 5), 0);
}

Test(vm_proto, truncated_needs_more)
{
        uint8_t b[64];
        size_t n = mk(b, PROTO_STDERR, "abcdef"), used = 99;
        struct frame f;
        for (size_t i = 0; i < n; i++) {
                /* copy into an exact-size heap buffer so ASan catches over-reads */
                uint8_t *h = malloc(i ? i : 1);
                memcpy(h, b, i);
                cr_assert_eq(proto_parse(h, i, &f, &used), 0, "prefix %zu", i);
                free(h);
        }
        cr_assert_eq(used, 99);
}

Test(vm_proto, oversize_and_garbage)
{
        uint8_t b[PROTO_HDR_LEN];
        struct frame f;
        size_t used;
        proto_put_hdr(b, PROTO_STDOUT, PROTO_MAX_PAYLOAD + 1);
        cr_assert_eq(proto_parse(b, sizeof(b), &f, &used), -1);
        proto_put_hdr(b, 0, 1);
        cr_assert_eq(proto_parse(b, sizeof(b), &f, &used), -1);
        proto_put_hdr(b, PROTO_TYPE_END, 1);
        cr_assert_eq(proto_parse(b, sizeof(b), &f, &used), -1);
        memcpy(b, "GARBAGE!", 8);
        cr_assert_eq(proto_parse(b, sizeof(b), &f, &used), -1);
}

Test(vm_proto, empty_payload_and_stream)
{
        uint8_t b[64];
        size_t n = mk(b, PROTO_ACK, "");
        proto_put_hdr(b + n, PROTO_SIGNAL, 4);
        proto_put_u32(b + n + PROTO_HDR_LEN, 15);
        n += PROTO_HDR_LEN + 4;
        struct frame f;
        size_t used, off = 0;
        cr_assert_eq(proto_parse(b, n, &f, &used), 1);
        cr_assert_eq(f.type, PROTO_ACK);
        cr_assert_eq(f.len, 0);
        off += used;
        cr_assert_eq(proto_parse(b + off, n - off, &f, &used), 1);
        cr_assert_eq(f.type, PROTO_SIGNAL);
        cr_assert_eq(proto_get_u32(f.data), 15);
        off += used;
        cr_assert_eq(off, n);
}

Test(vm_proto, random_garbage_never_overreads)
{
        srand(42);
        for (int i = 0; i < 20000; i++) {
                size_t len = (size_t)(rand() % 32);
                uint8_t *h = malloc(len ? len : 1);
                for (size_t j = 0; j < len; j++)
                        h[j] = (uint8_t)rand();
                if (len >= 8 && (rand() & 1))
                        proto_put_hdr(h, (uint32_t)(rand() % 14), (uint32_t)(rand() % 40));
                struct frame f;
                size_t used = 0;
                int r = proto_parse(h, len, &f, &used);
                cr_assert(r >= -1 && r <= 1);
                if (r == 1)
                        cr_assert(used <= len && f.data + f.len <= h + len);
                struct proto_spec s;
                if (proto_spec_decode(h, len, &s) == 0)
                        proto_spec_free(&s);
                free(h);
        }
}

Test(vm_proto, send_then_parse)
{
        int p[2];
        cr_assert_eq(pipe(p), 0);
        cr_assert_eq(proto_send(p[1], PROTO_ERROR, "boom", 4), 0);
        uint8_t b[32];
        ssize_t n = read(p[0], b, sizeof(b));
        cr_assert_eq(n, 12);
        struct frame f;
        size_t used;
        cr_assert_eq(proto_parse(b, (size_t)n, &f, &used), 1);
        cr_assert_eq(f.type, PROTO_ERROR);
        cr_assert_str_eq(proto_type_name(f.type), "ERROR");
        close(p[0]);
        close(p[1]);
}

Test(vm_proto, spec_roundtrip)
{
        char *args[] = { "sh", "-c", "echo hi", NULL };
        char *env[] = { "PATH=/bin", "A=", NULL };
        struct proto_spec in = { .args = args, .env = env, .cwd = "/tmp", .uid = 1000,
                                 .gid = 100, .terminal = true, .rows = 24, .cols = 80 };
        uint8_t *buf;
        size_t len;
        cr_assert_eq(proto_spec_encode(&in, &buf, &len), 0);
        struct proto_spec out;
        cr_assert_eq(proto_spec_decode(buf, len, &out), 0);
        cr_assert_str_eq(out.args[2], "echo hi");
        cr_assert_null(out.args[3]);
        cr_assert_str_eq(out.env[1], "A=");
        cr_assert_null(out.env[2]);
        cr_assert_str_eq(out.cwd, "/tmp");
        cr_assert_eq(out.uid, 1000);
        cr_assert_eq(out.gid, 100);
        cr_assert(out.terminal);
        cr_assert_eq(out.rows, 24);
        cr_assert_eq(out.cols, 80);
        proto_spec_free(&out);
        /* every truncation is rejected or decodes a prefix, never over-reads */
        for (size_t i = 0; i < len; i++) {
                uint8_t *h = malloc(i ? i : 1);
                memcpy(h, buf, i);
                if (proto_spec_decode(h, i, &out) == 0)
                        proto_spec_free(&out);
                free(h);
        }
        free(buf);
}

Test(vm_proto, spec_files_roundtrip)
{
        char *args[] = { "true", NULL };
        uint8_t bin[] = { 0, 1, 2, 0, 255 };
        struct proto_file files[] = { { "/run/husk/a", bin, sizeof(bin) }, { "/run/husk/empty", bin, 0 } };
        struct proto_spec in = { .args = args, .files = files, .n_files = 2 };
        uint8_t *buf;
        size_t len;
        cr_assert_eq(proto_spec_encode(&in, &buf, &len), 0);
        struct proto_spec out;
        cr_assert_eq(proto_spec_decode(buf, len, &out), 0);
        cr_assert_eq(out.n_files, 2);
        cr_assert_str_eq(out.files[0].path, "/run/husk/a");
        cr_assert_eq(out.files[0].len, sizeof(bin));
        cr_assert_arr_eq(out.files[0].data, bin, sizeof(bin));
        cr_assert_str_eq(out.files[1].path, "/run/husk/empty");
        cr_assert_eq(out.files[1].len, 0);
        proto_spec_free(&out);
        free(buf);
        /* a file record without a path, or too many files, is malformed */
        uint8_t nopath[] = { SPEC_ARG, 0, 1, 0, 0, 0, 'a', SPEC_FILE, 0, 2, 0, 0, 0, 0, 'x' };
        cr_assert_eq(proto_spec_decode(nopath, sizeof(nopath), &out), -1);
        struct proto_file many[SPEC_MAX_FILES + 1];
        for (size_t i = 0; i <= SPEC_MAX_FILES; i++)
                many[i] = files[1];
        in.files = many;
        in.n_files = SPEC_MAX_FILES + 1;
        cr_assert_eq(proto_spec_encode(&in, &buf, &len), -1);
}

Test(vm_proto, spec_rejects_bad)
{
        struct proto_spec s;
        cr_assert_eq(proto_spec_decode((const uint8_t *)"", 0, &s), -1); /* no args */
        uint8_t b[16] = { SPEC_ARG, 0, 0xff, 0xff, 0xff, 0x7f };
        cr_assert_eq(proto_spec_decode(b, sizeof(b), &s), -1); /* length past end */
        uint8_t nul[] = { SPEC_ARG, 0, 3, 0, 0, 0, 'a', 0, 'b' };
        cr_assert_eq(proto_spec_decode(nul, sizeof(nul), &s), -1); /* embedded NUL */
        uint8_t uid[] = { SPEC_ARG, 0, 1, 0, 0, 0, 'a', SPEC_UID, 0, 2, 0, 0, 0, 1, 2 };
        cr_assert_eq(proto_spec_decode(uid, sizeof(uid), &s), -1); /* short u32 */
}
