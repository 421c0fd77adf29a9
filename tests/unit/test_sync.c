/* runtime/sync.c: messages from two processes sharing one socket arrive
 * whole (husk exec's C1 and C2 both write to the same socket). */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../runtime/sync.h"

#define PER_WRITER 3000

static void writer(int sock, int id)
{
        char msg[200];
        for (int i = 0; i < PER_WRITER; i++) {
                int rc;
                if (id == 0) {
                        int32_t v = i;
                        rc = sync_send(sock, SYNC_PID, &v, sizeof v, -1);
                } else {
                        snprintf(msg, sizeof msg, "writer 1 message %d: %0120d", i, i);
                        rc = sync_send_str(sock, SYNC_ERROR, msg);
                }
                if (rc < 0)
                        _exit(1);
        }
        _exit(0);
}

Test(sync, concurrent_writers_never_interleave)
{
        int sv[2];
        cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        pid_t w[2];
        for (int id = 0; id < 2; id++) {
                w[id] = fork();
                cr_assert_geq(w[id], 0);
                if (w[id] == 0) {
                        close(sv[0]);
                        writer(sv[1], id);
                }
        }
        close(sv[1]);
        int next[2] = { 0, 0 };
        struct sync_msg m;
        while (sync_recv(sv[0], &m) == 0) {
                if (m.type == SYNC_PID) {
                        cr_assert_eq(m.len, sizeof(int32_t), "a pid message of %u bytes", m.len);
                        int32_t v;
                        memcpy(&v, m.data, sizeof v);
                        cr_assert_eq(v, next[0], "pid message %d arrived as %d", next[0], v);
                        next[0]++;
                } else {
                        cr_assert_eq(m.type, SYNC_ERROR, "message type %#x after %d+%d messages", m.type,
                                     next[0], next[1]);
                        char want[200];
                        snprintf(want, sizeof want, "writer 1 message %d: %0120d", next[1], next[1]);
                        cr_assert_str_eq(m.data, want);
                        next[1]++;
                }
                sync_msg_free(&m);
        }
        for (int id = 0; id < 2; id++) {
                int st;
                cr_assert_eq(waitpid(w[id], &st, 0), w[id]);
                cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer %d failed", id);
        }
        cr_assert_eq(next[0], PER_WRITER);
        cr_assert_eq(next[1], PER_WRITER);
        close(sv[0]);
}
