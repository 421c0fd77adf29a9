/* Cleanup attributes: fds start at -1 and close themselves, heap memory
 * frees itself, ownership is handed over with TAKE_FD()/TAKE_PTR(). */
#ifndef HUSK_COMMON_CLEANUP_H
#define HUSK_COMMON_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>

static inline void cleanup_freep(void *p)
{
        free(*(void **)p);
}

static inline void cleanup_closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

static inline void cleanup_fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

static inline void cleanup_closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

/* Frees a NULL-terminated array of strings and the array itself. */
static inline void cleanup_strvp(char ***v)
{
        if (!*v)
                return;
        for (char **p = *v; *p; p++)
                free(*p);
        free(*v);
}

#define _cleanup_free_ __attribute__((cleanup(cleanup_freep)))
#define _cleanup_close_ __attribute__((cleanup(cleanup_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(cleanup_fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(cleanup_closedirp)))
#define _cleanup_strv_ __attribute__((cleanup(cleanup_strvp)))

#define TAKE_FD(fd)                   \
        ({                            \
                int _fd_ = (fd);      \
                (fd) = -1;            \
                _fd_;                 \
        })

#define TAKE_PTR(p)                            \
        ({                                     \
                __typeof__(p) _p_ = (p);       \
                (p) = NULL;                    \
                _p_;                           \
        })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
