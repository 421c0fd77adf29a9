/* husk's one error convention.
 *
 * A fallible function returns a negative value (normally -1) and fills a
 * herr_t that names the object and the cause, e.g.
 *   "config.json: linux.resources.memory.limit: expected integer".
 * Callers add context with herr_prefix(); only main() prints the message.
 */
#ifndef HUSK_COMMON_ERROR_H
#define HUSK_COMMON_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#define HERR_MSG_MAX 2048

typedef struct herr {
        int errnum;            /* errno of the cause, or 0 */
        int code;              /* optional exit status hint (0: default) */
        char msg[HERR_MSG_MAX];
} herr_t;

/* Set the message; when errnum != 0, ": strerror(errnum)" is appended.
 * Always returns -1 so that "return herr_set(...)" reads naturally. */
int herr_set(herr_t *e, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Like herr_set() with errno as the cause. */
#define herr_sys(e, ...) herr_set((e), errno, __VA_ARGS__)

/* Prepend "context: " to the existing message. Returns -1. */
int herr_prefix(herr_t *e, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

void herr_clear(herr_t *e);

#endif
