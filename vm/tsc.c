/* The host TSC rate for the guest's tsc_early_khz= under TCG. Measuring it
 * busy-waits ~10 ms (vm_host_tsc_khz); the rate does not change until the
 * host reboots, so it is kept in DIR/tsc-khz as "<boot id>\n<kHz>\n". */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "vm.h"

static void boot_id(char *buf, size_t len)
{
        _cleanup_free_ char *data = NULL;
        size_t n;
        herr_t e = { 0 };
        buf[0] = '\0';
        if (read_file("/proc/sys/kernel/random/boot_id", 64, &data, &n, &e) == 0)
                snprintf(buf, len, "%.*s", (int)strcspn(data, "\n"), data);
}

unsigned long vm_host_tsc_khz_cached(const char *dir)
{
        char id[64], path[PATH_MAX];
        boot_id(id, sizeof(id));
        if (!id[0] || !dir || snprintf(path, sizeof(path), "%s/tsc-khz", dir) >= (int)sizeof(path))
                return vm_host_tsc_khz();
        _cleanup_free_ char *data = NULL;
        size_t n, idlen = strlen(id);
        herr_t e = { 0 };
        if (read_file(path, 256, &data, &n, &e) == 0 && n > idlen + 1 && !strncmp(data, id, idlen) &&
            data[idlen] == '\n') {
                char *end;
                unsigned long khz = strtoul(data + idlen + 1, &end, 10);
                if (khz > 0 && *end == '\n')
                        return khz;
        }
        unsigned long khz = vm_host_tsc_khz();
        char rec[128];
        int len = snprintf(rec, sizeof(rec), "%s\n%lu\n", id, khz);
        if (khz && len > 0 && (size_t)len < sizeof(rec))
                (void)write_file_atomic(path, rec, (size_t)len, 0644, &e); /* a cache: best effort */
        return khz;
}
