/* oci_config_free(): frees a complete or partially parsed config. */
#include "config.h"

#include <stdlib.h>

#include "../common/cleanup.h"

static void strv_free(char **v)
{
        cleanup_strvp(&v);
}

static void kv_free(struct oci_kv *kv, size_t n)
{
        for (size_t i = 0; kv && i < n; i++) {
                free(kv[i].key);
                free(kv[i].value);
        }
        free(kv);
}

static void process_free(struct oci_process *p)
{
        if (!p)
                return;
        free(p->console_size);
        free(p->user.additional_gids);
        free(p->user.username);
        strv_free(p->args);
        free(p->command_line);
        strv_free(p->env);
        free(p->cwd);
        if (p->capabilities) {
                strv_free(p->capabilities->bounding);
                strv_free(p->capabilities->effective);
                strv_free(p->capabilities->inheritable);
                strv_free(p->capabilities->permitted);
                strv_free(p->capabilities->ambient);
                free(p->capabilities);
        }
        for (size_t i = 0; p->rlimits && i < p->n_rlimits; i++)
                free(p->rlimits[i].type);
        free(p->rlimits);
        free(p->apparmor_profile);
        if (p->scheduler) {
                free(p->scheduler->policy);
                strv_free(p->scheduler->flags);
                free(p->scheduler);
        }
        free(p->selinux_label);
        if (p->io_priority)
                free(p->io_priority->class_);
        free(p->io_priority);
        if (p->exec_cpu_affinity) {
                free(p->exec_cpu_affinity->initial);
                free(p->exec_cpu_affinity->final);
        }
        free(p->exec_cpu_affinity);
        free(p);
}

static void mounts_free(struct oci_mount *m, size_t n)
{
        for (size_t i = 0; m && i < n; i++) {
                free(m[i].destination);
                free(m[i].source);
                free(m[i].type);
                strv_free(m[i].options);
                free(m[i].uid_mappings);
                free(m[i].gid_mappings);
        }
        free(m);
}

static void hook_list_free(struct oci_hook_list *l)
{
        for (size_t i = 0; l->hooks && i < l->n; i++) {
                free(l->hooks[i].path);
                strv_free(l->hooks[i].args);
                strv_free(l->hooks[i].env);
        }
        free(l->hooks);
}

static void hooks_free(struct oci_hooks *h)
{
        if (!h)
                return;
        hook_list_free(&h->prestart);
        hook_list_free(&h->create_runtime);
        hook_list_free(&h->create_container);
        hook_list_free(&h->start_container);
        hook_list_free(&h->poststart);
        hook_list_free(&h->poststop);
        free(h);
}

static void resources_free(struct oci_resources *r)
{
        if (!r)
                return;
        for (size_t i = 0; r->devices && i < r->n_devices; i++) {
                free(r->devices[i].type);
                free(r->devices[i].access);
        }
        free(r->devices);
        free(r->memory);
        if (r->cpu) {
                free(r->cpu->cpus);
                free(r->cpu->mems);
        }
        free(r->cpu);
        free(r->pids);
        if (r->block_io) {
                free(r->block_io->weight_device);
                free(r->block_io->throttle_read_bps);
                free(r->block_io->throttle_write_bps);
                free(r->block_io->throttle_read_iops);
                free(r->block_io->throttle_write_iops);
        }
        free(r->block_io);
        for (size_t i = 0; r->hugepage_limits && i < r->n_hugepage_limits; i++)
                free(r->hugepage_limits[i].page_size);
        free(r->hugepage_limits);
        if (r->network) {
                for (size_t i = 0; r->network->priorities && i < r->network->n_priorities; i++)
                        free(r->network->priorities[i].name);
                free(r->network->priorities);
        }
        free(r->network);
        for (size_t i = 0; r->rdma && i < r->n_rdma; i++)
                free(r->rdma[i].device);
        free(r->rdma);
        kv_free(r->unified, r->n_unified);
        free(r);
}

static void seccomp_free(struct oci_seccomp *s)
{
        if (!s)
                return;
        free(s->default_action);
        strv_free(s->architectures);
        strv_free(s->flags);
        free(s->listener_path);
        free(s->listener_metadata);
        for (size_t i = 0; s->syscalls && i < s->n_syscalls; i++) {
                struct oci_seccomp_syscall *sc = &s->syscalls[i];
                strv_free(sc->names);
                free(sc->action);
                for (size_t j = 0; sc->args && j < sc->n_args; j++)
                        free(sc->args[j].op);
                free(sc->args);
        }
        free(s->syscalls);
        free(s);
}

static void linux_misc_free(struct oci_linux *l)
{
        if (l->intel_rdt) {
                free(l->intel_rdt->clos_id);
                free(l->intel_rdt->l3_cache_schema);
                free(l->intel_rdt->mem_bw_schema);
                strv_free(l->intel_rdt->schemata);
                free(l->intel_rdt);
        }
        if (l->personality) {
                free(l->personality->domain);
                strv_free(l->personality->flags);
                free(l->personality);
        }
        if (l->memory_policy) {
                free(l->memory_policy->mode);
                free(l->memory_policy->nodes);
                strv_free(l->memory_policy->flags);
                free(l->memory_policy);
        }
}

static void linux_free(struct oci_linux *l)
{
        if (!l)
                return;
        for (size_t i = 0; l->namespaces && i < l->n_namespaces; i++)
                free(l->namespaces[i].path);
        free(l->namespaces);
        free(l->uid_mappings);
        free(l->gid_mappings);
        for (size_t i = 0; l->devices && i < l->n_devices; i++) {
                free(l->devices[i].type);
                free(l->devices[i].path);
        }
        free(l->devices);
        for (size_t i = 0; l->net_devices && i < l->n_net_devices; i++) {
                free(l->net_devices[i].host_name);
                free(l->net_devices[i].name);
        }
        free(l->net_devices);
        free(l->cgroups_path);
        resources_free(l->resources);
        kv_free(l->sysctl, l->n_sysctl);
        seccomp_free(l->seccomp);
        free(l->rootfs_propagation);
        strv_free(l->masked_paths);
        strv_free(l->readonly_paths);
        free(l->mount_label);
        linux_misc_free(l);
        free(l);
}

static void vm_free(struct oci_vm *vm)
{
        if (!vm)
                return;
        free(vm->hypervisor_path);
        strv_free(vm->hypervisor_parameters);
        free(vm->kernel_path);
        strv_free(vm->kernel_parameters);
        free(vm->kernel_initrd);
        free(vm->image_path);
        free(vm->image_format);
        free(vm->hw_device_tree);
        strv_free(vm->hw_dtdevs);
        free(vm->hw_iomems);
        free(vm->hw_irqs);
        free(vm);
}

void oci_config_free(struct oci_config *c)
{
        if (!c)
                return;
        free(c->oci_version);
        if (c->root)
                free(c->root->path);
        free(c->root);
        mounts_free(c->mounts, c->n_mounts);
        process_free(c->process);
        free(c->hostname);
        free(c->domainname);
        hooks_free(c->hooks);
        kv_free(c->annotations, c->n_annotations);
        linux_free(c->linux_);
        vm_free(c->vm);
        free(c);
}
