#!/usr/bin/env python3
"""VM mode benchmark (root): `husk run --vm` against the floor.

  floor  a bare QEMU boot of the same kernel and husk's initramfs (its
         bytes, plus a few-KiB cpio whose /init powers off at once), with
         QEMU's options copied from husk's own QEMU process: machine,
         accelerator, memory backend, vCPUs, sandbox and the exact kernel
         command line; only the devices (control port, share) are left out:
         launch -> QEMU exit
  husk   `husk run --vm` of `echo first` with a minimal config (a mount
         namespace, no seccomp): launch -> first output line, and
         launch -> husk's exit; the same with `husk spec`'s default config
         (seven namespaces, the usual mounts, capabilities, the default
         seccomp profile): launch -> first output line
  memory PSS of the container's host processes (monitor, QEMU, virtiofsd)
         while a `sleep` runs in the VM

Rounds interleave floor and husk (the order alternating) so a change in
the machine's load hits both; medians, quartiles and extremes are printed
with the load average before and after, then the per-round ratios to the
floor (the figure to quote on a shared machine), the best case (fastest
run over fastest floor) and the CPU time of the whole process tree
(user+sys of husk, its monitor, QEMU and virtiofsd, or the floor's QEMU:
less sensitive to other load than wall time, but blind to waiting).

Usage: bench/vm.py HUSK ROOTFS [RUNS]   (HUSK_DATA_DIR: the kernel's data dir)
"""
import json, os, shutil, statistics, subprocess, sys, tempfile, time

husk = os.path.abspath(sys.argv[1])
rootfs = os.path.abspath(sys.argv[2])
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 10
here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
data = os.environ.get("HUSK_DATA_DIR", "/var/lib/husk")
os.environ["HUSK_DATA_DIR"] = data
kernel = os.path.join(data, "kernel/current/vmlinux")
if not os.access(kernel, os.R_OK):
    sys.exit(f"bench/vm: no kernel at {kernel} (make vm-kernel HUSK_DATA_DIR=...)")
work = tempfile.mkdtemp(prefix="husk-bench-vm-")
root = os.path.join(work, "state")


def bundle(args):
    b = os.path.join(work, "b-" + args[0])
    os.makedirs(b, exist_ok=True)
    if not os.path.exists(os.path.join(b, "rootfs")):
        os.symlink(rootfs, os.path.join(b, "rootfs"))
    cfg = {"ociVersion": "1.3.0",
           "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": args,
                       "env": ["PATH=/bin:/sbin:/usr/bin"], "cwd": "/"},
           "root": {"path": "rootfs"}, "linux": {"namespaces": [{"type": "mount"}]}}
    with open(os.path.join(b, "config.json"), "w") as f:
        json.dump(cfg, f)
    return b


def spec_bundle():
    """`husk spec`'s default config (namespaces, mounts, capabilities, the
    default seccomp profile) running `echo first`."""
    b = os.path.join(work, "b-spec")
    os.makedirs(b, exist_ok=True)
    os.symlink(rootfs, os.path.join(b, "rootfs"))
    subprocess.run([husk, "spec"], cwd=b, check=True)
    with open(os.path.join(b, "config.json")) as f:
        cfg = json.load(f)
    cfg["process"]["args"] = ["echo", "first"]
    cfg["process"]["terminal"] = False
    with open(os.path.join(b, "config.json"), "w") as f:
        json.dump(cfg, f)
    return b


def husk_run(b, cid):
    cid = f"bvm{os.getpid()}-{cid}"  # the host cgroup /husk/<id> is shared by every --root
    t0 = time.monotonic()
    errf = tempfile.TemporaryFile()
    p = subprocess.Popen([husk, "--root", root, "run", "--vm", cid], cwd=b,
                         stdout=subprocess.PIPE, stderr=errf, stdin=subprocess.DEVNULL)
    line = p.stdout.readline()
    t1 = time.monotonic()
    p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)  # rusage: husk, the monitor, QEMU, virtiofsd
    t2 = time.monotonic()
    rc = p.returncode = os.waitstatus_to_exitcode(status)
    if rc != 0 or line != b"first\n":
        errf.seek(0)
        sys.exit(f"bench/vm: husk run --vm failed (status {rc}, output {line!r}, "
                 f"stderr {errf.read().decode(errors='replace').strip()!r})")
    return (t1 - t0) * 1000, (t2 - t0) * 1000, (ru.ru_utime + ru.ru_stime) * 1000


FLOOR_INIT = r"""
/* The floor's /init: power off at once (reboot=t and -no-reboot: QEMU
 * exits). No libc, so the floor's initramfs grows by a few KiB only. */
void _start(void)
{
        long ret;
        __asm__ volatile("syscall" : "=a"(ret)
                         : "0"(169L), "D"(0xfee1deadL), "S"(672274793L), "d"(0x01234567L)
                         : "rcx", "r11", "memory");
        for (;;)
                __asm__ volatile("hlt");
}
"""


def floor_setup(initrd):
    """husk's own initramfs (the same bytes) + a cpio that replaces /init."""
    src = os.path.join(work, "init.c")
    with open(src, "w") as f:
        f.write(FLOOR_INIT)
    d = os.path.join(work, "floor")
    os.makedirs(d)
    subprocess.run(["cc", "-static", "-nostdlib", "-O2", "-o", os.path.join(d, "init"), src], check=True)
    cpio = subprocess.run("cd %s && echo init | cpio -o -H newc 2>/dev/null" % d, shell=True,
                          check=True, capture_output=True).stdout
    out = os.path.join(work, "floor.cpio")
    with open(out, "wb") as f, open(initrd, "rb") as i:
        f.write(i.read())  # later cpio entries win: /init is replaced
        f.write(cpio)
    return out, len(cpio)


# QEMU options the floor takes from husk's own QEMU command line: everything
# but the devices (control port, share) and where the console goes.
FLOOR_KEEP = {"-M", "-machine", "-accel", "-cpu", "-m", "-object", "-smp", "-global", "-sandbox",
              "-kernel", "-append", "-display"}
FLOOR_FLAGS = {"-no-reboot", "-nodefaults", "-no-user-config"}


def floor_argv(qemu_argv, initrd):
    argv = [qemu_argv[0]]
    i = 1
    while i < len(qemu_argv):
        a = qemu_argv[i]
        if a in FLOOR_FLAGS:
            argv.append(a)
        elif a in FLOOR_KEEP and i + 1 < len(qemu_argv):
            argv += [a, qemu_argv[i + 1]]
        elif a == "-initrd":
            argv += [a, initrd]
        i += 1 if a in FLOOR_FLAGS or not a.startswith("-") else 2
    return argv + ["-serial", "null"]


def floor_run(argv):
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    t = (time.monotonic() - t0) * 1000
    if (rc := os.waitstatus_to_exitcode(status)) != 0:
        sys.exit(f"bench/vm: the floor's QEMU exited with {rc}")
    p.returncode = rc
    return t, (ru.ru_utime + ru.ru_stime) * 1000


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for l in f:
                if l.startswith("Pss:"):
                    return int(l.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = [int(x) for x in f.read().split()]
    except OSError:
        return []
    return kids + [g for k in kids for g in children(k)]


def memory():
    b = bundle(["sleep", "30"])
    mem = f"bvm{os.getpid()}-mem"
    subprocess.run([husk, "--root", root, "run", "--vm", "--detach", mem], cwd=b, check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    st = json.loads(subprocess.run([husk, "--root", root, "state", mem], capture_output=True,
                                   check=True).stdout)
    time.sleep(1)
    pids = [st["pid"]] + children(st["pid"])
    per, qemu_argv = {}, None
    for p in pids:
        try:
            name = open(f"/proc/{p}/comm").read().strip()
        except OSError:
            continue
        per[name] = per.get(name, 0) + pss_kb(p)
        if name.startswith("qemu"):
            with open(f"/proc/{p}/cmdline", "rb") as f:
                qemu_argv = [a.decode() for a in f.read().split(b"\0")[:-1]]
    subprocess.run([husk, "--root", root, "delete", "--force", mem], check=False,
                   stdout=subprocess.DEVNULL)
    if not qemu_argv:
        sys.exit("bench/vm: no QEMU process found under the container's monitor")
    return per, qemu_argv


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def spread(name, v, floor_med=None):
    q = statistics.quantiles(v, n=4) if len(v) > 1 else [v[0]] * 3
    line = (f"{name:<38} median {statistics.median(v):6.0f} ms  IQR {q[0]:.0f}-{q[2]:.0f}  "
            f"min {min(v):.0f}  max {max(v):.0f}")
    if floor_med:
        line += f"  {statistics.median(v) / floor_med:.2f}x floor"
    print(line)


def main():
    chk = subprocess.run([husk, "check"], capture_output=True, text=True).stdout
    why = chk.split("accelerator: ")[-1].splitlines()[0] if "accelerator: " in chk else "?"
    print(f"bench/vm: {runs} rounds, {os.cpu_count()} CPUs, load average {loadavg()} (1/5/15 min)")
    print(f"accelerator: {why}")
    b = bundle(["echo", "first"])
    bs = spec_bundle()
    husk_run(b, "warm")  # initramfs cache, page cache
    husk_run(bs, "warm-spec")  # and the host's seccomp cache
    per, qemu_argv = memory()
    initrd = qemu_argv[qemu_argv.index("-initrd") + 1]
    floor_initrd, extra = floor_setup(initrd)
    fargv = floor_argv(qemu_argv, floor_initrd)
    print(f"husk's QEMU:  {' '.join(qemu_argv)}")
    print(f"floor's QEMU: {' '.join(fargv)}")
    print(f"floor initramfs: husk's {os.path.getsize(initrd)} bytes + a {extra}-byte cpio whose /init "
          "powers off")
    floor_run(fargv)  # warm
    first, total, floor, sfirst = [], [], [], []
    cpu = {"floor": [], "husk": [], "spec": []}
    for i in range(runs):  # interleaved, the order alternating each round
        for which in (("floor", "husk", "spec") if i % 2 == 0 else ("spec", "husk", "floor")):
            if which == "floor":
                t, c = floor_run(fargv)
                floor.append(t)
            elif which == "husk":
                f, t, c = husk_run(b, f"r{i}")
                first.append(f)
                total.append(t)
            else:
                f, t, c = husk_run(bs, f"s{i}")
                sfirst.append(f)
            cpu[which].append(c)
    fm = statistics.median(floor)
    spread("floor (bare QEMU boot, init powers off)", floor)
    spread("husk run --vm: first output", first, fm)
    spread("husk run --vm: exit", total, fm)
    spread("same, husk spec's config: first output", sfirst, fm)
    for name, v in (("first output", first), ("exit", total), ("husk spec, first output", sfirst)):
        ratios = sorted(f / fl for f, fl in zip(v, floor))
        print(f"per-round ratio to the floor, {name}: median {statistics.median(ratios):.2f} "
              f"(min {ratios[0]:.2f}, max {ratios[-1]:.2f})")
    print(f"best case (min/min): first output {min(first) / min(floor):.2f}x, exit "
          f"{min(total) / min(floor):.2f}x, husk spec {min(sfirst) / min(floor):.2f}x")
    cf = statistics.median(cpu["floor"])
    print(f"CPU time (user+sys of every process, to exit), medians: floor {cf:.0f} ms, "
          f"husk {statistics.median(cpu['husk']):.0f} ms ({statistics.median(cpu['husk']) / cf:.2f}x), "
          f"husk spec {statistics.median(cpu['spec']):.0f} ms ({statistics.median(cpu['spec']) / cf:.2f}x)")
    print("host memory per VM (PSS): " + ", ".join(f"{k} {v / 1024:.0f} MiB" for k, v in per.items()) +
          f"; total {sum(per.values()) / 1024:.0f} MiB")
    print(f"load average after: {loadavg()}")


try:
    main()
finally:
    shutil.rmtree(work, ignore_errors=True)
