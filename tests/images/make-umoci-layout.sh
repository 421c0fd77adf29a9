#!/bin/sh
# Two-layer OCI layout made by umoci from a local directory (offline), then
# copied with skopeo (oci:A:t -> oci:B:copied) and to a docker-save archive.
# Layer 1: etc/hello, etc/keep, data/old; layer 2 deletes etc/hello (a
# .wh. whiteout written by umoci). Usage: make-umoci-layout.sh DIR
set -eu
d=$1
mkdir -p "$d"
cd "$d"
umoci init --layout A
umoci new --image A:t
umoci unpack --image A:t B >/dev/null
mkdir -p B/rootfs/etc B/rootfs/data
echo hi > B/rootfs/etc/hello
echo keep > B/rootfs/etc/keep
echo old > B/rootfs/data/old
umoci repack --image A:t B
umoci config --image A:t --config.cmd /bin/true --config.env FOO=umoci --config.workingdir /data
rm -rf B
umoci unpack --image A:t B >/dev/null
rm B/rootfs/etc/hello
umoci repack --image A:t B
rm -rf B
skopeo copy -q oci:A:t oci:C:copied
skopeo copy -q oci:A:t docker-archive:"$d/docker.tar":local/umoci:v1
