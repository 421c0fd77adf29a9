#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int herr_set(herr_t *e, int errnum, const char *fmt, ...)
{
        if (!e)
                return -1;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
        if (n < 0)
                n = 0;
        if (errnum && (size_t)n < sizeof e->msg)
                snprintf(e->msg + n, sizeof e->msg - n, ": %s", strerror(errnum));
        e->errnum = errnum;
        return -1;
}

int herr_prefix(herr_t *e, const char *fmt, ...)
{
        if (!e)
                return -1;
        char prefix[HERR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        size_t plen = strnlen(prefix, sizeof prefix - 1);
        size_t olen = strnlen(e->msg, sizeof e->msg - 1);
        if (plen + 2 >= sizeof e->msg)
                plen = sizeof e->msg - 3;
        if (plen + 2 + olen >= sizeof e->msg)
                olen = sizeof e->msg - plen - 3;
        memmove(e->msg + plen + 2, e->msg, olen);
        memcpy(e->msg, prefix, plen);
        e->msg[plen] = ':';
        e->msg[plen + 1] = ' ';
        e->msg[plen + 2 + olen] = '\0';
        return -1;
}

void herr_clear(herr_t *e)
{
        if (!e)
                return;
        e->errnum = 0;
        e->code = 0;
        e->msg[0] = '\0';
}
