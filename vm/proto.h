/* husk VM control protocol: one virtio-serial port carries framed messages
 * between the host (vm/boot.c) and the guest agent (vm/agent/).
 *
 * Frame: u32 type, u32 length (both little-endian), then length bytes.
 * This file is compiled into both the host library and the static agent:
 * it depends on libc only.
 */
#ifndef HUSK_VM_PROTO_H
#define HUSK_VM_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_HDR_LEN 8u
#define PROTO_MAX_PAYLOAD (256u * 1024u) /* hard cap; larger frames are errors */
#define PROTO_CHUNK (32u * 1024u)        /* what senders put in one stdio frame */

enum proto_type {
        PROTO_READY = 1,  /* guest -> host: agent up, share mounted */
        PROTO_SPEC,       /* host -> guest: process to run (TLV, see below) */
        PROTO_STDIN,      /* host -> guest: bytes for the process's stdin */
        PROTO_STDIN_EOF,  /* host -> guest: close the process's stdin */
        PROTO_STDOUT,     /* guest -> host */
        PROTO_STDERR,     /* guest -> host */
        PROTO_SIGNAL,     /* host -> guest: u32 signal number */
        PROTO_WINSIZE,    /* host -> guest: u16 rows, u16 cols */
        PROTO_EXIT,       /* guest -> host: u32 signaled (0/1), u32 code/signal */
        PROTO_ACK,        /* host -> guest: exit received, power off */
        PROTO_ERROR,      /* either way: text message, fatal for the session */
        PROTO_STATUS,     /* guest -> host: what the process wrote to its fd 3
                             (husk vm-guest: "S" started, "E<message>" failed) */
        /* Sessions: more processes in the same guest (husk exec, ps, kill
         * --all). Each payload starts with a u32 session id chosen by the
         * host (never 0: the frames above are the container's main process). */
        PROTO_EXEC,       /* host -> guest: u32 id, SPEC payload: a process in the container */
        PROTO_PS,         /* host -> guest: u32 id, u32 flags (PROTO_PS_JSON): list the
                             container's processes as output of the session */
        PROTO_KILL_ALL,   /* host -> guest: u32 id, u32 signal: every process of the container */
        PROTO_XSTDIN,     /* host -> guest: u32 id, bytes */
        PROTO_XSTDIN_EOF, /* host -> guest: u32 id */
        PROTO_XSTDOUT,    /* guest -> host: u32 id, bytes */
        PROTO_XSTDERR,    /* guest -> host: u32 id, bytes */
        PROTO_XSIGNAL,    /* host -> guest: u32 id, u32 signal number */
        PROTO_XWINSIZE,   /* host -> guest: u32 id, u16 rows, u16 cols */
        PROTO_XSTARTED,   /* guest -> host: u32 id, u32 guest pid: the session runs */
        PROTO_XEXIT,      /* guest -> host: u32 id, u32 signaled, u32 code/signal: session over */
        PROTO_XERROR,     /* guest -> host: u32 id, text: the session could not run (over) */
        PROTO_TYPE_END
};

#define PROTO_PS_JSON 1u

/* Whether type is a session frame (payload starts with a u32 id). */
static inline bool proto_is_session(uint32_t type)
{
        return type >= PROTO_EXEC && type < PROTO_TYPE_END;
}

struct frame {
        uint32_t type;
        uint32_t len;
        const uint8_t *data; /* points into the parsed buffer */
};

/* Parse one frame from buf[0..len). Returns 1 and fills out/consumed when a
 * whole frame is present, 0 when more data is needed (nothing consumed), -1
 * on a malformed stream (unknown type, length over the cap or not what the
 * type carries, e.g. SIGNAL without exactly 4 bytes, a session frame without
 * its id, a session id 0). Never reads past buf + len. */
int proto_parse(const uint8_t *buf, size_t len, struct frame *out, size_t *consumed);

/* Encode a header into hdr. */
void proto_put_hdr(uint8_t hdr[PROTO_HDR_LEN], uint32_t type, uint32_t len);

/* Write one frame to fd (blocking, retries EINTR/EAGAIN with poll). Returns
 * 0 or -1 with errno set. len must be <= PROTO_MAX_PAYLOAD. */
int proto_send(int fd, uint32_t type, const void *data, size_t len);

/* The same for a session frame: u32 id, then data. len + 4 <= PROTO_MAX_PAYLOAD. */
int proto_send_id(int fd, uint32_t type, uint32_t id, const void *data, size_t len);

const char *proto_type_name(uint32_t type);

/* Little-endian helpers. */
static inline void proto_put_u32(uint8_t *p, uint32_t v)
{
        p[0] = v & 0xff; p[1] = (v >> 8) & 0xff; p[2] = (v >> 16) & 0xff; p[3] = v >> 24;
}
static inline uint32_t proto_get_u32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- SPEC payload: a sequence of records {u16 tag, u32 len, bytes}. ---- */
enum spec_tag {
        SPEC_ARG = 1,  /* one per argv element, in order */
        SPEC_ENV,      /* one per "K=V" */
        SPEC_CWD,
        SPEC_UID,      /* u32 */
        SPEC_GID,      /* u32 */
        SPEC_TERMINAL, /* u32 0/1 */
        SPEC_ROWS,     /* u32 */
        SPEC_COLS,     /* u32 */
        SPEC_FILE,     /* path, NUL, contents: a file the agent writes before it
                          starts the process (under /run/husk/ only) */
};

#define SPEC_MAX_STRINGS 4096
#define SPEC_MAX_STRLEN (64u * 1024u)

#define SPEC_MAX_FILES 8

struct proto_file {
        char *path;
        uint8_t *data;
        size_t len;
};

struct proto_spec {
        char **args; /* NULL-terminated */
        char **env;  /* NULL-terminated */
        char *cwd;   /* NULL: "/" */
        uint32_t uid, gid;
        bool terminal;
        uint16_t rows, cols;
        struct proto_file *files;
        size_t n_files;
};

/* Encode spec into a malloc'd buffer (fits PROTO_MAX_PAYLOAD or fails with
 * E2BIG). Returns 0 or -1 with errno set. */
int proto_spec_encode(const struct proto_spec *s, uint8_t **out, size_t *out_len);
/* Decode; on success s owns malloc'd memory (free with proto_spec_free).
 * Returns 0, or -1 on malformed input (EINVAL) or allocation failure. */
int proto_spec_decode(const uint8_t *buf, size_t len, struct proto_spec *s);
void proto_spec_free(struct proto_spec *s);

#endif
