# tests/clients/lib.sh: shared helpers of the real-client tests (sourced).
# Needs HUSK (absolute path of the husk binary) and HUSK_ROOTFS (busybox rootfs).
set -u

skip() { echo "SKIP: $*"; exit 0; }
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "  $*"; }

[ "$(id -u)" = 0 ] || skip "the client tests need root"
[ -n "${HUSK:-}" ] && [ -x "$HUSK" ] || fail "HUSK must name the husk binary"
[ -n "${HUSK_ROOTFS:-}" ] && [ -x "$HUSK_ROOTFS/bin/busybox" ] || fail "HUSK_ROOTFS must name a busybox rootfs"
HERE=$(cd "$(dirname "$0")" && pwd)

# Install Debian packages (never from another registry); skip when impossible.
need_pkgs() {
        missing=""
        for p in "$@"; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
        done
        [ -z "$missing" ] && return 0
        echo "installing$missing"
        export DEBIAN_FRONTEND=noninteractive
        { apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 ||
          { apt-get update -qq >/dev/null 2>&1 &&
            apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; }; } ||
                skip "cannot install$missing"
}

# make_wrapper DIR LOG: DIR/husk logs "rc<TAB>argv..." (one line, args
# separated by a unit separator) to LOG and runs the real husk. The basename
# stays "husk" (podman's runtime_supports_json matches it).
make_wrapper() {
        mkdir -p "$1"
        cat > "$1/husk" <<EOW
#!/bin/bash
"$HUSK" "\$@"
rc=\$?
( IFS=\$'\\x1f'; printf '%s\\t%s\\n' "\$rc" "\$*" ) >> "$2"
exit \$rc
EOW
        chmod 0755 "$1/husk"
}

# normalize LOG ID... : the recorded lines with paths and ids replaced by
# placeholders (@ROOT@, @LOG@, @BUNDLE@, @PIDFILE@, @SOCK@, @PROCESS@,
# @RESOURCES@, @DIR@, @ID1@, @ID2@...), one argument per field.
normalize() {
        log=$1
        shift
        python3 - "$log" "$@" <<'EOP'
import re, sys
log, ids = sys.argv[1], sys.argv[2:]
seen = {}
def idph(tok):
        if tok not in seen:
                seen[tok] = "@ID%d@" % (len(seen) + 1)
        return seen[tok]
opts = {"--root": "@ROOT@", "--log": "@LOG@", "--bundle": "@BUNDLE@", "-b": "@BUNDLE@",
        "--pid-file": "@PIDFILE@", "--console-socket": "@SOCK@", "--process": "@PROCESS@",
        "-p": "@PROCESS@", "--resources": "@RESOURCES@", "-r": "@RESOURCES@",
        "--image-path": "@DIR@", "--work-path": "@DIR@", "--parent-path": "@DIR@"}
for line in open(log):
        rc, _, rest = line.rstrip("\n").partition("\t")
        args = rest.split("\x1f") if rest else []
        out, i = [], 0
        while i < len(args):
                a = args[i]
                if "=" in a and a.split("=", 1)[0] in opts:
                        k, v = a.split("=", 1)
                        out.append(k + "=" + (v if v == "-" else opts[k]))
                elif a in opts and i + 1 < len(args):
                        v = args[i + 1]
                        out += [a, v if v == "-" else opts[a]]
                        i += 1
                elif a in ids or re.fullmatch(r"[0-9a-f]{64}", a):
                        out.append(idph(a))
                else:
                        out.append(a)
                i += 1
        print(rc + "\t" + "\x1f".join(out))
EOP
}
