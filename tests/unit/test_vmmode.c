/* VM mode decisions that need no VM (runtime/vm_mode.c): when a config
 * asks for a VM, and how big the VM is. */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "../../runtime/vm_mode.h"

static struct oci_config *parse(const char *json)
{
        char *d = strdup(json);
        for (char *p = d; *p; p++)
                if (*p == '\'')
                        *p = '"';
        struct oci_config *c = NULL;
        herr_t err = { 0 };
        cr_assert_eq(oci_config_parse(d, strlen(d), &c, &err), 0, "%s", err.msg);
        free(d);
        return c;
}

#define BASE "'ociVersion':'1.3.0','root':{'path':'rootfs'},'process':{'args':['true'],'cwd':'/','user':{'uid':0,'gid':0}}"

Test(vmmode_unit, wanted)
{
        struct oci_config *plain = parse("{" BASE "}");
        struct oci_config *vm = parse("{" BASE ",'vm':{'kernel':{'path':'/k'}}}");
        struct oci_config *ann = parse("{" BASE ",'annotations':{'run.oci.handler':'vm'}}");
        struct oci_config *other = parse("{" BASE ",'annotations':{'run.oci.handler':'krun'}}");
        cr_expect(!vm_mode_wanted(plain, false));
        cr_expect(vm_mode_wanted(plain, true));
        cr_expect(vm_mode_wanted(vm, false));
        cr_expect(vm_mode_wanted(ann, false));
        cr_expect(!vm_mode_wanted(other, false));
        vm_mode_guest = true; /* inside the VM everything is native */
        cr_expect(!vm_mode_wanted(vm, true));
        vm_mode_guest = false;
        oci_config_free(plain);
        oci_config_free(vm);
        oci_config_free(ann);
        oci_config_free(other);
}

Test(vmmode_unit, size)
{
        uint64_t mem;
        unsigned cpus;
        struct oci_config *c = parse("{" BASE "}");
        vm_mode_size(c, &mem, &cpus);
        cr_expect_eq(mem, 0);
        cr_expect_eq(cpus, 0);
        oci_config_free(c);
        c = parse("{" BASE ",'linux':{'resources':{'memory':{'limit':268435456},'cpu':{'quota':150000,'period':100000}}}}");
        vm_mode_size(c, &mem, &cpus);
        cr_expect_eq(mem, (256ull + 64) << 20);
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cr_expect_eq(cpus, n >= 2 ? 2u : (unsigned)n);
        oci_config_free(c);
        c = parse("{" BASE ",'linux':{'resources':{'memory':{'limit':1048576}}}}");
        vm_mode_size(c, &mem, &cpus);
        cr_expect_eq(mem, 128ull << 20, "tiny limits still boot");
        oci_config_free(c);
        c = parse("{" BASE ",'vm':{'kernel':{'path':'/k'},'hwConfig':{'vcpus':1,'memory':536870912}},"
                  "'linux':{'resources':{'memory':{'limit':268435456}}}}");
        vm_mode_size(c, &mem, &cpus);
        cr_expect_eq(mem, 512ull << 20, "hwConfig wins");
        cr_expect_eq(cpus, 1);
        oci_config_free(c);
}
