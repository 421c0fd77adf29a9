#!/bin/bash
# containerd 1.6 (Debian) driving husk through `ctr run --runc-binary`:
# run to completion, detached task + exec, ps, pause/resume, metrics, kill,
# delete, a tty. Records every husk command line containerd's shim ran.
# Usage: HUSK=/abs/husk HUSK_ROOTFS=/abs/rootfs containerd.sh [RECORD_DIR]
. "$(dirname "$0")/lib.sh"
need_pkgs containerd
command -v python3 >/dev/null || skip "python3 is needed to normalize the recorded command lines"
REC=${1:-}

T=$(mktemp -d /tmp/husk-ctrd.XXXXXX)
CPID=""
MADE_RUN_CTRD=""; MADE_S=""
[ -d /run/containerd ] || MADE_RUN_CTRD=1
[ -d /run/containerd/s ] || MADE_S=1
ADDR=$T/containerd.sock
NS=husktest
ctr() { command ctr -a "$ADDR" -n "$NS" "$@"; }
# ctr sets cpu.shares 1024 by default; this host has no v2 cpu controller.
RUNOPTS=(--runc-binary "$T/bin/husk" --runc-root "$T/runc-root" --cpu-shares 0 --fifo-dir "$T/fifo")

cleanup() {
        set +e
        if [ -n "$CPID" ]; then
                for t in $(ctr task ls -q 2>/dev/null); do
                        ctr task kill -s SIGKILL "$t" >/dev/null 2>&1
                        sleep 0.2
                        ctr task delete -f "$t" >/dev/null 2>&1
                done
                for c in $(ctr container ls -q 2>/dev/null); do ctr container delete "$c" >/dev/null 2>&1; done
                ctr image rm localhost/busybox:latest >/dev/null 2>&1
                kill "$CPID" 2>/dev/null
                wait "$CPID" 2>/dev/null
        fi
        # Leftover containers of husk (a failed test), then mounts under $T.
        for id in $("$HUSK" --root "$T/runc-root/$NS" list -q 2>/dev/null); do
                "$HUSK" --root "$T/runc-root/$NS" delete --force "$id" >/dev/null 2>&1
        done
        grep -o " $T[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
        rm -rf "$T"
        [ -n "$MADE_S" ] && rmdir /run/containerd/s 2>/dev/null
        [ -n "$MADE_RUN_CTRD" ] && rmdir /run/containerd/fifo /run/containerd 2>/dev/null
        # The cgroup containerd made for the test's namespace (empty now).
        for cg in /sys/fs/cgroup/unified/$NS /sys/fs/cgroup/$NS; do
                [ -d "$cg" ] && rmdir "$cg" 2>/dev/null
        done
        return 0
}
trap cleanup EXIT

make_wrapper "$T/bin" "$T/argv.log"
cat > "$T/config.toml" <<EOC
version = 2
root = "$T/root"
state = "$T/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$ADDR"
[ttrpc]
  address = "$ADDR.ttrpc"
[debug]
  address = "$T/debug.sock"
EOC
containerd --config "$T/config.toml" > "$T/containerd.log" 2>&1 &
CPID=$!
for _ in $(seq 100); do [ -S "$ADDR" ] && break; sleep 0.1; done
[ -S "$ADDR" ] || { tail -20 "$T/containerd.log"; fail "containerd did not start"; }

sh "$HERE/../../images/make-busybox-layout.sh" "$T/oci" >/dev/null
tar -C "$T/oci" -cf "$T/busybox.tar" .
ctr image import --base-name localhost/busybox "$T/busybox.tar" >/dev/null || fail "ctr image import"
IMG=localhost/busybox:latest

echo "containerd: run to completion"
out=$(ctr run --rm "${RUNOPTS[@]}" --null-io=false "$IMG" husk-t1 sh -c 'echo hello-ctr; exit 3' </dev/null)
rc=$?
[ "$out" = hello-ctr ] || fail "ctr run output '$out'"
[ $rc = 3 ] || fail "ctr run exit status $rc, expected 3"

echo "containerd: detached task, exec, ps, pause/resume, metrics, kill"
ctr run -d "${RUNOPTS[@]}" "$IMG" husk-t2 sleep 1000 </dev/null >/dev/null || fail "ctr run -d"
out=$(ctr task exec --fifo-dir "$T/fifo" --exec-id e1 husk-t2 sh -c 'echo in-exec; exit 5' </dev/null)
rc=$?
[ "$out" = in-exec ] || fail "ctr task exec output '$out'"
[ $rc = 5 ] || fail "ctr task exec exit status $rc, expected 5"
ctr task ps husk-t2 | grep -q . || fail "ctr task ps"
[ "$(ctr task ps husk-t2 | tail -n +2 | wc -l)" -ge 1 ] || fail "ctr task ps: no processes"
ctr task pause husk-t2 || fail "ctr task pause"
ctr task ls | grep husk-t2 | grep -q PAUSED || fail "task not PAUSED: $(ctr task ls)"
ctr task resume husk-t2 || fail "ctr task resume"
ctr task ls | grep husk-t2 | grep -q RUNNING || fail "task not RUNNING: $(ctr task ls)"
ctr task metrics husk-t2 >/dev/null || fail "ctr task metrics"
ctr task kill -s SIGKILL husk-t2 || fail "ctr task kill"
for _ in $(seq 50); do ctr task ls | grep husk-t2 | grep -q STOPPED && break; sleep 0.1; done
ctr task ls | grep husk-t2 | grep -q STOPPED || fail "task not STOPPED after kill: $(ctr task ls)"
ctr task delete husk-t2 >/dev/null || fail "ctr task delete"
ctr container delete husk-t2 || fail "ctr container delete"

echo "containerd: tty"
if command -v script >/dev/null; then
        out=$(script -qec "ctr -a $ADDR -n $NS run --rm -t ${RUNOPTS[*]} $IMG husk-t3 sh -c 'tty; exit 7'" /dev/null </dev/null)
        rc=$?
        echo "$out" | grep -q /dev/pts/ || fail "ctr run -t: no pty ('$out')"
        [ $rc = 7 ] || fail "ctr run -t exit status $rc, expected 7"
else
        note "no script(1): tty case skipped"
fi

[ -s "$T/argv.log" ] || fail "the wrapper recorded nothing"
if [ -n "$REC" ]; then
        normalize "$T/argv.log" husk-t1 husk-t2 husk-t3 > "$REC/containerd.argv"
        note "recorded $(wc -l < "$REC/containerd.argv") command lines in $REC/containerd.argv"
fi
echo "PASS: containerd"
