/* runtime/terminal.h: process.terminal — the pty, --console-socket and the
 * foreground relay of `husk run`. */
#ifndef HUSK_RUNTIME_TERMINAL_H
#define HUSK_RUNTIME_TERMINAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "../common/error.h"
#include "../spec/config.h"

/* Connect to the unix socket at path (any length). */
int console_socket_connect(const char *path, herr_t *err);

/* In the container init, before pivot_root: open the container's ptmx
 * (inside rootfd), return the master and its peer (slave) fd. */
int terminal_open(int rootfd, const struct oci_console_size *size, int *master, int *slave, herr_t *err);

/* Send the master over the console socket (SCM_RIGHTS, the pty name as
 * payload, like runc). */
int terminal_send(int sock, int master, herr_t *err);
/* Receive a master sent by terminal_send. */
int terminal_recv(int sock, herr_t *err);

/* Make slave the controlling terminal and stdio of the calling process. */
int terminal_attach(int slave, herr_t *err);

/* Foreground relay between the user's terminal (stdin/stdout) and master
 * until the master hangs up or stop_fd is readable. Puts stdin in raw mode
 * when it is a tty and restores it; SIGWINCH resizes follow. */
struct relay {
        int master;
        bool raw;
        bool saved;
        bool stdin_eof;
        char termios[64];       /* struct termios, opaque here */
};
int relay_begin(struct relay *r, int master, herr_t *err);
/* One poll round; returns 1 when the master is closed, 0 otherwise. */
int relay_pump(struct relay *r, int timeout_ms);
void relay_resize(struct relay *r);
void relay_end(struct relay *r);

#endif
