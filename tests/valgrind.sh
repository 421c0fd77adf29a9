#!/bin/sh
# Leak check of husk's own process: valgrind --leak-check=full on the
# commands it can follow, LeakSanitizer (SAN=1 build) on the rest.
#
#   tests/valgrind.sh HUSK_FAULTS_BIN ROOTFS [SAN_HUSK]
#
# HUSK_FAULTS_BIN is the FAULTS=1 build: it honours HUSK_TEST_NO_REEXEC
# (valgrind cannot follow husk's re-exec from a sealed memfd). Valgrind
# 3.19 does not know openat2/pidfd_open, which the container's init needs,
# so create/run are only run under valgrind up to the init's fork
# (children silent) and, for the whole lifecycle, under LeakSanitizer when
# SAN_HUSK (build/san/husk) is given. Exit status: 0 when no leak.
set -eu
H=$(realpath "$1")
ROOTFS=$(realpath "$2")
SAN=${3:+$(realpath "$3")}
command -v valgrind >/dev/null || { echo "valgrind not installed: skipped"; exit 0; }
T=$(mktemp -d /tmp/husk-vg.XXXXXX)
trap 'for d in "$T"/root/*/; do [ -d "$d" ] && "$H" --root "$T/root" delete --force "$(basename "$d")" >/dev/null 2>&1; done; rm -rf "$T"' EXIT
mkdir -p "$T/bundle"
cd "$T/bundle"
"$H" spec
sed -i 's/"terminal": true/"terminal": false/; s|"rootfs"|"'"$ROOTFS"'"|' config.json
sed -i 's/^\( *\)"sh"$/\1"sleep", "30"/' config.json
VG="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --child-silent-after-fork=yes"
export HUSK_TEST_NO_REEXEC=1
fail=0
vg() {
	echo "valgrind: husk $*"
	$VG "$H" --root "$T/root" "$@" >"$T/out" 2>&1 </dev/null || {
		rc=$?
		if [ $rc -eq 99 ] || grep -q "definitely lost\|indirectly lost\|Invalid" "$T/out"; then
			cat "$T/out"; fail=1
		fi
	}
}
id=vg$$
# The lifecycle with plain husk; the commands of husk's own process under
# valgrind.
"$H" --root "$T/root" create --bundle "$T/bundle" $id
vg state $id
vg list
vg start $id
vg kill $id KILL
sleep 0.3
vg state $id
vg delete $id
vg delete --force nosuch-$id
vg spec --help
"$H" --root "$T/root" create --bundle "$T/bundle" $id-f
vg delete --force $id-f
# create/run: valgrind follows husk until the init (ENOSYS in the init is
# expected and not a leak of husk's process).
vg run $id-r
"$H" --root "$T/root" delete --force $id-r >/dev/null 2>&1 || true
if [ -n "$SAN" ] && [ -x "$SAN" ]; then
	for cmd in "run $id-s" "create --bundle $T/bundle $id-c" "start $id-c" "delete --force $id-c"; do
		echo "lsan: husk $cmd"
		sed -i 's/"sleep", "30"/"true"/' config.json
		ASAN_OPTIONS=detect_leaks=1 "$SAN" --root "$T/root" $cmd >"$T/out" 2>&1 </dev/null || true
		if grep -q "LeakSanitizer\|AddressSanitizer" "$T/out"; then cat "$T/out"; fail=1; fi
	done
fi
[ $fail -eq 0 ] && echo "valgrind: no leak" || echo "valgrind: LEAKS or errors above"
exit $fail
