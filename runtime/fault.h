/* Build-time fault injection for the crash-recovery tests (tests/faults/).
 *
 * HUSK_FAULT_POINT("create.after-cgroup") kills husk with SIGKILL right
 * there when husk was built with -DHUSK_FAULTS (make FAULTS=1) and the
 * environment has HUSK_FAULT=create.after-cgroup. In other builds the macro
 * is empty and the environment is never read. HUSK_FAULT_DELAY=<point>:<ms>
 * sleeps at the point instead (race windows for the attack tests), and
 * HUSK_FAULT_STOP=<point> stops husk there with SIGSTOP until SIGCONT (the
 * VM fault tests kill QEMU or virtiofsd at that moment).
 *
 * Points: create.after-statedir, create.after-cgroup, create.after-spawn,
 * create.after-state, start.before-exec, delete.after-kill,
 * image.after-blob; delay-only points in the init's way:
 * create.before-init-continue (stage 2 waits for husk),
 * init.after-attrs (stage 2 between start and the identity switch);
 * in the VM monitor: vm.boot.after-qemu (QEMU and virtiofsd spawned, the
 * agent not READY yet). */
#ifndef HUSK_RUNTIME_FAULT_H
#define HUSK_RUNTIME_FAULT_H

#ifdef HUSK_FAULTS
void husk_fault_point(const char *name);
#define HUSK_FAULT_POINT(name) husk_fault_point(name)
#else
#define HUSK_FAULT_POINT(name) ((void)0)
#endif

#endif
