#!/bin/bash
# Replay the runtime command lines real clients ran (fixtures/*.argv, made
# by containerd.sh/podman.sh with RECORD_DIR) against containers this test
# creates: husk must accept every recorded argv shape. A line recorded with
# status 0 whose command is create/start/exec/ps/pause/resume/state must
# succeed again; every other line must at least not be a usage error. Then
# the --log file must hold only JSON records {level, msg, time}.
# Usage: HUSK=... HUSK_ROOTFS=... replay.sh [FIXTURE...]
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is needed for the replay"
FIX=("$@")
[ ${#FIX[@]} -gt 0 ] || FIX=("$HERE"/fixtures/*.argv)

T=$(mktemp -d /tmp/husk-replay.XXXXXX)
RPID=""
cleanup() {
        set +e
        for id in $("$HUSK" --root "$T/root" list -q 2>/dev/null); do
                "$HUSK" --root "$T/root" delete --force "$id" >/dev/null 2>&1
        done
        [ -n "$RPID" ] && kill "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT

mkbundle() { # DIR TERMINAL
        mkdir -p "$1"
        (cd "$1" && "$HUSK" spec) || fail "husk spec"
        python3 - "$1/config.json" "$HUSK_ROOTFS" "$2" <<'EOP'
import json, sys
p, rootfs, tty = sys.argv[1], sys.argv[2], sys.argv[3] == "true"
c = json.load(open(p))
c["root"] = {"path": rootfs, "readonly": True}
c["process"]["args"] = ["sleep", "1000"]
c["process"]["terminal"] = tty
json.dump(c, open(p, "w"))
EOP
}
mkbundle "$T/bundle" false
mkbundle "$T/bundle-tty" true
mkprocess() { # FILE TERMINAL
        printf '{"terminal":%s,"user":{"uid":0,"gid":0},"args":["sleep","2"],"env":["PATH=/bin"],"cwd":"/"}' \
                "$2" > "$1"
}
mkprocess "$T/process.json" false
mkprocess "$T/process-tty.json" true
echo '{}' > "$T/resources.json"
mkdir -p "$T/dir"
python3 "$HERE/console-receiver.py" "$T/console.sock" &
RPID=$!
for _ in $(seq 50); do [ -S "$T/console.sock" ] && break; sleep 0.1; done

n=0 bad=0
for fx in "${FIX[@]}"; do
        [ -f "$fx" ] || fail "no fixture $fx"
        echo "replay: $(basename "$fx")"
        while IFS=$'\t' read -r want rest; do
                [ -n "$rest" ] || continue
                n=$((n + 1))
                IFS=$'\x1f' read -r -a args <<< "$rest"
                tty=false
                for a in "${args[@]}"; do [[ "$a" == --console-socket* ]] && tty=true; done
                out=() cmd="" stdin=/dev/null
                [[ " ${args[*]} " == *" --root "* ]] || out=(--root "$T/root")
                for a in "${args[@]}"; do
                        case "$a" in
                        -*) ;;
                        *) [ -z "$cmd" ] && [[ " create start run exec ps pause resume update kill delete state events list checkpoint restore features spec " == *" $a "* ]] && cmd=$a ;;
                        esac
                        [ "$a" = - ] && stdin=$T/resources.json
                        bundle=$T/bundle process=$T/process.json
                        $tty && bundle=$T/bundle-tty process=$T/process-tty.json
                        a=${a//@ROOT@/$T/root}
                        a=${a//@LOG@/$T/log.json}
                        a=${a//@BUNDLE@/$bundle}
                        a=${a//@PIDFILE@/$T/pid.$n}
                        a=${a//@SOCK@/$T/console.sock}
                        a=${a//@PROCESS@/$process}
                        a=${a//@RESOURCES@/$T/resources.json}
                        a=${a//@DIR@/$T/dir}
                        a=$(sed -E 's/@ID([0-9]+)@/replay-\1/g' <<< "$a")
                        out+=("$a")
                done
                "$HUSK" "${out[@]}" < "$stdin" > "$T/stdout" 2> "$T/stderr"
                rc=$?
                msg="husk ${out[*]} -> $rc: $(head -c 300 "$T/stderr")"
                if grep -qiE 'unknown (global )?option|unknown command|missing (value|container id)|too many arguments|usage' "$T/stderr"; then
                        echo "  usage error: $msg" >&2; bad=$((bad + 1))
                elif [ "$want" = 0 ] && [ $rc != 0 ] && [[ " create start exec ps pause resume state " == *" $cmd "* ]]; then
                        echo "  failed: $msg" >&2; bad=$((bad + 1))
                fi
                case "$cmd" in
                ps) [[ " ${out[*]} " == *" json "* ]] && ! python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert isinstance(v, list) and all(isinstance(p, int) for p in v)' "$T/stdout" 2>/dev/null &&
                        { echo "  ps --format json printed '$(cat "$T/stdout")'" >&2; bad=$((bad + 1)); } ;;
                create|exec) p=$(grep -o -- "$T/pid.$n" <<< "${out[*]}" | head -1)
                        [ $rc = 0 ] && [ -n "$p" ] && ! grep -qE '^[0-9]+$' "$p" &&
                        { echo "  $cmd: no pid in the --pid-file" >&2; bad=$((bad + 1)); } ;;
                esac
        done < "$fx"
done
if [ -s "$T/log.json" ]; then
        python3 - "$T/log.json" <<'EOP' || { echo "  --log file is not JSON lines of level/msg/time" >&2; bad=$((bad + 1)); }
import json, sys
for line in open(sys.argv[1]):
        r = json.loads(line)
        assert set(("level", "msg", "time")) <= set(r), r
EOP
fi
[ $bad = 0 ] || fail "$bad of $n replayed command lines failed"
echo "PASS: replay ($n command lines)"
