#!/bin/bash
# podman 4.3 + conmon (Debian) driving husk with --runtime: run --rm, exit
# codes, detached + exec, exec -t, pause/unpause, stop, -t, --network none.
# Records every husk command line podman/conmon ran.
# Usage: HUSK=/abs/husk HUSK_ROOTFS=/abs/rootfs podman.sh [RECORD_DIR]
. "$(dirname "$0")/lib.sh"
need_pkgs podman conmon
command -v python3 >/dev/null || skip "python3 is needed to normalize the recorded command lines"
REC=${1:-}

T=$(mktemp -d /tmp/husk-podman.XXXXXX)
chmod 0755 "$T"
export CONTAINERS_CONF=$T/containers.conf
export CONTAINERS_STORAGE_CONF=$T/storage.conf
export CONTAINERS_REGISTRIES_CONF=$T/registries.conf
export TMPDIR=$T/tmp
mkdir -p "$TMPDIR"
P=(podman --root "$T/storage" --runroot "$T/run" --tmpdir "$T/ptmp" --runtime "$T/bin/husk"
   --cgroup-manager cgroupfs --events-backend file --storage-driver vfs)
IMG=localhost/husk-busybox:latest

cleanup() {
        set +e
        "${P[@]}" rm -af -t 1 >/dev/null 2>&1
        "${P[@]}" rmi -af >/dev/null 2>&1
        # conmon and anything else still running from this test's paths.
        for pid in $(pgrep -f -- "$T/" 2>/dev/null); do
                [ "$pid" != $$ ] && kill -9 "$pid" 2>/dev/null
        done
        # podman runs husk with its default --root: only containers whose
        # bundle is under $T are ours.
        "$HUSK" list --format json 2>/dev/null | python3 -c '
import json, sys
for c in json.load(sys.stdin) or []:
        if c.get("bundle", "").startswith(sys.argv[1] + "/"):
                print(c["id"])' "$T" 2>/dev/null | while read -r id; do "$HUSK" delete --force "$id" >/dev/null 2>&1; done
        grep -o " $T[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
        rm -rf "$T"
}
trap cleanup EXIT

make_wrapper "$T/bin" "$T/argv.log"
cat > "$CONTAINERS_CONF" <<EOC
[containers]
default_ulimits = ["nofile=16384:16384", "nproc=16384:16384"]
pids_limit = 0
[engine]
runtime = "husk"
runtime_supports_json = ["husk"]
cgroup_manager = "cgroupfs"
events_logger = "file"
[engine.runtimes]
husk = ["$T/bin/husk"]
EOC
cat > "$CONTAINERS_STORAGE_CONF" <<EOC
[storage]
driver = "vfs"
runroot = "$T/run"
graphroot = "$T/storage"
EOC
echo 'unqualified-search-registries = []' > "$CONTAINERS_REGISTRIES_CONF"

tar -C "$HUSK_ROOTFS" -cf "$T/rootfs.tar" .
"${P[@]}" import --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' "$T/rootfs.tar" "$IMG" >/dev/null ||
        fail "podman import"

echo "podman: run --rm, exit status"
out=$("${P[@]}" run --rm --network none "$IMG" sh -c 'echo hello-podman; exit 3' </dev/null)
rc=$?
[ "$out" = hello-podman ] || fail "podman run output '$out'"
[ $rc = 3 ] || fail "podman run exit status $rc, expected 3"

echo "podman: detached, exec, exec -t, pause/unpause, stop"
"${P[@]}" run -d --network none --name husk-p2 "$IMG" sleep 1000 </dev/null >/dev/null || fail "podman run -d"
out=$("${P[@]}" exec husk-p2 sh -c 'echo in-exec; exit 5' </dev/null)
rc=$?
[ "$out" = in-exec ] || fail "podman exec output '$out'"
[ $rc = 5 ] || fail "podman exec exit status $rc, expected 5"
out=$("${P[@]}" exec -t husk-p2 tty </dev/null | tr -d '\r')
echo "$out" | grep -q '^/dev/pts/' || fail "podman exec -t: no pty ('$out')"
"${P[@]}" pause husk-p2 >/dev/null || fail "podman pause"
[ "$("${P[@]}" inspect -f '{{.State.Status}}' husk-p2)" = paused ] || fail "not paused"
"${P[@]}" unpause husk-p2 >/dev/null || fail "podman unpause"
[ "$("${P[@]}" inspect -f '{{.State.Status}}' husk-p2)" = running ] || fail "not running after unpause"
"${P[@]}" stop -t 1 husk-p2 >/dev/null || fail "podman stop"
[ "$("${P[@]}" inspect -f '{{.State.ExitCode}}' husk-p2)" = 137 ] || fail "stop: exit code not 137"
"${P[@]}" rm husk-p2 >/dev/null || fail "podman rm"

echo "podman: --pid host (kill --all), update"
"${P[@]}" run -d --network none --pid host --name husk-p4 "$IMG" sleep 1000 </dev/null >/dev/null || fail "podman run -d --pid host"
# This host has no v2 memory controller: husk must refuse with its name,
# or succeed where the controller exists.
if ! "${P[@]}" update --memory 64m husk-p4 > "$T/upd" 2>&1; then
        grep -q "memory" "$T/upd" || fail "podman update: unclear error '$(cat "$T/upd")'"
fi
"${P[@]}" stop -t 1 husk-p4 >/dev/null || fail "podman stop (--pid host)"
"${P[@]}" rm husk-p4 >/dev/null || fail "podman rm (--pid host)"

echo "podman: -t"
if command -v script >/dev/null; then
        out=$(script -qec "${P[*]} run --rm -t --network none $IMG sh -c 'tty; exit 7'" /dev/null </dev/null)
        rc=$?
        echo "$out" | grep -q /dev/pts/ || fail "podman run -t: no pty ('$out')"
        [ $rc = 7 ] || fail "podman run -t exit status $rc, expected 7"
else
        note "no script(1): tty case skipped"
fi

[ -s "$T/argv.log" ] || fail "the wrapper recorded nothing"
if [ -n "$REC" ]; then
        normalize "$T/argv.log" husk-p2 husk-p4 > "$REC/podman.argv"
        note "recorded $(wc -l < "$REC/podman.argv") command lines in $REC/podman.argv"
fi
echo "PASS: podman"
