/* runtime/supervise.h: a foreground husk waiting for the process it
 * started (run, exec, the VM guest): reap children as their subreaper,
 * forward signals, relay the terminal, enforce a wall-clock limit. */
#ifndef HUSK_RUNTIME_SUPERVISE_H
#define HUSK_RUNTIME_SUPERVISE_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "terminal.h"

/* Block every signal but the synchronous faults and return a signalfd of
 * them (old: the previous mask). */
int block_signals(sigset_t *old);

/* Exit status as a shell reports it: the code, or 128+N for signal N. */
int wait_status(int status);

/* Wait until pid is reaped; signals read from sfd are forwarded to pid
 * (SIGWINCH resizes tty instead); tty (may be NULL) is pumped; when the
 * timerfd tfd (or -1) fires, pid is killed and *timed_out set. Returns
 * wait_status() of pid. */
int supervise(pid_t pid, int sfd, int tfd, bool *timed_out, struct relay *tty);

#endif
