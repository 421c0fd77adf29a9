#!/bin/sh
# Networking cost (issue 9): create+start and delete of a container with
# --net bridge (with and without -p) against --net none, in the same run.
# Target: bridge at most 1.5x the none figure, for create+start and for
# delete. Each delete below runs right after start, well within an RCU
# grace period of create: the case where a netlink socket left in the
# container's netns would still hold it (net/ifioctl.c).
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
# cycle VAR ARGS...: one create+start and delete, added to VAR_c and VAR_d (ns)
cycle() {
        v=$1; shift
        id="bn$$-$v-$i"
        t0=$(now)
        $H create --bundle "$work/bundle" "$@" "$id"
        $H start "$id"
        t1=$(now)
        $H delete -f "$id"
        t2=$(now)
        eval "${v}_c=\$((${v}_c + t1 - t0)); ${v}_d=\$((${v}_d + t2 - t1))"
}
ms() { echo "$1 $n" | awk '{ printf "%.1f", $1 / $2 / 1e6 }'; }
none_c=0; none_d=0; first_c=0; first_d=0; br_c=0; br_d=0; p_c=0; p_d=0
i=w; cycle none --net none; none_c=0; none_d=0   # warm up
# The first container on a bridge makes husk0 and `table ip husk`, the last
# one removes them: measured alone ("first on bridge"); then the steady
# state with another container on the bridge (the usual case). The modes
# alternate within each round, so load changes hit all of them alike.
i=0
while [ $i -lt $n ]; do cycle none --net none; cycle first --net bridge; i=$((i + 1)); done
sed 's/"args":\["true"\]/"args":["sleep","3600"]/' "$work/bundle/config.json" > "$work/anchor.json"
mkdir -p "$work/anchor" && cp "$work/anchor.json" "$work/anchor/config.json"
$H run -d --net bridge --bundle "$work/anchor" "bn$$-anchor"
none2_c=0; none2_d=0
i=0
while [ $i -lt $n ]; do
        cycle none2 --net none; cycle br --net bridge; cycle p --net bridge -p 8080:80
        i=$((i + 1))
done
$H delete -f "bn$$-anchor"
none_c=$(ms $none2_c); none_d=$(ms $none2_d)
first_c=$(ms $first_c); first_d=$(ms $first_d); br_c=$(ms $br_c); br_d=$(ms $br_d); p_c=$(ms $p_c); p_d=$(ms $p_d)
printf '%-22s %12s %10s %8s\n' mode create+start delete total
printf '%-22s %10s ms %7s ms %5.1f ms\n' "none" "$none_c" "$none_d" "$(echo "$none_c $none_d" | awk '{print $1+$2}')"
printf '%-22s %10s ms %7s ms %5.1f ms\n' "bridge, first on it" "$first_c" "$first_d" "$(echo "$first_c $first_d" | awk '{print $1+$2}')"
printf '%-22s %10s ms %7s ms %5.1f ms\n' "bridge" "$br_c" "$br_d" "$(echo "$br_c $br_d" | awk '{print $1+$2}')"
printf '%-22s %10s ms %7s ms %5.1f ms\n' "bridge -p 8080:80" "$p_c" "$p_d" "$(echo "$p_c $p_d" | awk '{print $1+$2}')"
echo "$none_c $none_d $br_c $br_d $p_c $p_d" | awk '{
        printf "bridge/none: create+start %.2fx, delete %.2fx, total %.2fx (target <= 1.5x each)\n",
               $3 / $1, $4 / $2, ($3 + $4) / ($1 + $2)
        printf "bridge -p/none: create+start %.2fx, delete %.2fx, total %.2fx (n='"$n"')\n",
               $5 / $1, $6 / $2, ($5 + $6) / ($1 + $2) }'
