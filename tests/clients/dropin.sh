#!/bin/bash
# husk's runc drop-in commands without a client: exec (status, signal,
# detach + pid file, flags, fds), ps ID, pause/resume, update, events,
# kill --all, delete --force of a paused container, and the error cases
# (unknown id, exec into a stopped/paused container, malformed process.json,
# invalid update value: clear error, non-zero exit, no state change).
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is needed"
T=$(mktemp -d /tmp/husk-dropin.XXXXXX)
H=("$HUSK" --root "$T/root")
c1=dropin-c1-$$ c2=dropin-c2-$$
cleanup() {
        set +e
        for id in $("${H[@]}" list -q 2>/dev/null); do "${H[@]}" delete --force "$id" >/dev/null 2>&1; done
        rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/b"
(cd "$T/b" && "$HUSK" spec) || fail "husk spec"
python3 - "$T/b/config.json" "$HUSK_ROOTFS" <<'EOP'
import json, sys
c = json.load(open(sys.argv[1]))
c["root"] = {"path": sys.argv[2], "readonly": True}
c["process"]["args"] = ["sleep", "1000"]
c["process"]["terminal"] = False
json.dump(c, open(sys.argv[1], "w"))
EOP
status() { "${H[@]}" state "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'; }
expect_fail() { # WHAT PATTERN CMD...
        what=$1 pat=$2; shift 2
        if "$@" > "$T/out" 2> "$T/err"; then fail "$what: succeeded"; fi
        grep -qiE "$pat" "$T/err" || fail "$what: message '$(cat "$T/err")' lacks '$pat'"
}
(cd "$T/b" && "${H[@]}" run -d $c1) || fail "run -d"

echo "dropin: exec"
out=$("${H[@]}" exec $c1 sh -c 'echo out; exit 7'); rc=$?
[ "$out" = out ] && [ $rc = 7 ] || fail "exec: '$out' status $rc"
"${H[@]}" exec $c1 sh -c 'kill -9 $$'; rc=$?
[ $rc = 137 ] || fail "exec killed by SIGKILL: status $rc, expected 137"
# Namespaces: same pid namespace and hostname as the init.
[ "$("${H[@]}" exec $c1 cat /proc/1/cmdline | tr '\0' ' ')" = "sleep 1000 " ] || fail "exec: not in the pid namespace"
# Seccomp and capabilities of the config; no fd of husk.
"${H[@]}" exec $c1 grep -q 'Seccomp:.*2' /proc/self/status || fail "exec: no seccomp filter"
[ "$("${H[@]}" exec $c1 sh -c 'grep CapEff /proc/self/status' | awk '{print $2}')" = \
  "$("${H[@]}" exec $c1 sh -c 'grep CapEff /proc/1/status' | awk '{print $2}')" ] || fail "exec: capabilities differ from the init"
fds=$("${H[@]}" exec $c1 sh -c 'ls /proc/$$/fd; true' | tr '\n' ' ')
[ "$fds" = "0 1 2 " ] || fail "exec: the process has fds '$fds'"
[ "$("${H[@]}" exec --cwd /etc -e FOO=bar -u 1000:1001 --additional-gids 5 $c1 sh -c 'echo $(pwd) $FOO $(id -u) $(id -g) $(id -G)')" = \
  "/etc bar 1000 1001 1001 5" ] || fail "exec --cwd/--env/--user/--additional-gids"
[ "$("${H[@]}" exec -u nobody $c1 sh -c 'echo $(id -u) $(id -g)')" = "65534 65534" ] || fail "exec -u nobody"
[ "$("${H[@]}" exec -u daemon:nogroup $c1 sh -c 'echo $(id -u) $(id -g)')" = "1 65534" ] || fail "exec -u daemon:nogroup"
[ "$("${H[@]}" exec -u 1 $c1 sh -c 'echo $(id -u) $(id -g)')" = "1 1" ] || fail "exec -u 1 (gid from passwd)"
expect_fail "exec -u unknown name" "no user 'nosuchuser'" "${H[@]}" exec -u nosuchuser $c1 true
eff=$("${H[@]}" exec --cap CAP_SYS_ADMIN $c1 grep CapEff /proc/self/status | awk '{print $2}')
(( (0x$eff >> 21) & 1 )) || fail "exec --cap CAP_SYS_ADMIN: CapEff $eff"
echo preserved > "$T/fd3"
[ "$("${H[@]}" exec --preserve-fds 1 $c1 sh -c 'cat <&3' 3< "$T/fd3")" = preserved ] || fail "exec --preserve-fds 1"
"${H[@]}" exec $c1 sleep 100 &
epid=$!
sleep 0.5
kill -TERM $epid
wait $epid; rc=$?
[ $rc = 143 ] || fail "exec: SIGTERM not forwarded (status $rc, expected 143)"
if command -v script >/dev/null; then
        out=$(script -qec "${H[*]} exec -t $c1 sh -c 'tty; exit 6'" /dev/null </dev/null); rc=$?
        echo "$out" | grep -q /dev/pts/ || fail "exec -t: no pty ('$out')"
        [ $rc = 6 ] || fail "exec -t: status $rc, expected 6"
fi
cat > "$T/p.json" <<'EOJ'
{"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "exit 4"], "env": ["PATH=/bin"], "cwd": "/"}
EOJ
"${H[@]}" exec --process "$T/p.json" $c1; rc=$?
[ $rc = 4 ] || fail "exec --process: status $rc"
"${H[@]}" exec --detach --pid-file "$T/pid" $c1 sleep 500 || fail "exec --detach"
pid=$(cat "$T/pid")
[ -d "/proc/$pid" ] || fail "exec --detach: pid $pid not running"

echo "dropin: ps"
"${H[@]}" ps --format json $c1 > "$T/ps" || fail "ps --format json"
python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert isinstance(v,list) and int(sys.argv[2]) in v and len(v)==2, v' \
        "$T/ps" "$pid" || fail "ps json: $(cat "$T/ps")"
"${H[@]}" ps $c1 | grep -q "sleep 500" || fail "ps table"
"${H[@]}" ps | grep -q "^$c1 " || fail "ps without id is list"

echo "dropin: pause, resume, events"
"${H[@]}" pause $c1 || fail pause
[ "$(status $c1)" = paused ] || fail "not paused"
expect_fail "exec into a paused container" "paused" "${H[@]}" exec $c1 true
expect_fail "pause twice" "paused" "${H[@]}" pause $c1
"${H[@]}" resume $c1 || fail resume
[ "$(status $c1)" = running ] || fail "not running after resume"
expect_fail "resume a running container" "running" "${H[@]}" resume $c1
"${H[@]}" events --stats $c1 > "$T/ev" || fail "events --stats"
python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); assert e["type"]=="stats" and e["id"]==sys.argv[2] and "cpu" in e["data"] and "pids" in e["data"], e' "$T/ev" "$c1" ||
        fail "events --stats: $(cat "$T/ev")"
timeout 3 "${H[@]}" events --interval 1s $c1 > "$T/ev2"
[ "$(grep -c '"type":"stats"' "$T/ev2")" -ge 2 ] || fail "events --interval 1s: $(cat "$T/ev2")"
expect_fail "events --interval bad" "interval" "${H[@]}" events --interval xyz $c1

echo "dropin: update"
ctl=$(cat "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]+"/$c1/state.json")).get("cgroup",""))' "$T/root" 2>/dev/null)/cgroup.controllers" 2>/dev/null)
if [[ " $ctl " == *" memory "* ]]; then
        "${H[@]}" update --memory 64m $c1 || fail "update --memory"
else
        expect_fail "update --memory without the memory controller" "memory" "${H[@]}" update --memory 64m $c1
fi
expect_fail "update --pids-limit invalid" "pids-limit" "${H[@]}" update --pids-limit abc $c1
expect_fail "update --memory invalid" "memory" "${H[@]}" update --memory lots $c1
echo '{"memory": {"limit": "x"}}' > "$T/r.json"
expect_fail "update --resources malformed" "memory.limit" "${H[@]}" update --resources "$T/r.json" $c1
echo '{}' | "${H[@]}" update --resources - $c1 || fail "update --resources - (empty)"
expect_fail "update nothing" "nothing" "${H[@]}" update $c1
[ "$(status $c1)" = running ] || fail "update changed the state"

echo "dropin: errors"
expect_fail "exec unknown id" "does not exist" "${H[@]}" exec nosuch true
expect_fail "ps unknown id" "does not exist" "${H[@]}" ps nosuch
expect_fail "pause unknown id" "does not exist" "${H[@]}" pause nosuch
expect_fail "update unknown id" "does not exist" "${H[@]}" update --pids-limit 5 nosuch
echo '{"args": "sh"}' > "$T/bad.json"
expect_fail "malformed process.json" "process.args" "${H[@]}" exec --process "$T/bad.json" $c1
echo '{"args": [' > "$T/bad2.json"
expect_fail "truncated process.json" "process" "${H[@]}" exec --process "$T/bad2.json" $c1
expect_fail "exec without a command" "no command" "${H[@]}" exec $c1
expect_fail "checkpoint" "not supported" "${H[@]}" checkpoint $c1
expect_fail "restore" "not supported" "${H[@]}" restore $c1
[ "$(status $c1)" = running ] || fail "an error changed the state"
expect_fail "--log json" "" "$HUSK" --root "$T/root" --log "$T/log.json" --log-format json exec nosuch true
python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).readline()); assert r["level"]=="error" and "nosuch" in r["msg"] and r["time"], r' \
        "$T/log.json" || fail "--log json record: $(cat "$T/log.json")"

echo "dropin: kill --all, stopped, delete --force"
"${H[@]}" kill --all $c1 KILL || fail "kill --all"
for _ in $(seq 50); do [ "$(status $c1)" = stopped ] && break; sleep 0.1; done
[ "$(status $c1)" = stopped ] || fail "not stopped after kill --all"
[ -d "/proc/$pid" ] && fail "kill --all left the exec'd process $pid"
expect_fail "exec into a stopped container" "stopped|not running" "${H[@]}" exec $c1 true
"${H[@]}" ps --format json $c1 | grep -q '^\[\]$' || fail "ps of a stopped container"
"${H[@]}" delete $c1 || fail "delete stopped"
(cd "$T/b" && "${H[@]}" run -d $c2) || fail "run -d $c2"
"${H[@]}" pause $c2 || fail "pause $c2"
"${H[@]}" delete --force $c2 || fail "delete --force of a paused container"
"${H[@]}" delete --force $c2 || fail "delete --force of a missing container"
[ -z "$("${H[@]}" list -q)" ] || fail "containers left"
echo "PASS: dropin"
