/* Validation of "linux.resources" and "linux.seccomp" (config-linux.md). */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "config_priv.h"

static const char *const scmp_actions[] = {
        "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
        "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
        NULL,
};
static const char *const scmp_archs[] = {
        "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM",
        "SCMP_ARCH_AARCH64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_MIPS",
        "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
        "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE",
        "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
        "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", NULL,
};
static const char *const scmp_flags[] = {
        "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL,
};
static const char *const scmp_ops[] = {
        "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
        "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL,
};

/* ^[1-9][0-9]*[KMG]B$ */
static bool page_size_valid(const char *s)
{
        if (*s < '1' || *s > '9')
                return false;
        while (isdigit((unsigned char)*s))
                s++;
        return (s[0] == 'K' || s[0] == 'M' || s[0] == 'G') && s[1] == 'B' && s[2] == '\0';
}

static int validate_dev_cgroups(const struct oci_resources *r, herr_t *err)
{
        for (size_t i = 0; i < r->n_devices; i++) {
                const struct oci_device_cgroup *d = &r->devices[i];
                if (d->type && (strlen(d->type) != 1 || !strchr("acb", d->type[0])))
                        return herr_set(err, 0, "linux.resources.devices[%zu].type: unknown type '%s' (expected a, c or b)",
                                        i, d->type);
                if (d->access && d->access[strspn(d->access, "rwm")] != '\0')
                        return herr_set(err, 0, "linux.resources.devices[%zu].access: '%s' is not a combination of r, w and m",
                                        i, d->access);
        }
        return 0;
}

/* "You MUST specify at least one of ..." for weightDevice and rdma entries. */
static int validate_at_least_one(const struct oci_resources *r, herr_t *err)
{
        for (size_t i = 0; r->block_io && i < r->block_io->n_weight_device; i++) {
                const struct oci_weight_device *w = &r->block_io->weight_device[i];
                if (!w->weight.set && !w->leaf_weight.set)
                        return herr_set(err, 0, "linux.resources.blockIO.weightDevice[%zu]: weight or leafWeight is required", i);
        }
        for (size_t i = 0; i < r->n_rdma; i++)
                if (!r->rdma[i].hca_handles.set && !r->rdma[i].hca_objects.set)
                        return herr_set(err, 0, "linux.resources.rdma.%s: hcaHandles or hcaObjects is required",
                                        r->rdma[i].device);
        return 0;
}

int cfg_validate_resources(const struct oci_resources *r, herr_t *err)
{
        if (validate_dev_cgroups(r, err) < 0 || validate_at_least_one(r, err) < 0)
                return -1;
        for (size_t i = 0; i < r->n_hugepage_limits; i++) {
                const char *ps = r->hugepage_limits[i].page_size;
                if (!ps || !page_size_valid(ps))
                        return herr_set(err, 0, "linux.resources.hugepageLimits[%zu].pageSize: invalid page size '%s' (expected e.g. 2MB, 1GB)",
                                        i, ps ? ps : "");
        }
        if (r->memory && r->memory->swappiness.set && r->memory->swappiness.v > 100)
                return herr_set(err, 0, "linux.resources.memory.swappiness: %llu out of range (0..100)",
                                (unsigned long long)r->memory->swappiness.v);
        for (size_t i = 0; r->network && i < r->network->n_priorities; i++)
                if (!r->network->priorities[i].name)
                        return herr_set(err, 0, "linux.resources.network.priorities[%zu].name: required", i);
        return 0;
}

/* Only these actions carry an errno (config-linux.md: errnoRet). */
static bool action_takes_errno(const char *action)
{
        return strcmp(action, "SCMP_ACT_ERRNO") == 0 || strcmp(action, "SCMP_ACT_TRACE") == 0;
}

static int validate_syscall(const struct oci_seccomp_syscall *s, size_t i, herr_t *err)
{
        if (s->n_names == 0)
                return herr_set(err, 0, "linux.seccomp.syscalls[%zu].names: at least one name is required", i);
        if (!s->action)
                return herr_set(err, 0, "linux.seccomp.syscalls[%zu].action: required", i);
        if (cfg_lookup(scmp_actions, s->action) < 0)
                return herr_set(err, 0, "linux.seccomp.syscalls[%zu].action: unknown action '%s'", i, s->action);
        if (s->errno_ret.set && !action_takes_errno(s->action))
                return herr_set(err, 0, "linux.seccomp.syscalls[%zu].errnoRet: not allowed with action %s",
                                i, s->action);
        for (size_t j = 0; j < s->n_args; j++) {
                const struct oci_seccomp_arg *a = &s->args[j];
                if (a->index > 5)
                        return herr_set(err, 0, "linux.seccomp.syscalls[%zu].args[%zu].index: %u out of range (0..5)",
                                        i, j, a->index);
                if (!a->op || cfg_lookup(scmp_ops, a->op) < 0)
                        return herr_set(err, 0, "linux.seccomp.syscalls[%zu].args[%zu].op: unknown operator '%s'",
                                        i, j, a->op ? a->op : "");
        }
        return 0;
}

int cfg_validate_seccomp(const struct oci_seccomp *s, herr_t *err)
{
        if (!s->default_action)
                return herr_set(err, 0, "linux.seccomp.defaultAction: required");
        if (cfg_lookup(scmp_actions, s->default_action) < 0)
                return herr_set(err, 0, "linux.seccomp.defaultAction: unknown action '%s'", s->default_action);
        if (s->default_errno_ret.set && !action_takes_errno(s->default_action))
                return herr_set(err, 0, "linux.seccomp.defaultErrnoRet: not allowed with action %s",
                                s->default_action);
        if (s->listener_metadata && !s->listener_path)
                return herr_set(err, 0, "linux.seccomp.listenerMetadata: not allowed without listenerPath");
        for (size_t i = 0; i < s->n_architectures; i++)
                if (cfg_lookup(scmp_archs, s->architectures[i]) < 0)
                        return herr_set(err, 0, "linux.seccomp.architectures[%zu]: unknown architecture '%s'",
                                        i, s->architectures[i]);
        for (size_t i = 0; i < s->n_flags; i++)
                if (cfg_lookup(scmp_flags, s->flags[i]) < 0)
                        return herr_set(err, 0, "linux.seccomp.flags[%zu]: unknown flag '%s'", i, s->flags[i]);
        for (size_t i = 0; i < s->n_syscalls; i++)
                if (validate_syscall(&s->syscalls[i], i, err) < 0)
                        return -1;
        return 0;
}
