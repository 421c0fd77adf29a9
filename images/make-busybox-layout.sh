#!/bin/sh
# Build an OCI image layout of busybox from Debian's busybox-static, offline
# and deterministic (same bytes on every run).
# Usage: make-busybox-layout.sh OUTDIR
set -eu
out=$1
here=$(cd "$(dirname "$0")/.." && pwd)
tmp="$out.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp/blobs/sha256"
trap 'rm -rf "$tmp"' EXIT
sh "$here/tests/fixtures/make-rootfs.sh" "$tmp/rootfs"
tar -C "$tmp/rootfs" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
        --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
        -cf "$tmp/layer.tar" .
diffid=$(sha256sum < "$tmp/layer.tar" | cut -d' ' -f1)
gzip -n -9 < "$tmp/layer.tar" > "$tmp/layer.tar.gz"
layer=$(sha256sum < "$tmp/layer.tar.gz" | cut -d' ' -f1)
lsize=$(stat -c %s "$tmp/layer.tar.gz")
mv "$tmp/layer.tar.gz" "$tmp/blobs/sha256/$layer"

printf '%s' '{"created":"1970-01-01T00:00:00Z","architecture":"amd64","os":"linux",'\
'"config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],'\
'"Cmd":["sh"],"WorkingDir":"/"},'\
'"rootfs":{"type":"layers","diff_ids":["sha256:'"$diffid"'"]},'\
'"history":[{"created":"1970-01-01T00:00:00Z","created_by":"husk make-busybox-layout.sh"}]}' \
        > "$tmp/config.json"
cfg=$(sha256sum < "$tmp/config.json" | cut -d' ' -f1)
csize=$(stat -c %s "$tmp/config.json")
mv "$tmp/config.json" "$tmp/blobs/sha256/$cfg"

printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'\
'"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'"$cfg"'","size":'"$csize"'},'\
'"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:'"$layer"'","size":'"$lsize"'}]}' \
        > "$tmp/manifest.json"
man=$(sha256sum < "$tmp/manifest.json" | cut -d' ' -f1)
msize=$(stat -c %s "$tmp/manifest.json")
mv "$tmp/manifest.json" "$tmp/blobs/sha256/$man"

printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",'\
'"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'"$man"'","size":'"$msize"','\
'"platform":{"architecture":"amd64","os":"linux"},'\
'"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' > "$tmp/index.json"
printf '%s' '{"imageLayoutVersion":"1.0.0"}' > "$tmp/oci-layout"
rm -rf "$tmp/rootfs" "$tmp/layer.tar"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
