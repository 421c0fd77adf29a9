/* husk guest agent (PID 1 of the VM initramfs). Static binary, libc only. */
#ifndef HUSK_VM_AGENT_H
#define HUSK_VM_AGENT_H

#include "../proto.h"

/* Print "husk-agent: ..." to the console (the VM's ttyS0). */
void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* With husk.debug=1: log WHAT with the guest's monotonic time. */
void agent_mark(const char *what);

/* Run the process of spec, relay its stdio over ctl, send EXIT.
 * Returns 0 when EXIT was sent, -1 on a fatal channel error. */
int agent_run(int ctl, const struct proto_spec *spec);

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
