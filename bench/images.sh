#!/bin/sh
# Image benchmarks (root, offline; needs umoci):
#  1. import of an image with a ~100 MB layer vs `umoci unpack` of the same image;
#  2. rootfs setup (overlay mount + release) for a 10 MB vs a 500 MB image:
#     must be flat (no copying).
# Usage: bench/images.sh HUSK_IMAGE_BINARY [WORKDIR]
set -eu
bin=$(realpath "$1")
work=${2:-$(mktemp -d /tmp/husk-bench-images.XXXXXX)}
here=$(cd "$(dirname "$0")/.." && pwd)
command -v umoci >/dev/null || { echo "bench: umoci missing (make deps)" >&2; exit 1; }
mkdir -p "$work"
trap 'for c in $(ls "$work/store/containers" 2>/dev/null); do "$bin" --storage "$work/store" release "$c"; done; rm -rf "$work"' EXIT
now() { date +%s.%N; }
ms() { echo "$1 $2" | awk '{ printf "%.1f", ($2 - $1) * 1000 }'; }

# make_image NAME MB SOURCE: layout $work/NAME:t = busybox rootfs + MB of SOURCE
make_image() {
        sh "$here/tests/fixtures/make-rootfs.sh" "$work/rootfs-$1" >/dev/null
        head -c "$(($2 * 1048576))" "$3" > "$work/rootfs-$1/payload"
        umoci init --layout "$work/$1" >/dev/null
        umoci new --image "$work/$1:t" >/dev/null
        umoci unpack --image "$work/$1:t" "$work/b-$1" >/dev/null 2>&1
        rm -rf "$work/b-$1/rootfs" && mv "$work/rootfs-$1" "$work/b-$1/rootfs"
        umoci repack --image "$work/$1:t" "$work/b-$1" >/dev/null
        umoci config --image "$work/$1:t" --config.cmd sh >/dev/null
        rm -rf "$work/b-$1"
}

echo "building test images (umoci) in $work ..."
make_image big100 100 /dev/urandom
make_image small10 10 /dev/zero
make_image huge500 500 /dev/zero

sync
t0=$(now); umoci unpack --image "$work/big100:t" "$work/umoci-bundle" >/dev/null 2>&1; t1=$(now)
t2=$(now); "$bin" --storage "$work/store" import --name big "$work/big100:t" >/dev/null; t3=$(now)
echo "import of a 100 MB layer:  umoci unpack $(ms "$t0" "$t1") ms   husk import $(ms "$t2" "$t3") ms (verify + unpack, syncfs)"
rm -rf "$work/umoci-bundle"

"$bin" --storage "$work/store" import --name small "$work/small10:t" >/dev/null
"$bin" --storage "$work/store" import --name huge "$work/huge500:t" >/dev/null
for img in small huge; do
        n=20 i=0 t0=$(now)
        while [ $i -lt $n ]; do
                "$bin" --storage "$work/store" mount "$img" "bench-$img" >/dev/null
                "$bin" --storage "$work/store" release "bench-$img"
                i=$((i + 1))
        done
        t1=$(now)
        echo "rootfs setup+release, $img image: $(echo "$t0 $t1 $n" | awk '{ printf "%.2f", ($2 - $1) * 1000 / $3 }') ms per container"
done
