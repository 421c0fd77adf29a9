/* QEMU's command line with bind mounts shared (vm/binds.c, vm/qemu.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "../../common/cleanup.h"
#include "../../vm/internal.h"

static bool has(char **v, const char *s)
{
        for (size_t i = 0; v[i]; i++)
                if (strstr(v[i], s))
                        return true;
        return false;
}

Test(vm_binds_argv, virtiofs_and_9p)
{
        struct vm_bind b = { .name = "3", .source = "/src", .is_dir = true };
        struct vm vm = { .ctl_path = "c", .console_path = "l", .vfs_path = "/r/vfs.sock", .kernel = "k",
                         .initrd = "i", .share_dir = "/b", .share = VM_SHARE_VIRTIOFS, .accel = VM_ACCEL_TCG,
                         .binds = &b, .n_binds = 1, .binds_dir = "/r/binds", .binds_sock = "/r/binds.sock" };
        struct vm_opts o = { 0 };
        herr_t err;
        _cleanup_strv_ char **v1 = NULL, **v2 = NULL, **v3 = NULL;
        cr_assert_eq(vm_qemu_argv(&vm, &o, &v1, &err), 0);
        cr_expect(has(v1, "socket,id=vfsb,path=/r/binds.sock"));
        cr_expect(has(v1, "vhost-user-fs-device,chardev=vfsb,tag=husk-binds"));
        cr_expect(has(v1, " husk.binds=1"));
        vm.share = VM_SHARE_9P;
        cr_assert_eq(vm_qemu_argv(&vm, &o, &v2, &err), 0);
        cr_expect(has(v2, "local,id=fsb,path=/r/binds,security_model=passthrough"));
        cr_expect(has(v2, "virtio-9p-device,fsdev=fsb,mount_tag=husk-binds"));
        cr_expect(!has(v2, "binds.sock"));
        vm.n_binds = 0;
        cr_assert_eq(vm_qemu_argv(&vm, &o, &v3, &err), 0);
        cr_expect(!has(v3, "husk-binds"));
        cr_expect(!has(v3, "husk.binds"));
}
