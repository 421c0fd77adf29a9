#include "log.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

static int log_fd = -1;
static bool log_json;
static bool log_debug;

int log_init(const char *path, const char *format, bool debug)
{
        log_debug = debug;
        if (format && strcmp(format, "text") && strcmp(format, "json"))
                return -1;
        log_json = format && !strcmp(format, "json");
        if (path && *path) {
                log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
                if (log_fd < 0)
                        return -2;
        }
        return 0;
}

void log_close(void)
{
        if (log_fd >= 0)
                close(log_fd);
        log_fd = -1;
}

static const char *level_name(enum log_level l)
{
        static const char *names[] = { "debug", "info", "warning", "error" };
        return names[l];
}

static void write_record(enum log_level level, const char *msg)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        char when[64], stamp[96];
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(stamp, sizeof stamp, "%s.%09ldZ", when, ts.tv_nsec);
        if (log_json) {
                yajl_gen g = yajl_gen_alloc(NULL);
                if (!g)
                        return;
                yajl_gen_map_open(g);
                yajl_gen_string(g, (const unsigned char *)"level", 5);
                yajl_gen_string(g, (const unsigned char *)level_name(level), strlen(level_name(level)));
                yajl_gen_string(g, (const unsigned char *)"msg", 3);
                yajl_gen_string(g, (const unsigned char *)msg, strlen(msg));
                yajl_gen_string(g, (const unsigned char *)"time", 4);
                yajl_gen_string(g, (const unsigned char *)stamp, strlen(stamp));
                yajl_gen_map_close(g);
                const unsigned char *buf;
                size_t len;
                if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
                        char line[8192];
                        int n = snprintf(line, sizeof line, "%.*s\n", (int)len, buf);
                        if (n > 0)
                                (void)!write(log_fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
                }
                yajl_gen_free(g);
        } else {
                dprintf(log_fd, "time=\"%s\" level=%s msg=\"%s\"\n", stamp, level_name(level), msg);
        }
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
        if (level == LOG_LEVEL_DEBUG && !log_debug)
                return;
        char msg[4096];
        vsnprintf(msg, sizeof msg, fmt, ap);
        if (log_fd >= 0)
                write_record(level, msg);
        if (level == LOG_LEVEL_ERROR)
                fprintf(stderr, "husk: %s\n", msg);
        else if (log_fd < 0 || level == LOG_LEVEL_WARN)
                fprintf(stderr, "husk: %s%s\n", level == LOG_LEVEL_WARN ? "warning: " : "", msg);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        log_vmsg(level, fmt, ap);
        va_end(ap);
}
