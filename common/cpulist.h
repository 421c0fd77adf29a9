/* CPU lists as the kernel writes them ("0-3,7"): cpuset.cpus and
 * process.execCPUAffinity use the same format. */
#ifndef HUSK_COMMON_CPULIST_H
#define HUSK_COMMON_CPULIST_H

#include <sched.h>

#define CPULIST_MAX 65535 /* highest CPU number accepted in a list */

/* Parse s; with set, also fill it (cleared first). Returns 0, or -1 with
 * errno EINVAL (malformed: empty, a bad range, a stray character) or
 * ERANGE (a CPU over CPULIST_MAX, or not representable in set). */
int cpulist_parse(const char *s, cpu_set_t *set);

#endif
