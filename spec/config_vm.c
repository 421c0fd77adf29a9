/* config.json "vm" (config-vm.md) -> struct oci_vm. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "config_priv.h"

/* A string member that the schema marks required when its object exists. */
static int req_str(yajl_val o, const char *key, const char *path, char **out, herr_t *err)
{
        char p[JPATH_MAX];
        if (j_str(o, key, path, out, err) < 0)
                return -1;
        if (!*out) {
                jp_key(p, path, key);
                return herr_set(err, 0, "%s: required", p);
        }
        return 0;
}

static int parse_iomem(yajl_val v, const char *path, void *elem, herr_t *err)
{
        struct oci_vm_iomem *m = elem;
        if (j_ou64(v, "firstGFN", path, UINT64_MAX, &m->first_gfn, err) < 0 ||
            j_u64(v, "firstMFN", path, UINT64_MAX, &m->first_mfn, err) < 0 ||
            j_u64(v, "nrMFNs", path, UINT64_MAX, &m->nr_mfns, err) < 0)
                return -1;
        return 0;
}

static int parse_irqs(yajl_val hw, struct oci_vm *vm, herr_t *err)
{
        yajl_val a;
        char ep[JPATH_MAX];
        if (j_arr(hw, "irqs", "vm.hwConfig", &a, err) < 0)
                return -1;
        if (!a)
                return 0;
        if (!(vm->hw_irqs = calloc(a->u.array.len + 1, sizeof *vm->hw_irqs)))
                return herr_set(err, ENOMEM, "vm.hwConfig.irqs");
        vm->n_hw_irqs = a->u.array.len;
        for (size_t i = 0; i < a->u.array.len; i++) {
                uint64_t v;
                jp_idx(ep, "vm.hwConfig.irqs", i);
                if (jv_u64(a->u.array.values[i], ep, U32_MAX_, &v, err) < 0)
                        return -1;
                vm->hw_irqs[i] = (uint32_t)v;
        }
        return 0;
}

static int parse_hw(yajl_val hw, struct oci_vm *vm, herr_t *err)
{
        const char *path = "vm.hwConfig";
        if (j_str(hw, "deviceTree", path, &vm->hw_device_tree, err) < 0 ||
            j_ou64(hw, "vcpus", path, U32_MAX_, &vm->hw_vcpus, err) < 0 ||
            j_ou64(hw, "memory", path, UINT64_MAX, &vm->hw_memory, err) < 0 ||
            j_strv(hw, "dtdevs", path, &vm->hw_dtdevs, &vm->n_hw_dtdevs, err) < 0 ||
            j_objarr(hw, "iomems", path, sizeof *vm->hw_iomems, (void **)&vm->hw_iomems,
                     &vm->n_hw_iomems, parse_iomem, err) < 0 ||
            parse_irqs(hw, vm, err) < 0)
                return -1;
        return 0;
}

int cfg_parse_vm(yajl_val root, struct oci_config *c, herr_t *err)
{
        yajl_val o, hyp, kern, img, hw;
        if (j_obj(root, "vm", "", &o, err) < 0)
                return -1;
        if (!o)
                return 0;
        struct oci_vm *vm = c->vm = calloc(1, sizeof *vm);
        if (!vm)
                return herr_set(err, ENOMEM, "vm");
        if (j_obj(o, "hypervisor", "vm", &hyp, err) < 0 ||
            j_obj(o, "kernel", "vm", &kern, err) < 0 ||
            j_obj(o, "image", "vm", &img, err) < 0 ||
            j_obj(o, "hwConfig", "vm", &hw, err) < 0)
                return -1;
        if (!kern)
                return herr_set(err, 0, "vm.kernel: required");
        if (hyp && (req_str(hyp, "path", "vm.hypervisor", &vm->hypervisor_path, err) < 0 ||
                    j_strv(hyp, "parameters", "vm.hypervisor", &vm->hypervisor_parameters,
                           &vm->n_hypervisor_parameters, err) < 0))
                return -1;
        if (req_str(kern, "path", "vm.kernel", &vm->kernel_path, err) < 0 ||
            j_strv(kern, "parameters", "vm.kernel", &vm->kernel_parameters,
                   &vm->n_kernel_parameters, err) < 0 ||
            j_str(kern, "initrd", "vm.kernel", &vm->kernel_initrd, err) < 0)
                return -1;
        if (img && (req_str(img, "path", "vm.image", &vm->image_path, err) < 0 ||
                    req_str(img, "format", "vm.image", &vm->image_format, err) < 0))
                return -1;
        if (hw && parse_hw(hw, vm, err) < 0)
                return -1;
        return 0;
}
