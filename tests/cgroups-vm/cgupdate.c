/* tests/cgroups-vm/cgupdate.c: change the limits of a running container's
 * cgroup with cg_apply() -- the library call behind an update -- for the
 * in-VM suite when `husk update` is not available.
 *   cgupdate DIR [--cpu QUOTA PERIOD] [--pids N] [--memory BYTES]
 * Exit 0 applied, 1 cg_apply failed (message on stderr), 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cgroups/cgroups.h"

static int usage(void)
{
        fprintf(stderr, "usage: cgupdate DIR [--cpu QUOTA PERIOD] [--pids N] [--memory BYTES]\n");
        return 2;
}

int main(int argc, char **argv)
{
        if (argc < 3)
                return usage();
        struct oci_cpu cpu = {0};
        struct oci_pids pids = {0};
        struct oci_memory mem = {0};
        struct oci_resources r = {0};
        for (int i = 2; i < argc; i++) {
                if (!strcmp(argv[i], "--cpu") && i + 2 < argc) {
                        cpu.quota = (opt_i64){true, strtoll(argv[i + 1], NULL, 10)};
                        cpu.period = (opt_u64){true, strtoull(argv[i + 2], NULL, 10)};
                        r.cpu = &cpu;
                        i += 2;
                } else if (!strcmp(argv[i], "--pids") && i + 1 < argc) {
                        pids.limit = strtoll(argv[++i], NULL, 10);
                        r.pids = &pids;
                } else if (!strcmp(argv[i], "--memory") && i + 1 < argc) {
                        mem.limit = (opt_i64){true, strtoll(argv[++i], NULL, 10)};
                        r.memory = &mem;
                } else {
                        return usage();
                }
        }
        herr_t e;
        if (cg_apply(argv[1], &r, &e) < 0) {
                fprintf(stderr, "cgupdate: %s\n", e.msg);
                return 1;
        }
        return 0;
}
