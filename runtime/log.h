/* runtime/log.h: --log FILE, --log-format text|json, --debug.
 * Errors always reach stderr ("husk: <message>") and, with --log, the log
 * file in the shape containerd's runc shim and conmon parse:
 *   {"level":"error","msg":"...","time":"2026-11-22T02:18:01.123456789Z"} */
#ifndef HUSK_RUNTIME_LOG_H
#define HUSK_RUNTIME_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* path may be NULL; format "text" or "json". Returns -1 on a bad format. */
int log_init(const char *path, const char *format, bool debug);
void log_vmsg(enum log_level level, const char *fmt, va_list ap);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_close(void);

#endif
