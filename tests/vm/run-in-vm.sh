#!/bin/sh
# Run CMD as root inside a pure cgroup-v2 test VM: QEMU -M microvm with husk's
# Debian kernel, the HOST root shared read-only over virtio-9p (tmpfs on /tmp
# and /run), cgroup_no_v1=all. cgroup2 is mounted at /sys/fs/cgroup before
# CMD runs. Exits with CMD's exit status (125: the VM could not run it).
#   usage: tests/vm/run-in-vm.sh 'CMD'
# env: HUSK_DATA_DIR (kernel cache; default build/data in this tree, fetched
#      on demand), VMRUN (default build/release/vmrun), HUSK_VM_AGENT,
#      VM_MEM (MiB, default 256), VM_CPUS (default 1)
set -eu
[ $# -eq 1 ] || { echo "usage: $0 'CMD'" >&2; exit 125; }
top=$(cd "$(dirname "$0")/../.." && pwd)
data=${HUSK_DATA_DIR:-$top/build/data}
vmrun=${VMRUN:-$top/build/release/vmrun}
export HUSK_VM_AGENT=${HUSK_VM_AGENT:-$top/build/vm/husk-agent}
[ -x "$vmrun" ] && [ -x "$HUSK_VM_AGENT" ] || make -C "$top" --no-print-directory vm-tools >&2
[ -f "$data/kernel/current/vmlinux" ] || sh "$top/vm/fetch-kernel.sh" "$data" >&2
exec "$vmrun" --data-dir "$data" --9p --ro --share / --append cgroup_no_v1=all \
        --mem "${VM_MEM:-256}" --cpus "${VM_CPUS:-1}" -- \
        /bin/sh -c 'mount -t cgroup2 cgroup2 /sys/fs/cgroup || exit 125; cd "$1" 2>/dev/null; eval "$2"' \
        sh "$(pwd)" "$1"
