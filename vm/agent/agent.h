/* husk guest agent (PID 1 of the VM initramfs). Static binary, libc only. */
#ifndef HUSK_VM_AGENT_H
#define HUSK_VM_AGENT_H

#include "../proto.h"

/* Print "husk-agent: ..." to the console (the VM's ttyS0). */
void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* husk.oci=1: the process is husk vm-guest; its fd 3 is a pipe whose data
 * the agent sends to the host as PROTO_STATUS frames. */
extern int agent_status_fd;
/* With husk.debug=1: log WHAT with the guest's monotonic time. */
void agent_mark(const char *what);

/* Run the process of spec, relay its stdio over ctl, send EXIT.
 * Returns 0 when EXIT was sent, -1 on a fatal channel error. */
int agent_run(int ctl, const struct proto_spec *spec);

/* Sessions (vm/agent/session.c). The container id when the main process
 * is husk's `/husk vm-guest ID ...`, else NULL. */
const char *session_container_id(const struct proto_spec *main_spec);
/* What a PROTO_EXEC/PS/KILL_ALL frame runs; msg gets the reason on -1. */
int session_spec(const char *cid, const struct frame *f, struct proto_spec *out, char *msg, size_t msglen);

/* Read one frame from ctl into the caller's buffer state (blocking).
 * Returns 1 with a frame, 0 on EOF, -1 on error. */
struct rbuf {
        uint8_t data[PROTO_HDR_LEN + PROTO_MAX_PAYLOAD];
        size_t len;
};
int agent_read_frame(int ctl, struct rbuf *rb, struct frame *f, size_t *used);
void rbuf_consume(struct rbuf *rb, size_t used);
extern struct rbuf agent_rb; /* bytes from the host not yet handled */

#endif
