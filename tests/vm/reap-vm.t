#!/bin/bash
# A VM run whose kdrill is SIGKILLed leaves its QEMU socket directory
# (/tmp/kdrill-vm-<pid>.*) and the raw disks in its run directory (QEMU itself dies with
# kdrill: PR_SET_PDEATHSIG).  The next VM start reaps them -- only those of dead owners --
# and says so in one line.  A real `kdrill run --kernel` is killed once its QEMU runs
# with the disks attached; then `kdrill vm boot --busybox` (the quickest VM start) must
# print the "reaped" line naming the directory and leave neither it nor the disks.
set -u
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require

out=$KDRILL_TMP/res
# a live owner's directory must survive the reaping: this shell's pid, a dir made now
live=$(mktemp -d "/tmp/kdrill-vm-$$.XXXXXX")
trap 'rm -rf "$live"; [ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null' EXIT

"$KDRILL_BIN/kdrill" run --kernel "$VM_KERNEL" --out "$out" --boot-timeout 180 --duration 60 dio-invalidate \
	>"$KDRILL_TMP/run1.log" 2>&1 &
pid=$!
dir=
for _ in $(seq 1 600); do # up to 5 min: kernel fetch, image build on a cold cache
	dir=$(ls -d /tmp/kdrill-vm-"$pid".* 2>/dev/null | head -n 1)
	[ -n "$dir" ] && [ -s "$dir/disks" ] && pgrep -P "$pid" qemu-system >/dev/null && break
	kill -0 "$pid" 2>/dev/null || { cat "$KDRILL_TMP/run1.log"; fail "kdrill run ended before QEMU started"; }
	sleep 0.5
done
[ -n "$dir" ] && [ -s "$dir/disks" ] || fail "no /tmp/kdrill-vm-$pid.*/disks after 5 min"
qemu=$(pgrep -P "$pid" qemu-system)
mapfile -t disks <"$dir/disks"
echo "run pid $pid, qemu $qemu, $dir lists: ${disks[*]}"
[ "${#disks[@]}" -ge 2 ] || fail "expected a scratch disk and the results disk in $dir/disks"
kill -9 "$pid"
wait "$pid" 2>/dev/null
pid_killed=$pid
for _ in $(seq 1 100); do kill -0 "$qemu" 2>/dev/null || break; sleep 0.1; done
kill -0 "$qemu" 2>/dev/null && fail "QEMU $qemu outlived its SIGKILLed kdrill"
[ -d "$dir" ] || fail "$dir vanished by itself (nothing left to reap?)"
for d in "${disks[@]}"; do [ -f "$d" ] || fail "$d is not there after the SIGKILL"; done
pid=

kd vm boot --kernel "$VM_KERNEL" --busybox --timeout 120 --out "$KDRILL_TMP/boot2" \
	>"$KDRILL_TMP/boot2.log" 2>&1
rc=$?
cat "$KDRILL_TMP/boot2.log"
[ "$rc" = 0 ] || fail "second start (vm boot --busybox): exit $rc"
n=$(grep -c '^kdrill: reaped [0-9]* leftover(s) of dead kdrill VM runs: ' "$KDRILL_TMP/boot2.log")
[ "$n" = 1 ] || fail "expected one 'kdrill: reaped' line, got $n"
line=$(grep '^kdrill: reaped' "$KDRILL_TMP/boot2.log")
echo "$line" | grep -qF "$dir (pid ${pid_killed}, ${#disks[@]} raw disks)" ||
	fail "the line does not name $dir (pid $pid_killed, ${#disks[@]} raw disks)"
[ -e "$dir" ] && fail "$dir is still there"
for d in "${disks[@]}"; do [ -e "$d" ] && fail "$d is still there"; done
[ -d "$live" ] || fail "the live owner's $live was reaped"
echo "$line" | grep -qF "$live" && fail "the line names the live $live"
# the evidence of the killed run stays: its run directory and console.log
[ -e "$(dirname "${disks[0]}")/console.log" ] || fail "the killed run's console.log was removed"
echo ok
