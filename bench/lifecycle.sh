#!/bin/sh
# make bench: lifecycle latency and peak RSS of husk against runc and crun
# (when installed), in the same run, on the same bundle, all inside one
# private mount namespace with cgroup v2 mounted at /sys/fs/cgroup (crun
# refuses this host's hybrid layout otherwise; it runs with
# --cgroup-manager=disabled, husk and runc with their cgroup v2 managers).
#   bench/lifecycle.sh HUSK ROOTFS [N]
set -eu
husk=$1 rootfs=$2 n=${3:-100}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/husk-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cc -O2 -Wall -Wextra -Werror -o "$work/lifecycle" "$here/lifecycle.c"
mkdir -p "$work/bundle"
"$husk" spec --bundle "$work/bundle"
sed -i -e 's|"terminal": true|"terminal": false|' -e "s|\"path\": \"rootfs\"|\"path\": \"$rootfs\"|" \
    -e 's|"sh"$|"/bin/true"|' -e 's|"ociVersion": "[0-9.]*"|"ociVersion": "1.1.0"|' "$work/bundle/config.json"
grep -q '"/bin/true"' "$work/bundle/config.json" || { echo "bench: cannot edit config.json" >&2; exit 1; }
cat > "$work/inner.sh" <<INNER
set -eu
mount --make-rprivate /
umount -l /sys/fs/cgroup/unified 2>/dev/null || true
mount -t cgroup2 none /sys/fs/cgroup
line() { printf '%-6s %10s %14s %12s\n' "\$@"; }
line runtime "run (ms)" "c+s+d (ms)" "peak KiB"
for rt in husk runc crun; do
        case \$rt in
        husk) bin=$husk; extra="" ;;
        *) bin=\$(command -v \$rt || true); extra="" ;;
        esac
        [ -n "\$bin" ] || { line \$rt - - "not installed"; continue; }
        [ \$rt = crun ] && extra=--cgroup-manager=disabled
        out=\$("$work/lifecycle" "\$bin" "$work/root-\$rt" "$work/bundle" $n \$extra) || { line \$rt failed - -; continue; }
        set -- \$out
        line \$rt \$1 \$2 \$3
        echo "\$rt \$1 \$2 \$3" >> "$work/results"
done
INNER
unshare -m sh "$work/inner.sh"
awk '$1=="husk"{h1=$2;h2=$3;h3=$4} $1=="crun"{c1=$2;c2=$3;c3=$4} $1=="runc"{r1=$2;r2=$3}
END { if (c1) printf "husk/crun: run %.2fx, create+start+delete %.2fx, peak RSS %.2fx\n", h1/c1, h2/c2, h3/c3;
      if (r1) printf "husk/runc: run %.2fx, create+start+delete %.2fx\n", h1/r1, h2/r2 }' "$work/results"
