/* seccomp/features.c: the seccomp object of features-linux.md. */
#include "seccomp_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

static void gen_str(yajl_gen g, const char *s)
{
        yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static unsigned long kernel_flag(const char *name)
{
        if (strcmp(name, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
                return SECCOMP_FILTER_FLAG_TSYNC;
        if (strcmp(name, "SECCOMP_FILTER_FLAG_LOG") == 0)
                return SECCOMP_FILTER_FLAG_LOG;
        if (strcmp(name, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
                return SECCOMP_FILTER_FLAG_SPEC_ALLOW;
        if (strcmp(name, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0)
                return SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV | SECCOMP_FILTER_FLAG_NEW_LISTENER;
        return 0;
}

/* The kernel checks the flags before it reads the (NULL) program: EFAULT
 * means the flags are known, EINVAL that they are not. Nothing is loaded. */
static bool kernel_supports(unsigned long flag)
{
        long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, NULL);
        return r < 0 && errno == EFAULT;
}

static void gen_names(yajl_gen g, const char *key, const char *(*name)(size_t))
{
        gen_str(g, key);
        yajl_gen_array_open(g);
        for (size_t i = 0; name(i); i++)
                gen_str(g, name(i));
        yajl_gen_array_close(g);
}

int seccomp_features_gen(void *handle)
{
        yajl_gen g = handle;
        const char *n;
        bool ok;
        yajl_gen_map_open(g);
        gen_str(g, "enabled");
        yajl_gen_bool(g, 1);
        gen_names(g, "actions", seccomp_action_name);
        gen_names(g, "operators", seccomp_op_name);
        gen_str(g, "archs");
        yajl_gen_array_open(g);
        for (size_t i = 0; (n = seccomp_arch_name(i, &ok)); i++)
                if (ok)
                        gen_str(g, n);
        yajl_gen_array_close(g);
        gen_names(g, "knownFlags", seccomp_flag_name);
        gen_str(g, "supportedFlags");
        yajl_gen_array_open(g);
        for (size_t i = 0; (n = seccomp_flag_name(i)); i++)
                if (kernel_supports(kernel_flag(n)))
                        gen_str(g, n);
        yajl_gen_array_close(g);
        return yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -1;
}
