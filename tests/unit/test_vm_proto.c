/* Unit tests of the VM control protocol parser and SPEC encoding. */
#include <criterion/criterion.h>
#include <errno.h>
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
                        proto_put_hdr(h, (uint32_t)(rand() % (PROTO_TYPE_END + 2)), (uint32_t)(rand() % 40));
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

/* Each type carries the payload length it is defined with, no other. */
Test(vm_proto, lengths_per_type)
{
        static const struct { uint32_t type, len; int ok; } cases[] = {
                { PROTO_READY, 0, 1 },      { PROTO_READY, 1, 0 },      { PROTO_SIGNAL, 4, 1 },
                { PROTO_SIGNAL, 3, 0 },     { PROTO_SIGNAL, 5, 0 },     { PROTO_WINSIZE, 4, 1 },
                { PROTO_WINSIZE, 8, 0 },    { PROTO_EXIT, 8, 1 },       { PROTO_EXIT, 4, 0 },
                { PROTO_ACK, 0, 1 },        { PROTO_ACK, 2, 0 },        { PROTO_STDIN_EOF, 1, 0 },
                { PROTO_EXEC, 3, 0 },       { PROTO_EXEC, 4, 1 },       { PROTO_EXEC, 40, 1 },
                { PROTO_PS, 8, 1 },         { PROTO_PS, 4, 0 },         { PROTO_KILL_ALL, 8, 1 },
                { PROTO_KILL_ALL, 12, 0 },  { PROTO_XSTDIN, 4, 1 },     { PROTO_XSTDIN, 0, 0 },
                { PROTO_XSTDIN_EOF, 4, 1 }, { PROTO_XSTDIN_EOF, 5, 0 }, { PROTO_XSTDOUT, 9, 1 },
                { PROTO_XSTDERR, 2, 0 },    { PROTO_XSIGNAL, 8, 1 },    { PROTO_XSIGNAL, 4, 0 },
                { PROTO_XWINSIZE, 8, 1 },   { PROTO_XWINSIZE, 6, 0 },   { PROTO_XSTARTED, 8, 1 },
                { PROTO_XSTARTED, 4, 0 },   { PROTO_XEXIT, 12, 1 },     { PROTO_XEXIT, 8, 0 },
                { PROTO_XERROR, 4, 1 },     { PROTO_XERROR, 3, 0 },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                uint8_t b[PROTO_HDR_LEN + 64] = { 0 };
                proto_put_hdr(b, cases[i].type, cases[i].len);
                if (cases[i].len >= 4)
                        proto_put_u32(b + PROTO_HDR_LEN, 7); /* a session id */
                struct frame f;
                size_t used;
                int r = proto_parse(b, PROTO_HDR_LEN + cases[i].len, &f, &used);
                cr_assert_eq(r, cases[i].ok ? 1 : -1, "%s with %u bytes", proto_type_name(cases[i].type),
                             cases[i].len);
                /* a bad length is rejected from the header alone */
                if (!cases[i].ok)
                        cr_assert_eq(proto_parse(b, PROTO_HDR_LEN, &f, &used), -1);
        }
}

Test(vm_proto, session_id_zero_rejected)
{
        uint8_t b[PROTO_HDR_LEN + 12] = { 0 };
        struct frame f;
        size_t used;
        proto_put_hdr(b, PROTO_XEXIT, 12);
        cr_assert_eq(proto_parse(b, sizeof(b), &f, &used), -1);
        proto_put_u32(b + PROTO_HDR_LEN, 1);
        cr_assert_eq(proto_parse(b, sizeof(b), &f, &used), 1);
        cr_assert(proto_is_session(f.type));
        cr_assert(!proto_is_session(PROTO_EXIT));
}

Test(vm_proto, send_id_then_parse)
{
        int p[2];
        cr_assert_eq(pipe(p), 0);
        cr_assert_eq(proto_send_id(p[1], PROTO_XSTDOUT, 42, "out", 3), 0);
        cr_assert_eq(proto_send_id(p[1], PROTO_XSTDIN_EOF, 43, NULL, 0), 0);
        uint8_t b[64];
        ssize_t n = read(p[0], b, sizeof(b));
        cr_assert_eq(n, PROTO_HDR_LEN + 7 + PROTO_HDR_LEN + 4);
        struct frame f;
        size_t used;
        cr_assert_eq(proto_parse(b, (size_t)n, &f, &used), 1);
        cr_assert_eq(f.type, PROTO_XSTDOUT);
        cr_assert_eq(proto_get_u32(f.data), 42);
        cr_assert_eq(memcmp(f.data + 4, "out", 3), 0);
        cr_assert_eq(proto_parse(b + used, (size_t)n - used, &f, &used), 1);
        cr_assert_eq(f.type, PROTO_XSTDIN_EOF);
        cr_assert_eq(proto_get_u32(f.data), 43);
        cr_assert_str_eq(proto_type_name(PROTO_XSTARTED), "XSTARTED");
        /* the id counts against the cap */
        errno = 0;
        cr_assert_eq(proto_send_id(p[1], PROTO_XSTDOUT, 1, b, PROTO_MAX_PAYLOAD - 3), -1);
        cr_assert_eq(errno, E2BIG);
        close(p[0]);
        close(p[1]);
}
