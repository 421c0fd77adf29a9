/* runtime/signals.h: signal names for `kill` (TERM, SIGTERM, 15, RTMIN+3). */
#ifndef HUSK_RUNTIME_SIGNALS_H
#define HUSK_RUNTIME_SIGNALS_H

/* The signal number, or -1 when s names no signal. */
int signal_parse(const char *s);

#endif
