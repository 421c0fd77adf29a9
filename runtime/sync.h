/* runtime/sync.h: framed messages between husk and the container's init
 * over a unix stream socket: {u8 type, u32 length, payload}, optionally
 * carrying one fd (SCM_RIGHTS). */
#ifndef HUSK_RUNTIME_SYNC_H
#define HUSK_RUNTIME_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"

#define SYNC_MAX_PAYLOAD (1u << 20)

enum sync_type {
        SYNC_USERNS = 'U',      /* init -> husk: write my id maps */
        SYNC_USERNS_DONE = 'u', /* husk -> init */
        SYNC_PID = 'P',         /* stage1 -> husk: host pid of init (int32) */
        SYNC_HOOKS = 'H',       /* init -> husk: ready for prestart/createRuntime */
        SYNC_CONTINUE = 'C',    /* husk -> init: go on; payload: state JSON */
        SYNC_READY = 'R',       /* init -> husk: created, waiting for start */
        SYNC_ERROR = 'E',       /* either way: payload is the message */
        SYNC_START = 'S',       /* start -> init: payload: state JSON */
        SYNC_FD = 'F',          /* init -> start: seccomp listener fd */
};

struct sync_msg {
        uint8_t type;
        uint32_t len;
        char *data;             /* NUL-terminated, malloc'ed (NULL when len 0) */
        int fd;                 /* received fd or -1 */
};

int sync_send(int sock, uint8_t type, const void *data, size_t len, int fd);
int sync_send_str(int sock, uint8_t type, const char *s);
/* Receive one message; 0 on success, -1 with errno (EPIPE on EOF). */
int sync_recv(int sock, struct sync_msg *m);
void sync_msg_free(struct sync_msg *m);

/* Receive a message and require type; an SYNC_ERROR carries the peer's
 * message into err; EOF means the peer died. */
int sync_expect(int sock, uint8_t type, struct sync_msg *m, const char *peer, herr_t *err);

#endif
