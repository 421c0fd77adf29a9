/* seccomp/seccomp.c: validate linux.seccomp and build/load it with libseccomp. */
#include "seccomp_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>

#include "../common/cleanup.h"

#define P "linux.seccomp"
#define MAX_ARGS 6

static seccomp_warn_fn warn_fn;

void seccomp_set_warn(seccomp_warn_fn fn)
{
        warn_fn = fn;
}

static void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn(const char *fmt, ...)
{
        if (!warn_fn)
                return;
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        warn_fn(msg);
}

static const char *libseccomp_version(void)
{
        static char buf[32];
        const struct scmp_version *v = seccomp_version();
        if (!v)
                return "unknown";
        snprintf(buf, sizeof buf, "%u.%u.%u", v->major, v->minor, v->micro);
        return buf;
}

/* ---------------------------------------------------------------- tables */

static const struct {
        const char *name;
        uint32_t value;        /* errno-taking actions: the base, data added */
        bool takes_errno;
} actions[] = {
        { "SCMP_ACT_KILL",         SCMP_ACT_KILL,         false },
        { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false },
        { "SCMP_ACT_KILL_THREAD",  SCMP_ACT_KILL_THREAD,  false },
        { "SCMP_ACT_TRAP",         SCMP_ACT_TRAP,         false },
        { "SCMP_ACT_ERRNO",        SCMP_ACT_ERRNO(0),     true },
        { "SCMP_ACT_TRACE",        SCMP_ACT_TRACE(0),     true },
        { "SCMP_ACT_ALLOW",        SCMP_ACT_ALLOW,        false },
        { "SCMP_ACT_LOG",          SCMP_ACT_LOG,          false },
        { "SCMP_ACT_NOTIFY",       SCMP_ACT_NOTIFY,       false },
};

/* Spec name -> libseccomp's own arch name (seccomp_arch_resolve_name), so a
 * newer libseccomp supports more of the list without a code change. */
static const struct {
        const char *name;
        const char *lib;
} arches[] = {
        { "SCMP_ARCH_X86", "x86" },           { "SCMP_ARCH_X86_64", "x86_64" },
        { "SCMP_ARCH_X32", "x32" },           { "SCMP_ARCH_ARM", "arm" },
        { "SCMP_ARCH_AARCH64", "aarch64" },   { "SCMP_ARCH_MIPS", "mips" },
        { "SCMP_ARCH_MIPS64", "mips64" },     { "SCMP_ARCH_MIPS64N32", "mips64n32" },
        { "SCMP_ARCH_MIPSEL", "mipsel" },     { "SCMP_ARCH_MIPSEL64", "mipsel64" },
        { "SCMP_ARCH_MIPSEL64N32", "mipsel64n32" },
        { "SCMP_ARCH_PPC", "ppc" },           { "SCMP_ARCH_PPC64", "ppc64" },
        { "SCMP_ARCH_PPC64LE", "ppc64le" },   { "SCMP_ARCH_S390", "s390" },
        { "SCMP_ARCH_S390X", "s390x" },       { "SCMP_ARCH_PARISC", "parisc" },
        { "SCMP_ARCH_PARISC64", "parisc64" }, { "SCMP_ARCH_RISCV64", "riscv64" },
        { "SCMP_ARCH_LOONGARCH64", "loongarch64" },
        { "SCMP_ARCH_M68K", "m68k" },         { "SCMP_ARCH_SH", "sh" },
        { "SCMP_ARCH_SHEB", "sheb" },
};

/* No libseccomp attribute: seccomp_raw_load() passes the kernel flag. */
#define ATTR_RAW ((enum scmp_filter_attr)0)

static const struct {
        const char *name;
        enum scmp_filter_attr attr;
} flags[] = {
        { "SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC },
        { "SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG },
        { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB },
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
        { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SCMP_FLTATR_CTL_WAITKILL },
#else
        { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", ATTR_RAW },
#endif
};

static const struct {
        const char *name;
        enum scmp_compare op;
} ops[] = {
        { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
        { "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
        { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
        { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

/* Names for the features document; NULL past the end. */
const char *seccomp_action_name(size_t i)
{
        return i < ARRAY_SIZE(actions) ? actions[i].name : NULL;
}

const char *seccomp_op_name(size_t i)
{
        return i < ARRAY_SIZE(ops) ? ops[i].name : NULL;
}

const char *seccomp_flag_name(size_t i)
{
        return i < ARRAY_SIZE(flags) ? flags[i].name : NULL;
}

/* Only the architectures this libseccomp resolves. */
const char *seccomp_arch_name(size_t i, bool *supported)
{
        if (i >= ARRAY_SIZE(arches))
                return NULL;
        *supported = seccomp_arch_resolve_name(arches[i].lib) != 0;
        return arches[i].name;
}

/* ------------------------------------------------------------- lookups */

/* Resolve an action and its errnoRet; path is the JSON path of the action
 * ("linux.seccomp.defaultAction"), errno_path that of its errnoRet. */
static int action_value(const char *name, opt_u64 errno_ret, const char *path,
                        const char *errno_path, uint32_t *out, herr_t *err)
{
        if (!name)
                return herr_set(err, 0, "%s: required", path);
        for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
                if (strcmp(actions[i].name, name) != 0)
                        continue;
                if (!actions[i].takes_errno) {
                        if (errno_ret.set)
                                return herr_set(err, 0, "%s: %s does not take an errno", errno_path,
                                                name);
                        *out = actions[i].value;
                        return 0;
                }
                uint64_t e = errno_ret.set ? errno_ret.v : EPERM;
                if (e > 0xffff)
                        return herr_set(err, 0, "%s: %llu out of range (0..65535)", errno_path,
                                        (unsigned long long)e);
                *out = actions[i].value | (uint32_t)e;
                return 0;
        }
        return herr_set(err, 0, "%s: unknown action '%s'", path, name);
}

static int arch_token(const char *name, const char *path, uint32_t *out, herr_t *err)
{
        for (size_t i = 0; i < ARRAY_SIZE(arches); i++) {
                if (strcmp(arches[i].name, name) != 0)
                        continue;
                *out = seccomp_arch_resolve_name(arches[i].lib);
                if (*out == 0)
                        return herr_set(err, 0, "%s: %s not supported by libseccomp %s", path,
                                        name, libseccomp_version());
                return 0;
        }
        return herr_set(err, 0, "%s: unknown architecture '%s'", path, name);
}

static int flag_attr(const char *name, const char *path, enum scmp_filter_attr *out,
                     herr_t *err)
{
        for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
                if (strcmp(flags[i].name, name) != 0)
                        continue;
                *out = flags[i].attr;
                return 0;
        }
        return herr_set(err, 0, "%s: unknown flag '%s'", path, name);
}

static int op_value(const char *name, const char *path, enum scmp_compare *out, herr_t *err)
{
        if (!name)
                return herr_set(err, 0, "%s: required", path);
        for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
                if (strcmp(ops[i].name, name) == 0) {
                        *out = ops[i].op;
                        return 0;
                }
        }
        return herr_set(err, 0, "%s: unknown operator '%s'", path, name);
}

/* ----------------------------------------------------------- validation */

static int validate_args(const struct oci_seccomp_syscall *sc, size_t i, herr_t *err)
{
        char path[96];
        for (size_t j = 0; j < sc->n_args; j++) {
                const struct oci_seccomp_arg *a = &sc->args[j];
                enum scmp_compare op;
                if (a->index >= MAX_ARGS)
                        return herr_set(err, 0, P ".syscalls[%zu].args[%zu].index: %u out of range (0..5)",
                                        i, j, a->index);
                snprintf(path, sizeof path, P ".syscalls[%zu].args[%zu].op", i, j);
                if (op_value(a->op, path, &op, err) < 0)
                        return -1;
        }
        return 0;
}

static int validate_syscall(const struct oci_seccomp *s, size_t i, herr_t *err)
{
        const struct oci_seccomp_syscall *sc = &s->syscalls[i];
        char path[64], epath[64];
        uint32_t act;
        if (sc->n_names == 0 || !sc->names)
                return herr_set(err, 0, P ".syscalls[%zu].names: must contain at least one entry", i);
        for (size_t j = 0; j < sc->n_names; j++)
                if (!sc->names[j] || !sc->names[j][0])
                        return herr_set(err, 0, P ".syscalls[%zu].names[%zu]: empty name", i, j);
        snprintf(path, sizeof path, P ".syscalls[%zu].action", i);
        snprintf(epath, sizeof epath, P ".syscalls[%zu].errnoRet", i);
        if (action_value(sc->action, sc->errno_ret, path, epath, &act, err) < 0)
                return -1;
        if (act == SCMP_ACT_NOTIFY && !s->listener_path)
                return herr_set(err, 0, "%s: SCMP_ACT_NOTIFY requires " P ".listenerPath", path);
        return validate_args(sc, i, err);
}

int seccomp_validate(const struct oci_seccomp *s, herr_t *err)
{
        char path[64];
        uint32_t act, tok;
        enum scmp_filter_attr attr;
        if (action_value(s->default_action, s->default_errno_ret, P ".defaultAction",
                         P ".defaultErrnoRet", &act, err) < 0)
                return -1;
        if (act == SCMP_ACT_NOTIFY)
                return herr_set(err, 0, P ".defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
        for (size_t i = 0; i < s->n_architectures; i++) {
                snprintf(path, sizeof path, P ".architectures[%zu]", i);
                if (arch_token(s->architectures[i], path, &tok, err) < 0)
                        return -1;
        }
        for (size_t i = 0; i < s->n_flags; i++) {
                snprintf(path, sizeof path, P ".flags[%zu]", i);
                if (flag_attr(s->flags[i], path, &attr, err) < 0)
                        return -1;
        }
        if (s->listener_metadata && !s->listener_path)
                return herr_set(err, 0, P ".listenerMetadata: set without " P ".listenerPath");
        if (s->listener_path && s->listener_path[0] != '/')
                return herr_set(err, 0, P ".listenerPath: '%s' is not an absolute path",
                                s->listener_path);
        for (size_t i = 0; i < s->n_syscalls; i++)
                if (validate_syscall(s, i, err) < 0)
                        return -1;
        return 0;
}

/* -------------------------------------------------------------- building */

static int set_attrs(scmp_filter_ctx ctx, const struct oci_seccomp *s, herr_t *err)
{
        int r;
        if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0 ||
            (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0 ||
            (r = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1)) < 0)
                return herr_set(err, -r, P ": setting libseccomp attributes");
        for (size_t i = 0; i < s->n_flags; i++) {
                char path[64];
                enum scmp_filter_attr attr;
                snprintf(path, sizeof path, P ".flags[%zu]", i);
                if (flag_attr(s->flags[i], path, &attr, err) < 0)
                        return -1;
                if (attr == ATTR_RAW)
                        continue;
                if ((r = seccomp_attr_set(ctx, attr, 1)) < 0)
                        return herr_set(err, -r, "%s: %s", path, s->flags[i]);
        }
        return 0;
}

static int add_arches(scmp_filter_ctx ctx, const struct oci_seccomp *s, herr_t *err)
{
        for (size_t i = 0; i < s->n_architectures; i++) {
                char path[64];
                uint32_t tok;
                int r;
                snprintf(path, sizeof path, P ".architectures[%zu]", i);
                if (arch_token(s->architectures[i], path, &tok, err) < 0)
                        return -1;
                r = seccomp_arch_add(ctx, tok);
                if (r < 0 && r != -EEXIST)
                        return herr_set(err, -r, "%s: %s", path, s->architectures[i]);
        }
        return 0;
}

/* Add one syscall number with the entry's conditions. Conditions on
 * distinct arguments AND in one rule; repeated indexes OR as single rules. */
static int add_rule(scmp_filter_ctx ctx, uint32_t act, int nr,
                    const struct oci_seccomp_syscall *sc)
{
        struct scmp_arg_cmp cmp[MAX_ARGS];
        unsigned seen = 0;
        bool repeated = false;
        if (sc->n_args == 0)
                return seccomp_rule_add_array(ctx, act, nr, 0, NULL);
        for (size_t j = 0; j < sc->n_args; j++) {
                if (seen & (1u << sc->args[j].index))
                        repeated = true;
                seen |= 1u << sc->args[j].index;
        }
        for (size_t j = 0; j < sc->n_args; j++) {
                const struct oci_seccomp_arg *a = &sc->args[j];
                enum scmp_compare op = SCMP_CMP_EQ;
                op_value(a->op, "", &op, NULL);
                struct scmp_arg_cmp c = { .arg = a->index, .op = op, .datum_a = a->value,
                                          .datum_b = a->value_two.set ? a->value_two.v : 0 };
                if (repeated) {
                        int r = seccomp_rule_add_array(ctx, act, nr, 1, &c);
                        if (r < 0)
                                return r;
                } else {
                        cmp[j] = c;
                }
        }
        return repeated ? 0 : seccomp_rule_add_array(ctx, act, nr, (unsigned)sc->n_args, cmp);
}

static int add_syscall(scmp_filter_ctx ctx, uint32_t def, const struct oci_seccomp_syscall *sc,
                       size_t i, herr_t *err)
{
        uint32_t act;
        if (action_value(sc->action, sc->errno_ret, "action", "errnoRet", &act, err) < 0)
                return herr_prefix(err, P ".syscalls[%zu]", i);
        if (act == def)
                return 0;      /* same as the default: the rule changes nothing */
        for (size_t j = 0; j < sc->n_names; j++) {
                int nr = seccomp_syscall_resolve_name(sc->names[j]);
                if (nr == __NR_SCMP_ERROR) {
                        warn(P ".syscalls[%zu].names[%zu]: unknown syscall '%s', skipped", i, j,
                             sc->names[j]);
                        continue;
                }
                int r = add_rule(ctx, act, nr, sc);
                if (r < 0)
                        return herr_set(err, -r, P ".syscalls[%zu].names[%zu]: adding rule for '%s'",
                                        i, j, sc->names[j]);
        }
        return 0;
}

/* libseccomp API level an action needs (seccomp_api_get(3)): it reflects
 * both the library and the running kernel. */
static unsigned api_needed(const char *action)
{
        if (!action)
                return 0;
        if (strcmp(action, "SCMP_ACT_NOTIFY") == 0)
                return 5;
        if (strcmp(action, "SCMP_ACT_LOG") == 0 || strcmp(action, "SCMP_ACT_KILL_PROCESS") == 0)
                return 3;
        return 0;
}

static int check_api(const struct oci_seccomp *s, herr_t *err)
{
        unsigned api = seccomp_api_get();
        if (api < api_needed(s->default_action))
                return herr_set(err, ENOTSUP, P ".defaultAction: %s needs libseccomp API level %u, "
                                "have %u (libseccomp %s on this kernel)", s->default_action,
                                api_needed(s->default_action), api, libseccomp_version());
        for (size_t i = 0; i < s->n_syscalls; i++) {
                const char *a = s->syscalls[i].action;
                if (api < api_needed(a))
                        return herr_set(err, ENOTSUP, P ".syscalls[%zu].action: %s needs libseccomp "
                                        "API level %u, have %u (libseccomp %s on this kernel)", i, a,
                                        api_needed(a), api, libseccomp_version());
        }
        return 0;
}

int seccomp_build(const struct oci_seccomp *s, scmp_filter_ctx *out, herr_t *err)
{
        uint32_t def;
        if (seccomp_validate(s, err) < 0 || check_api(s, err) < 0)
                return -1;
        action_value(s->default_action, s->default_errno_ret, "", "", &def, NULL);
        scmp_filter_ctx ctx = seccomp_init(def);
        if (!ctx)
                return herr_set(err, ENOMEM, P ": seccomp_init(%s)", s->default_action);
        if (set_attrs(ctx, s, err) < 0 || add_arches(ctx, s, err) < 0)
                goto fail;
        for (size_t i = 0; i < s->n_syscalls; i++)
                if (add_syscall(ctx, def, &s->syscalls[i], i, err) < 0)
                        goto fail;
        *out = ctx;
        return 0;
fail:
        seccomp_release(ctx);
        return -1;
}

static bool has_notify(const struct oci_seccomp *s)
{
        for (size_t i = 0; i < s->n_syscalls; i++)
                if (s->syscalls[i].action && strcmp(s->syscalls[i].action, "SCMP_ACT_NOTIFY") == 0)
                        return true;
        return false;
}

/* The warnings seccomp_build gives for unknown syscall names, for a filter
 * taken from the cache (add_syscall skips the same entries). */
static void warn_unknown(const struct oci_seccomp *s)
{
        uint32_t def, act;
        action_value(s->default_action, s->default_errno_ret, "", "", &def, NULL);
        for (size_t i = 0; i < s->n_syscalls; i++) {
                const struct oci_seccomp_syscall *sc = &s->syscalls[i];
                if (action_value(sc->action, sc->errno_ret, "", "", &act, NULL) < 0 || act == def)
                        continue;
                for (size_t j = 0; j < sc->n_names; j++)
                        if (seccomp_syscall_resolve_name(sc->names[j]) == __NR_SCMP_ERROR)
                                warn(P ".syscalls[%zu].names[%zu]: unknown syscall '%s', skipped", i, j,
                                     sc->names[j]);
        }
}

static int compile(const struct oci_seccomp *s, struct seccomp_prog *p, herr_t *err)
{
        scmp_filter_ctx ctx;
        if (seccomp_build(s, &ctx, err) < 0)
                return -1;
        int r = seccomp_export(ctx, p, err);
        seccomp_release(ctx);
        return r;
}

int seccomp_prepare(const struct oci_seccomp *s, const char *cache_dir, struct seccomp_prog *out,
                    herr_t *err)
{
        _cleanup_free_ char *key = NULL;
        size_t klen = 0;
        *out = (struct seccomp_prog){ .notify = has_notify(s) };
        if (seccomp_validate(s, err) < 0 || check_api(s, err) < 0)
                return -1;
        out->flags = seccomp_kernel_flags(s, out->notify);
        bool keyed = cache_dir && seccomp_cache_key(s, &key, &klen) == 0;
        if (keyed && seccomp_cache_get(cache_dir, key, klen, out) == 0) {
                warn_unknown(s);
                return 0;
        }
        if (compile(s, out, err) < 0)
                return -1;
        herr_t e2 = { 0 };
        if (keyed)
                (void)seccomp_cache_put(cache_dir, key, klen, out, &e2);   /* only slower next time */
        return 0;
}

int seccomp_load_config(const struct oci_seccomp *s, int *notify_fd, herr_t *err)
{
        struct seccomp_prog p;
        *notify_fd = -1;
        if (seccomp_prepare(s, NULL, &p, err) < 0)
                return -1;
        int r = seccomp_prog_load(&p, notify_fd, err);
        seccomp_prog_free(&p);
        return r;
}
