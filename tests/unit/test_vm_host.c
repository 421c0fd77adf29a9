/* Unit tests of VM mode's host-side pieces that need no VM boot. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/cleanup.h"
#include "../../common/fileutil.h"
#include "../../vm/internal.h"

static bool has(char **v, const char *s)
{
        for (size_t i = 0; v[i]; i++)
                if (strstr(v[i], s))
                        return true;
        return false;
}

Test(vm_host, qemu_argv_9p_tcg)
{
        struct vm vm = { .ctl_path = "/r/ctl.sock", .console_path = "/r/console.log",
                         .vfs_path = "/r/vfs.sock", .kernel = "/k/vmlinux", .initrd = "/k/i.cpio",
                         .share_dir = "/rootfs", .share = VM_SHARE_9P, .accel = VM_ACCEL_TCG,
                         .tsc_khz = 2600000 };
        char *extra[] = { "-name", "x", NULL };
        struct vm_opts o = { .share_ro = true, .extra_cmdline = "cgroup_no_v1=all", .vcpus = 2,
                             .mem_bytes = 256ull << 20, .qemu_extra = extra };
        _cleanup_strv_ char **argv = NULL;
        herr_t err;
        cr_assert_eq(vm_qemu_argv(&vm, &o, &argv, &err), 0);
        cr_assert_str_eq(argv[0], "qemu-system-x86_64");
        cr_assert(has(argv, "microvm,x-option-roms=off,isa-serial=on,rtc=on"));
        cr_assert(has(argv, "tcg"));
        cr_assert(has(argv, "256M"));
        cr_assert(has(argv, "-no-reboot"));
        cr_assert(has(argv, "virtio-mmio.force-legacy=false"));
        cr_assert(has(argv, "name=husk.ctl"));
        cr_assert(has(argv, "socket,id=ctl,path=/r/ctl.sock"));
        cr_assert(has(argv, "path=/rootfs,security_model=passthrough,readonly=on"));
        cr_assert(has(argv, "husk.share=9p husk.ro=1 cgroup_no_v1=all"));
        cr_assert(has(argv, "console=ttyS0 reboot=t panic=-1 quiet"));
        cr_assert(!has(argv, "memory-backend"));
        cr_assert(!has(argv, "-cpu"));
        cr_assert(has(argv, "tsc_early_khz=2600000 "));
        size_t n = 0;
        while (argv[n])
                n++;
        cr_assert_str_eq(argv[n - 1], "x");
}

Test(vm_host, qemu_argv_virtiofs_kvm)
{
        struct vm vm = { .ctl_path = "c", .console_path = "l", .vfs_path = "/r/vfs.sock",
                         .kernel = "k", .initrd = "i", .share_dir = "/b", .share = VM_SHARE_VIRTIOFS,
                         .accel = VM_ACCEL_KVM, .tsc_khz = 2600000 };
        struct vm_opts o = { 0 };
        _cleanup_strv_ char **argv = NULL;
        herr_t err;
        cr_assert_eq(vm_qemu_argv(&vm, &o, &argv, &err), 0);
        cr_assert(has(argv, "memory-backend-memfd,id=mem,size=128M,share=on"));
        cr_assert(has(argv, "memory-backend=mem"));
        cr_assert(has(argv, "vhost-user-fs-device,chardev=vfs,tag=husk"));
        cr_assert(has(argv, "husk.share=virtiofs"));
        cr_assert(!has(argv, "tsc_early_khz"));
        cr_assert(has(argv, "kvm"));
}

/* A bridged VM-mode container: virtio-net on the tap fd QEMU inherits,
 * husk.net=1 for the agent; none without it. */
Test(vm_host, qemu_argv_net)
{
        struct vm vm = { .ctl_path = "c", .console_path = "l", .kernel = "k", .initrd = "i",
                         .share = VM_SHARE_NONE, .accel = VM_ACCEL_TCG };
        struct vm_opts o = { .net = true, .net_fd = 7, .net_mac = { 0x02, 0x42, 10, 88, 0, 2 } };
        _cleanup_strv_ char **argv = NULL, **plain = NULL;
        herr_t err;
        cr_assert_eq(vm_qemu_argv(&vm, &o, &argv, &err), 0);
        cr_assert(has(argv, "tap,id=n0,fd=7,vhost=off"));
        cr_assert(has(argv, "virtio-net-device,netdev=n0,mac=02:42:0a:58:00:02"));
        cr_assert(has(argv, " husk.net=1"));
        struct vm_opts none = { 0 };
        cr_assert_eq(vm_qemu_argv(&vm, &none, &plain, &err), 0);
        cr_assert(!has(plain, "-netdev"));
        cr_assert(!has(plain, "husk.net"));
}

/* Measured once per host boot, then read back from DIR/tsc-khz; a record
 * of another boot is measured again. */
Test(vm_host, tsc_khz_cached_per_boot)
{
        char dir[] = "/tmp/husk-tsc-XXXXXX", path[64], *data = NULL;
        size_t len;
        herr_t err;
        cr_assert_not_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/tsc-khz", dir);
        unsigned long khz = vm_host_tsc_khz_cached(dir);
        if (!khz)
                cr_skip_test("no TSC rate on this host");
        cr_assert_eq(read_file(path, 256, &data, &len, &err), 0, "%s", err.msg);
        free(data);
        char id[64] = "";
        FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
        cr_assert(f && fgets(id, sizeof(id), f));
        fclose(f);
        char rec[128];
        snprintf(rec, sizeof(rec), "%s123\n", id);
        cr_assert_eq(write_file_atomic(path, rec, strlen(rec), 0644, &err), 0);
        cr_assert_eq(vm_host_tsc_khz_cached(dir), 123);
        snprintf(rec, sizeof(rec), "another-boot\n123\n");
        cr_assert_eq(write_file_atomic(path, rec, strlen(rec), 0644, &err), 0);
        cr_assert_neq(vm_host_tsc_khz_cached(dir), 123);
        cr_assert_eq(remove_tree(dir, &err), 0);
}

Test(vm_host, kvm_probe_gives_a_reason)
{
        char reason[160] = "";
        bool ok = vm_kvm_usable(reason, sizeof(reason));
        cr_assert(strncmp(reason, ok ? "KVM" : "TCG", 3) == 0, "reason: %s", reason);
}

static const char *modules_dir(void)
{
        static char dir[8400];
        const char *cands[] = { getenv("HUSK_DATA_DIR"), "../build/data", "build/data",
                                "/var/lib/husk" };
        for (size_t i = 0; i < ARRAY_SIZE(cands); i++) {
                char k[600], real[4096];
                if (!cands[i])
                        continue;
                snprintf(k, sizeof(k), "%s/kernel/current", cands[i]);
                if (realpath(k, real)) {
                        snprintf(dir, sizeof(dir), "%s/lib/modules/%s", real,
                                 strrchr(real, '/') + 1);
                        return dir;
                }
        }
        cr_skip_test("no VM kernel fetched (make vm-kernel)");
        return NULL;
}

static long pos(char **v, const char *mod)
{
        char want[64];
        snprintf(want, sizeof(want), "/%s.ko", mod);
        for (long i = 0; v[i]; i++) {
                size_t l = strlen(v[i]);
                if (l >= strlen(want) && !strcmp(v[i] + l - strlen(want), want))
                        return i;
        }
        return -1;
}

Test(vm_host, module_order_from_depends)
{
        const char *dir = modules_dir();
        _cleanup_strv_ char **mods = NULL;
        herr_t err = { 0 };
        cr_assert_eq(vm_modules_resolve(dir, &mods, &err), 0, "%s", err.msg);
        const char *order[][2] = { { "virtio_ring", "virtio" }, { "virtio", "virtio_mmio" },
                                   { "virtio_mmio", "virtio_console" }, { "9pnet", "9pnet_virtio" },
                                   { "netfs", "9p" }, { "fuse", "virtiofs" }, { "failover", "net_failover" },
                                   { "net_failover", "virtio_net" }, { "virtio", "virtio_net" } };
        for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
                long a = pos(mods, order[i][0]), b = pos(mods, order[i][1]);
                cr_assert(a >= 0 && b >= 0 && a < b, "%s before %s", order[i][0], order[i][1]);
        }
        cr_assert_gt(pos(mods, "overlay"), -1);
}

Test(vm_host, module_missing_is_named)
{
        _cleanup_strv_ char **mods = NULL;
        herr_t err = { 0 };
        cr_assert_eq(vm_modules_resolve("/nonexistent", &mods, &err), -1);
        cr_assert(strstr(err.msg, "/nonexistent"), "%s", err.msg);
}

Test(vm_host, initramfs_is_cached_cpio)
{
        const char *dir = modules_dir();
        char tmpl[] = "/tmp/husk-initramfs-test-XXXXXX";
        cr_assert_not_null(mkdtemp(tmpl));
        _cleanup_free_ char *p1 = NULL, *p2 = NULL, *cmd = NULL;
        herr_t err = { 0 };
        /* any executable stands in for the agent */
        cr_assert_eq(vm_initramfs_get("/bin/true", dir, tmpl, &p1, &err), 0, "%s", err.msg);
        cr_assert_eq(vm_initramfs_get("/bin/true", dir, tmpl, &p2, &err), 0, "%s", err.msg);
        cr_assert_str_eq(p1, p2);
        cr_assert(strstr(p1, "/initramfs-"));
        cr_assert_gt(asprintf(&cmd, "cpio -it < %s 2>/dev/null | grep -qx init && "
                              "cpio -i --to-stdout etc/husk/modules < %s 2>/dev/null | "
                              "grep -q virtio_console.ko", p1, p1), 0);
        if (system("command -v cpio >/dev/null") == 0)
                cr_assert_eq(system(cmd), 0, "cpio listing of %s", p1);
        /* modules go in without their signatures (the kernel's are signed) */
        free(cmd);
        cmd = NULL;
        cr_assert_gt(asprintf(&cmd, "cd %s && cpio -id lib/modules/virtio_console.ko < %s 2>/dev/null && "
                              "test -s lib/modules/virtio_console.ko && "
                              "! tail -c 28 lib/modules/virtio_console.ko | grep -q 'Module signature appended'",
                              tmpl, p1), 0);
        if (system("command -v cpio >/dev/null") == 0)
                cr_assert_eq(system(cmd), 0, "a signed module in %s", p1);
        herr_t e;
        remove_tree(tmpl, &e);
}

Test(vm_host, check_report)
{
        struct vm_opts o = { .kernel = "/nonexistent/vmlinux" };
        _cleanup_free_ char *report = NULL;
        herr_t err = { 0 };
        cr_assert_eq(vm_check(&o, &report, &err), -1);
        cr_assert(strstr(report, "vm: accelerator: "), "%s", report);
        cr_assert(strstr(report, "/nonexistent/vmlinux missing (make vm-kernel)"), "%s", report);
        cr_assert(strstr(err.msg, "/nonexistent/vmlinux") || strstr(err.msg, "qemu"), "%s",
                  err.msg);
}
