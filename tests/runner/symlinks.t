#!/bin/bash
# Writes never follow planted symlinks: a symlink at OUT/index.jsonl is not appended
# through; in a world-writable sticky --scratch, a symlink planted with the name of the
# run's mount point (kdrill-<pid>-data) does not get the loop filesystem mounted on its
# target.  Also: a relative --scratch works (the reproducers get an absolute --dir).
. "$KDRILL_TOP/tests/runner/lib.sh"
run_require

# 1. relative --scratch, and a symlink at index.jsonl
victim=$KDRILL_TMP/victim
echo "precious" >"$victim"
ln -s "$victim" "$OUT/index.jsonl"
(cd "$KDRILL_TMP" && "$KD" run --host --scratch scratch --out "$OUT" --quiet --duration 2 \
	dio-invalidate) >"$KDRILL_TMP/out1" 2>&1
rc=$?
cat "$KDRILL_TMP/out1"
RUN_DIR=$(ls -d "$OUT"/2*/ | tail -n 1)
RUN_DIR=${RUN_DIR%/}
[ "$(cat "$victim")" = precious ] || fail "index.jsonl was appended through the symlink: $(cat "$victim")"
[ -L "$OUT/index.jsonl" ] || fail "the symlink was replaced"
[ "$rc" = 125 ] || fail "exit $rc, want 125 (results could not be written completely)"
grep -q "index.jsonl\|writing results under $OUT: Too many levels of symbolic links (a symlink" \
	"$KDRILL_TMP/out1" || fail "the refusal is not explained"
# the run itself worked, from a relative --scratch
[ "$(vj .verdict)" = PASS ] || fail "verdict $(vj .verdict): $(vj .reason)"
grep -q -- "--dir $KDRILL_TMP/scratch/kdrill-[0-9]*-data/" "$RUN_DIR/runner.log" ||
	{ grep start "$RUN_DIR/runner.log"; fail "reproducers did not get an absolute --dir"; }
[ "$(vj .counters.ops)" -gt 0 ] || fail "no ops"
echo "ok relative --scratch: PASS with $(vj .counters.ops) ops; index.jsonl symlink refused"
rm -f "$OUT/index.jsonl"

# 1b. a relative --out: what the units see (${dir}, ${run_dir}) is absolute too (their
# working directory is not kdrill's)
cat >"$KDRILL_TMP/rel.ini" <<'INI'
[scenario]
name = rel
timeout = 2s
signature_class = crash
[load.d]
program = test
args = -d ${dir}
[load.r]
program = test
args = -d ${run_dir}
INI
(cd "$KDRILL_TMP" && "$KD" run --host --scratch scratch --out rel-results --quiet rel.ini) \
	>"$KDRILL_TMP/out1b" 2>&1
RUN_DIR=$(ls -d "$KDRILL_TMP"/rel-results/2*/ | tail -n 1)
RUN_DIR=${RUN_DIR%/}
grep -q "start d-0: test -d $KDRILL_TMP/rel-results/2[^ ]*/d-0\$" "$RUN_DIR/runner.log" &&
	grep -q "start r-0: test -d $KDRILL_TMP/rel-results/2[^ ]*\$" "$RUN_DIR/runner.log" ||
	{ cat "$KDRILL_TMP/out1b" "$RUN_DIR/runner.log"; fail "units got relative paths"; }
[ "$(vj '.reproducers[] | select(.name == "d-0") | .last_exit')" = 0 ] ||
	fail "test -d \${dir} failed from the unit's working directory"
echo "ok relative --out: \${dir} and \${run_dir} absolute"

# 2. a symlink planted at the mount point name in a sticky world-writable scratch
target=$KDRILL_TMP/target
mkdir -p "$target"
echo "keep" >"$target/file"
chmod 1777 "$SCRATCH"
# the shell's pid becomes kdrill's pid with exec: the name is known in advance
before=$(run_dirs)
bash -c 'ln -s "$1" "$2/kdrill-$$-data"; echo $$ >"$2/../pid"; exec "$3" run --host --scratch "$2" \
	--out "$4" --quiet --duration 2 dio-invalidate' _ "$target" "$SCRATCH" "$KD" "$OUT" \
	>"$KDRILL_TMP/out2" 2>&1
rc=$?
pid=$(cat "$KDRILL_TMP/pid")
cat "$KDRILL_TMP/out2"
new_run_dir "$before"
mountpoint -q "$target" && { umount "$target"; fail "the loop filesystem was mounted on the symlink's target"; }
[ "$(cat "$target/file")" = keep ] || fail "target changed"
[ "$rc" = 125 ] || fail "exit $rc, want 125"
[ "$(vj .verdict)" = INFRA ] || fail "verdict $(vj .verdict)"
[[ "$(vj .reason)" == "mount point $SCRATCH/kdrill-$pid-data: exists already and is not kdrill's directory (a symlink?): refusing to mount there" ]] ||
	fail "reason: $(vj .reason)"
[ -L "$SCRATCH/kdrill-$pid-data" ] || fail "the planted symlink is gone"
rm -f "$SCRATCH/kdrill-$pid-data"
check_no_leftovers "$pid"
echo "ok planted mount point: INFRA '$(vj .reason)'"
