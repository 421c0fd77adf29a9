/* config.json "linux.seccomp" -> struct oci_seccomp. Argument values are
 * full uint64 (yajl marks values above INT64_MAX as non-integers; the
 * getters parse the number text themselves). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "config_priv.h"

static int parse_arg(yajl_val v, const char *path, void *elem, herr_t *err)
{
        struct oci_seccomp_arg *a = elem;
        char p[JPATH_MAX];
        if (j_u32(v, "index", path, &a->index, err) < 0 ||
            j_u64(v, "value", path, UINT64_MAX, &a->value, err) < 0 ||
            j_ou64(v, "valueTwo", path, UINT64_MAX, &a->value_two, err) < 0 ||
            j_str(v, "op", path, &a->op, err) < 0)
                return -1;
        if (!a->op) {
                jp_key(p, path, "op");
                return herr_set(err, 0, "%s: required", p);
        }
        return 0;
}

static int parse_syscall(yajl_val v, const char *path, void *elem, herr_t *err)
{
        struct oci_seccomp_syscall *s = elem;
        if (j_strv(v, "names", path, &s->names, &s->n_names, err) < 0 ||
            j_str(v, "action", path, &s->action, err) < 0 ||
            j_ou64(v, "errnoRet", path, U32_MAX_, &s->errno_ret, err) < 0 ||
            j_objarr(v, "args", path, sizeof *s->args, (void **)&s->args, &s->n_args, parse_arg,
                     err) < 0)
                return -1;
        return 0;
}

int cfg_parse_seccomp(yajl_val lin, const char *lpath, struct oci_seccomp **out, herr_t *err)
{
        yajl_val o;
        char path[JPATH_MAX];
        if (j_obj(lin, "seccomp", lpath, &o, err) < 0)
                return -1;
        if (!o)
                return 0;
        jp_key(path, lpath, "seccomp");
        struct oci_seccomp *s = *out = calloc(1, sizeof *s);
        if (!s)
                return herr_set(err, ENOMEM, "%s", path);
        if (j_str(o, "defaultAction", path, &s->default_action, err) < 0 ||
            j_ou64(o, "defaultErrnoRet", path, U32_MAX_, &s->default_errno_ret, err) < 0 ||
            j_strv(o, "architectures", path, &s->architectures, &s->n_architectures, err) < 0 ||
            j_strv(o, "flags", path, &s->flags, &s->n_flags, err) < 0 ||
            j_str(o, "listenerPath", path, &s->listener_path, err) < 0 ||
            j_str(o, "listenerMetadata", path, &s->listener_metadata, err) < 0 ||
            j_objarr(o, "syscalls", path, sizeof *s->syscalls, (void **)&s->syscalls,
                     &s->n_syscalls, parse_syscall, err) < 0)
                return -1;
        return 0;
}
