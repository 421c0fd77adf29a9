#!/bin/bash
# `make clients`: husk's drop-in commands, the replay of recorded client
# command lines, then containerd and podman (each skips with "SKIP: ..."
# when its packages cannot be installed). RECORD=1 rewrites the fixtures
# from the real clients' calls.
# Usage: HUSK=/abs/husk HUSK_ROOTFS=/abs/rootfs run.sh
here=$(cd "$(dirname "$0")" && pwd)
rec=""
[ "${RECORD:-0}" = 1 ] && rec=$here/fixtures
failed=""
for t in dropin replay containerd podman; do
        echo "== clients: $t"
        if [ "$t" = replay ] || [ "$t" = dropin ]; then
                timeout 600 bash "$here/$t.sh" || failed="$failed $t"
        else
                timeout 600 bash "$here/$t.sh" $rec || failed="$failed $t"
        fi
done
[ -z "$failed" ] || { echo "clients: FAILED:$failed"; exit 1; }
echo "clients: all passed"
