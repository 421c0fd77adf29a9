#!/bin/sh
# Networking cost (issue 9): create+start and delete of a container with
# --net bridge (with and without -p) against --net none, in the same run.
# Target: bridge at most 1.5x the none figure.
# Runs inside a network namespace of its own (unshare -n): the bridge, the
# nft table and the published port never touch the machine's network.
# Usage: bench/net.sh HUSK ROOTFS [N]
set -eu
husk=$(realpath "$1")
rootfs=$(realpath "$2")
n=${3:-30}
if [ "${HUSK_NET_BENCH_INNER:-}" != 1 ]; then
        exec env HUSK_NET_BENCH_INNER=1 unshare -n sh "$0" "$@"
fi
ip link set lo up
work=$(mktemp -d /tmp/husk-bench-net.XXXXXX)
trap 'for d in "$work"/state/*; do [ -d "$d" ] && "$husk" --root "$work/state" delete -f "${d##*/}"; done 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/bundle" "$work/state"
cat > "$work/bundle/config.json" <<J
{"ociVersion":"1.2.0","process":{"terminal":false,"user":{"uid":0,"gid":0},"args":["true"],
 "env":["PATH=/bin"],"cwd":"/"},"root":{"path":"$rootfs","readonly":true},"hostname":"bench",
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
  {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","mode=755"]}],
 "linux":{"namespaces":[{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}]}}
J
now() { date +%s%N; }
H="$husk --root $work/state"
# phase MODE ARGS...: prints "create+start_ms delete_ms" averaged over n
phase() {
        cs=0; dl=0; i=0
        while [ $i -lt $n ]; do
                id="bn$$-$i"
                t0=$(now)
                $H create --bundle "$work/bundle" "$@" "$id"
                $H start "$id"
                t1=$(now)
                $H delete -f "$id"
                t2=$(now)
                cs=$((cs + t1 - t0)); dl=$((dl + t2 - t1)); i=$((i + 1))
        done
        echo "$cs $dl $n" | awk '{ printf "%.1f %.1f", $1 / $3 / 1e6, $2 / $3 / 1e6 }'
}
phase --net none >/dev/null   # warm up
set -- $(phase --net none); none_c=$1; none_d=$2
# The first container on a bridge makes husk0 and `table ip husk`, the last
# one removes them: measured alone ("first on bridge"), and in the steady
# state with another container on the bridge (the usual case).
set -- $(phase --net bridge); first_c=$1; first_d=$2
sed 's/"args":\["true"\]/"args":["sleep","3600"]/' "$work/bundle/config.json" > "$work/anchor.json"
mkdir -p "$work/anchor" && cp "$work/anchor.json" "$work/anchor/config.json"
$H run -d --net bridge --bundle "$work/anchor" "bn$$-anchor"
set -- $(phase --net bridge); br_c=$1; br_d=$2
set -- $(phase --net bridge -p 8080:80); p_c=$1; p_d=$2
$H delete -f "bn$$-anchor"
printf '%-22s %12s %10s %8s\n' mode create+start delete total
printf '%-22s %10s ms %7s ms %5.1f ms\n' "none" "$none_c" "$none_d" "$(echo "$none_c $none_d" | awk '{print $1+$2}')"
printf '%-22s %10s ms %7s ms %5.1f ms\n' "bridge, first on it" "$first_c" "$first_d" "$(echo "$first_c $first_d" | awk '{print $1+$2}')"
printf '%-22s %10s ms %7s ms %5.1f ms\n' "bridge" "$br_c" "$br_d" "$(echo "$br_c $br_d" | awk '{print $1+$2}')"
printf '%-22s %10s ms %7s ms %5.1f ms\n' "bridge -p 8080:80" "$p_c" "$p_d" "$(echo "$p_c $p_d" | awk '{print $1+$2}')"
echo "$none_c $none_d $br_c $br_d $p_c $p_d" | awk '{
        printf "bridge/none: %.2fx (target <= 1.5x); bridge -p/none: %.2fx (n='"$n"')\n",
               ($3 + $4) / ($1 + $2), ($5 + $6) / ($1 + $2) }'
