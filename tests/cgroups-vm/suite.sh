#!/bin/sh
# tests/cgroups-vm/suite.sh: real husk containers with linux.resources limits,
# run as root on a pure cgroup v2 host (the test VM: tests/vm/run-in-vm.sh;
# tests/integration/test_cgroups_vm.c boots it once and checks this report).
# Each check prints one line: "PASS name: detail", "FAIL name: why" or
# "SKIP name: why"; the last line is "SUITE pass=N fail=N skip=N secs=N".
# Exit 0 no check failed, 1 a check failed, 77 not a usable host.
# Needs only sh, coreutils and awk besides husk (configs are written here).
# env: HUSK (husk binary), HUSK_ROOTFS (busybox rootfs; used read-only),
#      CGVM_BIN (dir with enforce and cgupdate; optional), HUSK_STATE_ROOT
#      (default /run/husk-cgvm), CGVM_ONLY (space-separated check names:
#      memory pids cpu update freeze pause kill kill-all devices bad nolimits
#      enforce).
# Try it: tests/vm/run-in-vm.sh "HUSK=$PWD/husk HUSK_ROOTFS=$PWD/build/rootfs \
#           CGVM_BIN=$PWD/build/release/cgroups-vm sh tests/cgroups-vm/suite.sh"
set -u
: "${HUSK:?HUSK must name the husk binary}" "${HUSK_ROOTFS:?HUSK_ROOTFS must name a rootfs}"
CG=/sys/fs/cgroup
ROOT=${HUSK_STATE_ROOT:-/run/husk-cgvm}
T=$(mktemp -d /tmp/cgvm.XXXXXX)
TOP=husk-cgvm-$$                 # every container's cgroupsPath is /$TOP/<id>
npass=0 nfail=0 nskip=0
start=$(date +%s)

pass() { echo "PASS $1: $2"; npass=$((npass + 1)); }
fail() { echo "FAIL $1: $2"; nfail=$((nfail + 1)); }
skip() { echo "SKIP $1: $2"; nskip=$((nskip + 1)); }
want() { [ -z "${CGVM_ONLY:-}" ] || case " $CGVM_ONLY " in *" $1 "*) ;; *) return 1 ;; esac; }
msleep() { sleep "$(awk "BEGIN{print $1/1000}")"; }

[ "$(id -u)" = 0 ] || { echo "SKIP suite: needs root"; exit 77; }
[ "$(stat -fc %T $CG 2>/dev/null)" = cgroup2fs ] || { echo "SKIP suite: $CG is not cgroup2"; exit 77; }
for c in memory pids cpu; do
        grep -qw $c $CG/cgroup.controllers ||
                { echo "SKIP suite: controller $c missing ($(cat $CG/cgroup.controllers))"; exit 77; }
done

# mkb ID ARGS-JSON [LINUX-JSON] [CGROUPS-PATH]: bundle $T/ID running ARGS
# with the busybox rootfs read-only, a tmpfs /tmp, no terminal, CAP_MKNOD
# (device checks); LINUX-JSON goes into "linux" (e.g. a "resources" member);
# cgroupsPath /$TOP/ID unless CGROUPS-PATH is given ("-": none).
mkb() {
        mkdir -p "$T/$1"
        cgp=${4:-/$TOP/$1}
        [ "$cgp" = - ] && cgp= || cgp="\"cgroupsPath\": \"$cgp\","
        caps='"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_MKNOD"'
        cat > "$T/$1/config.json" <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false, "user": {"uid": 0, "gid": 0}, "cwd": "/",
    "args": $2,
    "env": ["PATH=/bin:/sbin:/usr/bin:/usr/sbin"],
    "capabilities": {"bounding": [$caps], "effective": [$caps], "permitted": [$caps]},
    "noNewPrivileges": true
  },
  "root": {"path": "$HUSK_ROOTFS", "readonly": true},
  "hostname": "cgvm",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755", "size=1m"]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777", "size=8m"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup2", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "ro"]}
  ],
  "linux": {
    $cgp
    ${3:+$3,}
    "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}, {"type": "network"}, {"type": "cgroup"}]
  }
}
EOF
}
h() { "$HUSK" --root "$ROOT" "$@"; }
cgdir() { echo "$CG/$TOP/$1"; }
# kv FILE KEY: the value of "KEY value" in a flat-keyed cgroup file.
kv() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print "" }' "$1" 2>/dev/null; }
usage() { kv "$(cgdir "$1")/cpu.stat" usage_usec; }
now_us() { date +%s%6N; }
# rate U0 U1 T0 T1: CPU microseconds per wall second (TCG on a loaded host
# stretches a `sleep 1`: compare rates, not totals).
rate() { echo $((($2 - $1) * 1000000 / ($4 - $3))); }
status() { h state "$1" 2>/dev/null | sed -n 's/^ *"status": *"\([a-z]*\)".*/\1/p'; }
stopped() { [ "$(status "$1")" = stopped ]; }
gone() { ! h state "$1" >/dev/null 2>&1 && [ ! -e "$(cgdir "$1")" ]; }
cleanup() { h delete --force "$1" >/dev/null 2>&1; }
# wait_for SECONDS CMD...: poll CMD every 50 ms.
wait_for() {
        _w=$(($1 * 20)); shift
        while [ $_w -gt 0 ]; do "$@" && return 0; _w=$((_w - 1)); msleep 50; done
        return 1
}
nprocs() { wc -l < "$(cgdir "$1")/cgroup.procs"; }
procs_at_least() { [ "$(nprocs "$1")" -ge "$2" ]; }
unpopulated() { [ "$(kv "$(cgdir "$1")/cgroup.events" populated)" = 0 ]; }
frozen_is() { [ "$(kv "$(cgdir "$1")/cgroup.events" frozen)" = "$2" ]; }

# ---- memory: a process past memory.max is OOM-killed, the kill is counted
check_memory() {
        id=mem
        # "started": the init got as far as the program (not killed in setup)
        mkb $id '["sh", "-c", "echo started; exec dd if=/dev/zero of=/dev/null bs=256M count=1"]' \
                '"resources": {"memory": {"limit": 33554432, "swap": 33554432}}'
        h run --keep --bundle "$T/$id" $id > "$T/$id.out" 2>&1
        rc=$?
        d=$(cgdir $id)
        max=$(cat "$d/memory.max" 2>/dev/null) swap=$(cat "$d/memory.swap.max" 2>/dev/null)
        oomk=$(kv "$d/memory.events" oom_kill)
        st=$(status $id)
        h delete $id > /dev/null 2>&1
        if [ $rc != 137 ] || ! grep -q '^started$' "$T/$id.out"; then
                fail memory "dd of 256 MiB under a 32 MiB limit: husk run exit $rc, want 137 ($(head -c 300 "$T/$id.out"))"
        elif [ "$max" != 33554432 ]; then
                fail memory "memory.max is '$max'"
        elif [ "${oomk:-0}" -lt 1 ]; then
                fail memory "memory.events oom_kill is '${oomk}'"
        elif [ "$st" != stopped ]; then
                fail memory "state after the kill is '$st'"
        elif ! gone $id; then
                fail memory "delete left state or cgroup behind"
        else
                pass memory "memory.max $max swap.max ${swap:-none}: exit 137, oom_kill=$oomk"
        fi
}

# ---- pids: fork fails at pids.max
check_pids() {
        id=pids
        mkb $id '["sh", "-c", "i=1; while [ $i -le 40 ]; do sleep 60 & echo $i; i=$((i + 1)); done; echo survived"]' \
                '"resources": {"pids": {"limit": 8}}'
        h run --keep --bundle "$T/$id" $id > "$T/$id.out" 2> "$T/$id.err"
        rc=$?
        d=$(cgdir $id)
        max=$(cat "$d/pids.max" 2>/dev/null) ev=$(kv "$d/pids.events" max)
        last=$(tail -n1 "$T/$id.out")
        h delete $id > /dev/null 2>&1
        if [ "$max" != 8 ]; then
                fail pids "pids.max is '$max'"
        elif [ $rc = 0 ] || grep -q survived "$T/$id.out"; then
                fail pids "40 background sleeps all started under pids.max 8 (exit $rc, last '$last')"
        elif ! grep -q "can't fork" "$T/$id.err"; then
                fail pids "no fork failure reported: $(head -c 300 "$T/$id.err")"
        elif [ "$last" -ge 8 ] 2>/dev/null; then
                fail pids "$last sleeps started beside sh under pids.max 8"
        elif [ "${ev:-0}" -lt 1 ]; then
                fail pids "pids.events max is '$ev'"
        else
                pass pids "pids.max 8: sh started $last sleeps, then \"$(grep -m1 "can't fork" "$T/$id.err")\"; pids.events max=$ev"
        fi
}

busy='["sh", "-c", "while :; do :; done"]'

# ---- cpu: a 5% quota throttles a busy loop; update raises it on the
# running container; freeze stops the loop, thaw resumes it.
check_cpu() {
        id=cpu
        mkb $id "$busy" '"resources": {"cpu": {"quota": 5000, "period": 100000}}'
        if ! h run --detach --bundle "$T/$id" $id > "$T/$id.out" 2>&1; then
                want cpu && fail cpu "husk run --detach: $(head -c 300 "$T/$id.out")"
                return
        fi
        d=$(cgdir $id)
        t0=$(now_us); u0=$(usage $id); sleep 1; u1=$(usage $id); t1=$(now_us)
        r1=$(rate $u0 $u1 $t0 $t1)
        thr=$(kv "$d/cpu.stat" nr_throttled) per=$(kv "$d/cpu.stat" nr_periods) cmax=$(cat "$d/cpu.max")
        if want cpu; then
                if [ "$cmax" != "5000 100000" ]; then
                        fail cpu "cpu.max is '$cmax'"
                elif [ "${thr:-0}" -lt 1 ]; then
                        fail cpu "nr_throttled is '$thr' (nr_periods $per)"
                elif [ $r1 -gt 250000 ]; then
                        fail cpu "5% quota but $r1 us used per second"
                else
                        pass cpu "cpu.max '$cmax': $r1 us per second, nr_throttled=$thr of $per periods"
                fi
        fi

        if want update; then
                how=
                if h update --help > /dev/null 2>&1; then
                        echo '{"cpu": {"quota": 90000, "period": 100000}}' > "$T/update.json"
                        h update --resources "$T/update.json" $id > "$T/update.out" 2>&1 && how="husk update"
                elif [ -x "${CGVM_BIN:-}/cgupdate" ]; then
                        "$CGVM_BIN/cgupdate" "$d" --cpu 90000 100000 > "$T/update.out" 2>&1 &&
                                how="cg_apply (cgupdate; no husk update)"
                else
                        skip update "neither husk update nor cgupdate (make cgroups-vm)"
                        how=skip
                fi
                if [ -z "$how" ]; then
                        fail update "$(head -c 300 "$T/update.out")"
                elif [ "$how" != skip ]; then
                        t2=$(now_us); u2=$(usage $id); sleep 1; u3=$(usage $id); t3=$(now_us)
                        r2=$(rate $u2 $u3 $t2 $t3)
                        cmax=$(cat "$d/cpu.max")
                        if [ "$cmax" != "90000 100000" ]; then
                                fail update "after $how cpu.max is '$cmax'"
                        elif [ $r2 -lt $((2 * r1)) ]; then
                                fail update "quota 5% -> 90% by $how: $r1 then $r2 us per second"
                        else
                                pass update "$how: quota 5% -> 90% on the running container: $r1 -> $r2 us per second"
                        fi
                fi
        fi

        if want freeze; then
                echo 1 > "$d/cgroup.freeze"
                if ! wait_for 20 frozen_is $id 1; then
                        fail freeze "cgroup.events never said frozen 1"
                else
                        f0=$(usage $id); msleep 500; f1=$(usage $id)
                        pst=$(status $id)
                        echo 0 > "$d/cgroup.freeze"
                        wait_for 20 frozen_is $id 0
                        f2=$(usage $id); msleep 500; f3=$(usage $id)
                        if [ $((f1 - f0)) -gt 1000 ]; then
                                fail freeze "the frozen busy loop used $((f1 - f0)) us in 0.5 s"
                        elif [ $((f3 - f2)) -lt 20000 ]; then
                                fail freeze "the thawed busy loop used only $((f3 - f2)) us in 0.5 s"
                        elif [ "$pst" != paused ]; then
                                fail freeze "husk state says '$pst' while frozen (want paused)"
                        else
                                pass freeze "frozen: $((f1 - f0)) us in 0.5 s (state $pst); thawed: $((f3 - f2)) us in 0.5 s"
                        fi
                fi
        fi
        # husk pause/resume, when this husk has them (another branch adds them).
        if want pause; then
                if ! h pause --help > /dev/null 2>&1; then
                        skip pause "this husk has no pause command"
                elif ! h pause $id > "$T/pause.out" 2>&1; then
                        fail pause "husk pause: $(head -c 300 "$T/pause.out")"
                else
                        p0=$(usage $id); msleep 500; p1=$(usage $id)
                        pst=$(status $id) fz=$(kv "$d/cgroup.events" frozen)
                        h resume $id > "$T/resume.out" 2>&1; rrc=$?
                        p2=$(usage $id); msleep 500; p3=$(usage $id)
                        if [ "$fz" != 1 ] || [ "$pst" != paused ]; then
                                fail pause "after husk pause: frozen '$fz', state '$pst'"
                        elif [ $((p1 - p0)) -gt 1000 ]; then
                                fail pause "the paused busy loop used $((p1 - p0)) us in 0.5 s"
                        elif [ $rrc != 0 ]; then
                                fail pause "husk resume: $(head -c 300 "$T/resume.out")"
                        elif [ $((p3 - p2)) -lt 20000 ]; then
                                fail pause "the resumed busy loop used only $((p3 - p2)) us in 0.5 s"
                        else
                                pass pause "husk pause: $((p1 - p0)) us in 0.5 s (state $pst); husk resume: $((p3 - p2)) us in 0.5 s"
                        fi
                fi
        fi
        h kill $id KILL > /dev/null 2>&1
        wait_for 20 unpopulated $id
        h delete $id > /dev/null 2>&1 || cleanup $id
}

# ---- cgroup.kill ends every process (directly, and via husk kill --all)
check_kill() { # ID HOW
        id=$1
        mkb $id '["sh", "-c", "sleep 1000 & sleep 1000 & sleep 1000 & (sleep 1000; echo) & wait"]'
        if ! h run --detach --bundle "$T/$id" $id > "$T/$id.out" 2>&1; then
                fail $id "husk run --detach: $(head -c 300 "$T/$id.out")"
                return
        fi
        d=$(cgdir $id)
        if ! wait_for 30 procs_at_least $id 6; then
                fail $id "only $(nprocs $id) processes in the cgroup, want 6"
                cleanup $id
                return
        fi
        n=$(nprocs $id)
        if [ "$2" = direct ]; then echo 1 > "$d/cgroup.kill"; else h kill --all $id KILL; fi
        if ! wait_for 20 unpopulated $id; then
                fail $id "$(nprocs $id) processes left 20 s after the kill"
        elif ! wait_for 20 stopped $id; then
                fail $id "state is '$(status $id)' after the kill"
        else
                pass $id "$n processes, all gone after $([ "$2" = direct ] && echo "writing cgroup.kill" || echo "husk kill --all KILL"); state stopped"
        fi
        h delete $id > /dev/null 2>&1 || cleanup $id
}

# ---- devices: a denied device node cannot be opened, an allowed one can
check_devices() {
        # /dev/kmsg (c 1:11) is not a default device: writable only with a rule.
        script='mknod /dev/k c 1 11 || exit 3; echo husk-cgvm-device-test > /dev/k || exit 4; echo opened'
        mkb devok "[\"sh\", \"-c\", \"$script\"]" '"resources": {"devices": [{"allow": false, "access": "rwm"},
                {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]}'
        mkb devno "[\"sh\", \"-c\", \"$script\"]" '"resources": {"devices": [{"allow": false, "access": "rwm"},
                {"allow": false, "type": "c", "major": 1, "minor": 11, "access": "rwm"}]}'
        h run --bundle "$T/devok" devok > "$T/devok.out" 2>&1; ok=$?
        h run --bundle "$T/devno" devno > "$T/devno.out" 2>&1; no=$?
        if [ $ok != 0 ]; then
                fail devices "allowed c 1:11 w: exit $ok: $(head -c 300 "$T/devok.out")"
        elif [ $no != 4 ] || ! grep -q "Operation not permitted" "$T/devno.out"; then
                fail devices "denied c 1:11: exit $no (want 4, EPERM): $(head -c 300 "$T/devno.out")"
        elif ! gone devok || ! gone devno; then
                fail devices "run left state or a cgroup behind"
        else
                pass devices "mknod'ed c 1:11 opens for writing with an allow rule; without: \"$(grep -m1 "not permitted" "$T/devno.out")\""
        fi
}

# ---- bad configurations: clear error, nothing left behind (v2 has every
# controller here, so validation itself must refuse them).
# reject NAME LINUX-JSON MESSAGE-PATTERN [CGROUPS-PATH]
reject() {
        id=bad-$1
        mkb $id '["true"]' "$2" "${4:-}"
        h run --bundle "$T/$id" $id > "$T/$id.out" 2>&1
        rc=$?
        if [ $rc = 0 ]; then
                fail $id "accepted"
        elif ! grep -qE "$3" "$T/$id.out"; then
                fail $id "exit $rc but the message does not match /$3/: $(head -c 300 "$T/$id.out")"
        elif h state $id > /dev/null 2>&1 || [ -e "$ROOT/$id" ]; then
                fail $id "state of the refused container left behind"
        elif [ -e "$(cgdir $id)" ] || [ -e "$CG/x-$id" ]; then
                fail $id "cgroup of the refused container left behind"
        else
                pass $id "$(head -n1 "$T/$id.out")"
        fi
}

check_bad() {
        reject unified '"resources": {"unified": {"memory.bogus": "1"}}' 'memory\.bogus'
        reject unified-owned '"resources": {"unified": {"cgroup.procs": "1"}}' 'cgroup\.procs'
        reject negative-memory '"resources": {"memory": {"limit": -5}}' 'memory\.limit.*negative'
        reject negative-pids '"resources": {"pids": {"limit": -7}}' 'pids\.limit.*negative'
        reject huge-cpu '"resources": {"cpu": {"quota": 5000, "period": 99999999999}}' 'cpu\.period'
        reject dotdot '' "'\.\.'" "/$TOP/../x-bad-dotdot"
        # A path owned by another container: refused, the owner untouched.
        mkb owner '["sleep", "1000"]'
        if ! h create --bundle "$T/owner" owner > "$T/owner.out" 2>&1; then
                fail bad-owned "husk create: $(head -c 300 "$T/owner.out")"
                return
        fi
        reject owned '' 'in use by container owner' "/$TOP/owner"
        if [ "$(status owner)" != created ] || [ "$(nprocs owner)" != 1 ]; then
                fail bad-owned-intact "the owner is '$(status owner)' with $(nprocs owner) processes"
        fi
        h delete --force owner > /dev/null 2>&1
        gone owner || fail bad-owned-intact "delete --force owner left state or cgroup behind"
}

# ---- no limits, default cgroupsPath (<own cgroup>/husk/<id>): runs, and
# its cgroup goes with it.
check_nolimits() {
        id=nolimits
        mkb $id '["sh", "-c", "cat /proc/self/cgroup; echo ran"]' '' -
        own=$(sed -n 's/^0:://p' /proc/self/cgroup); own=${own%/}
        h run --keep --bundle "$T/$id" $id > "$T/$id.out" 2>&1
        rc=$?
        d=$CG$own/husk/$id
        [ -d "$d" ]; had=$?
        h delete $id > /dev/null 2>&1
        if [ $rc != 0 ] || ! grep -q '^ran$' "$T/$id.out"; then
                fail nolimits "exit $rc: $(head -c 300 "$T/$id.out")"
        elif [ $had != 0 ]; then
                fail nolimits "no cgroup at the default path $d"
        elif [ -e "$d" ] || h state $id > /dev/null 2>&1; then
                fail nolimits "delete left $d or the state behind"
        else
                pass nolimits "ran in $d (inside: $(head -n1 "$T/$id.out")), removed by delete"
        fi
}

check_enforce() {
        if [ ! -x "${CGVM_BIN:-}/enforce" ]; then
                skip enforce "no enforce program (make cgroups-vm; CGVM_BIN=$CGVM_BIN)"
                return
        fi
        "$CGVM_BIN/enforce" > "$T/enforce.out" 2>&1
        rc=$?
        sed -n 's/^PASS \([a-z]*\): /PASS enforce-\1: /p; s/^FAIL \([a-z]*\): /FAIL enforce-\1: /p' "$T/enforce.out"
        npass=$((npass + $(grep -c '^PASS' "$T/enforce.out")))
        nfail=$((nfail + $(grep -c '^FAIL' "$T/enforce.out")))
        [ $rc = 0 ] || [ "$(grep -c '^FAIL' "$T/enforce.out")" -gt 0 ] ||
                fail enforce "exit $rc: $(tail -n2 "$T/enforce.out")"
}

want memory && check_memory
want pids && check_pids
{ want cpu || want update || want freeze || want pause; } && check_cpu
want kill && check_kill kill direct
want kill-all && check_kill kill-all husk
want devices && check_devices
want bad && check_bad
want nolimits && check_nolimits
want enforce && check_enforce

rmdir "$CG/$TOP" 2>/dev/null
[ -e "$CG/$TOP" ] && fail cleanup "$CG/$TOP left behind: $(ls "$CG/$TOP")"
rm -rf "$T"
echo "SUITE pass=$npass fail=$nfail skip=$nskip secs=$(($(date +%s) - start))"
[ $nfail = 0 ]
