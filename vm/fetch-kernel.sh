#!/bin/sh
# Fetch a Debian generic kernel without installing it, and cache an
# uncompressed vmlinux for PVH boot.
# Usage: fetch-kernel.sh [DATADIR]   (default: $HUSK_DATA_DIR or /var/lib/husk)
# Result: DATADIR/kernel/<ver>/{vmlinuz,vmlinux,lib/modules/<ver>} and a
# DATADIR/kernel/current symlink; prints the kernel directory.
set -eu
data=${1:-${HUSK_DATA_DIR:-/var/lib/husk}}
die() { echo "fetch-kernel: $*" >&2; exit 1; }

resolve() {
        apt-cache depends linux-image-amd64 2>/dev/null |
                sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1
}
pkg=$(resolve)
if [ -z "$pkg" ]; then # no package lists yet
        apt-get update -qq >/dev/null 2>&1 || true
        pkg=$(resolve)
fi
[ -n "$pkg" ] || die "cannot resolve linux-image-amd64 with apt-cache"
ver=${pkg#linux-image-}
kdir="$data/kernel/$ver"

extract_vmlinux() { # bzImage -> ELF vmlinux (our own payload scan)
        in=$1 out=$2
        for fmt in 'xz -dc:\xfd7zXZ\x00' 'zstd -dcq:\x28\xb5\x2f\xfd' 'gzip -dc:\x1f\x8b\x08'; do
                cmd=${fmt%%:*} magic=${fmt#*:}
                for off in $(LC_ALL=C grep -obUaP "$magic" "$in" | cut -d: -f1); do
                        tail -c +$((off + 1)) "$in" | $cmd > "$out.tmp" 2>/dev/null || true
                        if [ "$(head -c 4 "$out.tmp" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
                                mv "$out.tmp" "$out"
                                return 0
                        fi
                done
        done
        rm -f "$out.tmp"
        return 1
}

if [ ! -f "$kdir/.complete" ]; then
        command -v dpkg >/dev/null || die "dpkg not found"
        tmp=$(mktemp -d)
        chmod 0777 "$tmp"   # apt-get download runs as _apt
        trap 'rm -rf "$tmp"' EXIT
        (cd "$tmp" && apt-get download -qq "$pkg" >/dev/null) ||
                die "apt-get download $pkg failed"
        rm -rf "$tmp/x" && mkdir -p "$tmp/x"
        dpkg -x "$tmp"/"$pkg"_*.deb "$tmp/x"
        rm -rf "$kdir" && mkdir -p "$kdir/lib/modules"
        cp "$tmp/x/boot/vmlinuz-$ver" "$kdir/vmlinuz"
        cp -a "$tmp/x/lib/modules/$ver" "$kdir/lib/modules/"
        touch "$kdir/.complete"
fi
if [ ! -f "$kdir/vmlinux" ]; then
        extract_vmlinux "$kdir/vmlinuz" "$kdir/vmlinux" ||
                die "no xz/zstd/gzip payload with an ELF kernel in $kdir/vmlinuz"
fi
ln -sfn "$ver" "$data/kernel/current"
echo "$kdir"
