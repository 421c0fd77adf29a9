#!/usr/bin/env python3
"""VM mode benchmark (root): `husk run --vm` against the floor.

  floor  a bare QEMU boot of the same kernel and husk's initramfs, with an
         /init that powers off at once (same machine options, memory and
         kernel command line as vm/qemu.c, no devices): launch -> QEMU exit
  husk   `husk run --vm` of `echo first`: launch -> first output line, and
         launch -> husk's exit
  memory PSS of the container's host processes (monitor, QEMU, virtiofsd)
         while a `sleep` runs in the VM

Usage: bench/vm.py HUSK ROOTFS [RUNS]   (HUSK_DATA_DIR: the kernel's data dir)
"""
import json, os, shutil, statistics, subprocess, sys, tempfile, time

husk = os.path.abspath(sys.argv[1])
rootfs = os.path.abspath(sys.argv[2])
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
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


def husk_run(b, cid):
    t0 = time.monotonic()
    p = subprocess.Popen([husk, "--root", root, "run", "--vm", cid], cwd=b,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    line = p.stdout.readline()
    t1 = time.monotonic()
    p.stdout.read()
    rc = p.wait()
    t2 = time.monotonic()
    if rc != 0 or line != b"first\n":
        sys.exit(f"bench/vm: husk run --vm failed (status {rc}, output {line!r})")
    return (t1 - t0) * 1000, (t2 - t0) * 1000


def floor_setup():
    """husk's cached initramfs + an /init that powers off at once."""
    caches = [os.path.join(data, "initramfs", f) for f in os.listdir(os.path.join(data, "initramfs"))]
    initrd = max(caches, key=os.path.getmtime)  # the one husk just used
    src = os.path.join(work, "init.c")
    with open(src, "w") as f:
        f.write("#include <sys/reboot.h>\nint main(void){reboot(RB_AUTOBOOT);return 0;}\n")
    d = os.path.join(work, "floor")
    os.makedirs(d)
    subprocess.run(["cc", "-static", "-O2", "-o", os.path.join(d, "init"), src], check=True)
    cpio = subprocess.run("cd %s && echo init | cpio -o -H newc 2>/dev/null" % d, shell=True,
                          check=True, capture_output=True).stdout
    out = os.path.join(work, "floor.cpio")
    with open(out, "wb") as f, open(initrd, "rb") as i:
        f.write(i.read())  # later cpio entries win: /init is replaced
        f.write(cpio)
    return out


def tsc_khz():
    # the same value husk passes under TCG (vm/qemu.c measures it likewise)
    try:
        with open("/proc/cpuinfo") as f:
            for l in f:
                if l.startswith("cpu MHz"):
                    return int(float(l.split(":")[1]) * 1000)
    except OSError:
        pass
    return 0


def floor_run(initrd, accel):
    khz = tsc_khz()
    append = "console=ttyS0 reboot=t panic=-1 quiet cryptomgr.notests"
    if accel == "tcg" and khz:
        append += f" tsc_early_khz={khz}"
    argv = ["qemu-system-x86_64", "-M", "microvm,x-option-roms=off,isa-serial=on,rtc=on",
            "-accel", accel, "-m", "128M", "-smp", "1", "-no-reboot", "-nodefaults",
            "-no-user-config", "-display", "none", "-serial", "null",
            "-kernel", kernel, "-initrd", initrd, "-append", append]
    if accel == "kvm":
        argv[5:5] = ["-cpu", "host"]
    t0 = time.monotonic()
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=120)
    return (time.monotonic() - t0) * 1000


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
    subprocess.run([husk, "--root", root, "run", "--vm", "--detach", "mem"], cwd=b, check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    st = json.loads(subprocess.run([husk, "--root", root, "state", "mem"], capture_output=True,
                                   check=True).stdout)
    time.sleep(1)
    pids = [st["pid"]] + children(st["pid"])
    per = {}
    for p in pids:
        try:
            name = open(f"/proc/{p}/comm").read().strip()
        except OSError:
            continue
        per[name] = per.get(name, 0) + pss_kb(p)
    subprocess.run([husk, "--root", root, "delete", "--force", "mem"], check=False)
    return per


def main():
    accel = "tcg"
    chk = subprocess.run([husk, "check"], capture_output=True, text=True).stdout
    if "accelerator: KVM" in chk:
        accel = "kvm"
    print(f"bench/vm: {runs} runs each, accelerator {accel} ({chk.split('accelerator: ')[-1].splitlines()[0]})")
    b = bundle(["echo", "first"])
    husk_run(b, "warm")  # initramfs cache, page cache
    floor_initrd = floor_setup()
    floor_run(floor_initrd, accel)
    first, total, floor = [], [], []
    for i in range(runs):
        floor.append(floor_run(floor_initrd, accel))
        f, t = husk_run(b, f"r{i}")
        first.append(f)
        total.append(t)
    med = statistics.median
    print(f"floor (bare QEMU boot, init powers off)   median {med(floor):7.0f} ms  "
          f"(min {min(floor):.0f}, max {max(floor):.0f})")
    print(f"husk run --vm: first output               median {med(first):7.0f} ms  "
          f"(min {min(first):.0f}, max {max(first):.0f})  {med(first) / med(floor):.2f}x floor")
    print(f"husk run --vm: exit                       median {med(total):7.0f} ms  "
          f"(min {min(total):.0f}, max {max(total):.0f})  {med(total) / med(floor):.2f}x floor")
    per = memory()
    print("host memory per VM (PSS): " + ", ".join(f"{k} {v / 1024:.0f} MiB" for k, v in per.items()) +
          f"; total {sum(per.values()) / 1024:.0f} MiB")


try:
    main()
finally:
    shutil.rmtree(work, ignore_errors=True)
