#!/bin/sh
# The README's "Running images" examples (issue 11), each one run and
# checked. The examples read exactly as in the README: `husk` below is the
# built ./husk with a private --root and --storage (busybox imported).
#
#   sudo sh tests/frontdoor/readme_examples.sh            # from the repo
#   HUSK=/abs/husk BUSYBOX_OCI=build/busybox-oci sudo -E sh tests/frontdoor/readme_examples.sh
set -u
HUSK=${HUSK:-$(pwd)/husk}
BUSYBOX_OCI=${BUSYBOX_OCI:-build/busybox-oci}
T=$(mktemp -d /tmp/husk-readme.XXXXXX)
husk() { "$HUSK" --root "$T/root" --storage "$T/storage" "$@"; }
cleanup() {
        for c in $(husk list -q 2>/dev/null); do husk delete -f "$c" >/dev/null 2>&1; done
        rm -rf "$T"
}
trap cleanup EXIT
husk image import --name busybox "$BUSYBOX_OCI" >/dev/null || { echo "FAIL: import $BUSYBOX_OCI"; exit 1; }
fails=0
# check NAME EXPECTED-OUTPUT ACTUAL-OUTPUT
check() {
        if [ "$2" = "$3" ]; then echo "ok   $1"; else
                echo "FAIL $1"; echo "  expected: $2"; echo "  got:      $3"; fails=$((fails + 1)); fi
}
cd "$T"

# --- For a person ---------------------------------------------------------
# Run a command in an image; the container is removed when it exits.
out=$(husk run --image busybox -- echo hello)
check "run a command" "hello" "$out"

# Environment, working directory, user.
out=$(husk run --image busybox -e GREETING=hi -w /tmp -u 1000:1000 -- sh -c 'echo $GREETING from $(pwd) as $(id -u)')
check "env, workdir, user" "hi from /tmp as 1000" "$out"

# Share a host directory (read-only) and a scratch tmpfs.
mkdir -p data && echo "from the host" > data/hello.txt
out=$(husk run --image busybox -v "$PWD/data:/data:ro" --tmpfs /scratch -- cat /data/hello.txt)
check "volumes" "from the host" "$out"
out=$(husk run --image busybox -v "$PWD/data:/data:ro" --tmpfs /scratch -- sh -c 'touch /data/x 2>/dev/null || echo read-only; touch /scratch/y && echo scratch')
check "volumes: ro, tmpfs" "read-only
scratch" "$out"

# Pipe input in with -i. (The interactive shell `husk run --image busybox
# -it -- sh` is checked by tests/integration/test_frontdoor.c tty_raw_and_resize.)
out=$(echo 'echo inside' | husk run --image busybox -i -- sh)
check "stdin with -i" "inside" "$out"

# See exactly what the flags do: --dry-run prints the config.json.
out=$(husk run --image busybox --dry-run --read-only --hostname box -- true | grep -E '"(readonly|hostname)"' | tr -d ' ')
check "--dry-run" '"readonly":true
"hostname":"box",' "$out"

# A background container, listed with husk ps, then removed.
husk run --image busybox -d --name sleeper -- sleep 300
out=$(husk ps | awk '$1 == "sleeper" { print $2, $3, $4, $5 }')
check "detached + ps" "busybox sleep 300 running" "$out"
husk delete -f sleeper
check "delete" "" "$(husk ps -q)"

# --- For a CI job -----------------------------------------------------------
# No network, a wall-clock limit, the job's exit status, nothing left behind.
husk run --image busybox --net none --timeout 30s -- sh -c 'echo building; exit 3'
check "CI: the job's status" "3" "$?"
husk run --image busybox --timeout 1s -- sleep 60 2>/dev/null
check "CI: --timeout kills and exits 124" "124" "$?"
check "CI: nothing left" "" "$(husk ps -q; ls "$T/storage/containers")"
# With resource limits (needs the cgroup v2 memory and pids controllers):
#   husk run --image busybox --net none --memory 256m --pids-limit 64 --timeout 30s -- sh -c 'make test'
err=$(husk run --image busybox --net none --memory 256m --pids-limit 64 --timeout 30s -- sh -c 'echo limited' 2>&1)
rc=$?
if [ $rc -eq 125 ]; then
        case "$err" in *"is not available"*) check "CI: limits (host lacks the controller: clear error)" 125 $rc ;;
        *) check "CI: limits error" "controller ... is not available" "$err" ;; esac
else
        check "CI: limits" "limited 0" "$err $rc"
fi
# Husk's own errors exit 125, distinct from any status of the job.
husk run --image busybox -v /no/such/dir:/data -- true 2>/dev/null
check "CI: bad input exits 125" "125" "$?"

[ $fails -eq 0 ] && echo "all README examples pass" || echo "$fails README example(s) failed"
[ $fails -eq 0 ]
