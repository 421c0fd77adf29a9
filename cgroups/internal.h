/* cgroups/internal.h: helpers shared by the files of cgroups/ only. */
#ifndef HUSK_CGROUPS_INTERNAL_H
#define HUSK_CGROUPS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"

/* An error whose message is complete without strerror; errnum is kept. */
static inline int cg_fail_num(herr_t *e, int num)
{
        if (e)
                e->errnum = num;
        return -1;
}
#define cg_fail(e, num, ...) (herr_set((e), 0, __VA_ARGS__), cg_fail_num((e), (num)))

/* husk's own cgroup below the v2 root ("" for the root itself). */
int cg_own_cgroup(char *buf, size_t size, herr_t *err);
/* dir/file into buf (PATH_MAX); -1 (ENAMETOOLONG) when too long. */
int cg_path(char *buf, const char *dir, const char *file, herr_t *err);
/* Parse /proc/self/cgroup content: the "0::" path, "" for the root. */
int cg_parse_own_cgroup(const char *content, char *buf, size_t size, herr_t *err);
/* The first cgroup2 mount point listed in a mountinfo file. */
bool cg_find_cgroup2_mount(const char *mountinfo, char *buf, size_t size);
/* Read dir/file into a malloc'ed string. */
int cg_read(const char *dir, const char *file, char **out, herr_t *err);
/* Find "key value" in a flat-keyed file's content; false when absent. */
bool cg_kv(const char *content, const char *key, uint64_t *v);
/* Wait until cgroup.events says key is want (timeout in ms). */
int cg_wait_event(const char *dir, const char *key, int want, int timeout_ms, herr_t *err);

#endif
