#!/bin/bash
# `kdrill show` on verdict.json files it did not write: wrong JSON types (json-c aborted
# on a "reports" that is not an array), terminal escape sequences (printed raw), broken
# JSON (was "Bad message"), a FIFO (hung).  Root-free.
. "$KDRILL_TOP/tests/runner/lib.sh"
[ -x "$KD" ] || { echo "skip: $KD not built"; exit 77; }
o=$KDRILL_TMP/show
mk() { mkdir -p "$o/$1"; printf '%s' "$2" >"$o/$1/verdict.json"; }
show() { out=$(timeout 10 "$KD" show --out "$o" "$1" 2>&1); rc=$?; }

mk 20260101-000000-types-0001 '{"run_id":"types","verdict":"PASS","reports":{"x":1},"params":[1,2],"kernel":"6.1","counters":7}'
show types
[ $rc = 0 ] || fail "wrong types: exit $rc (134 = json-c abort): $out"
[[ $out == *'"reports" is a JSON object, not an array'* ]] || fail "reports type not named: $out"
[[ $out == *'"params" is a JSON array, not an object'* ]] || fail "params type not named: $out"
[[ $out == *"verdict   PASS"* ]] || fail "the rest of the verdict not shown: $out"
echo "ok wrong types: $(grep -c 'not an' <<<"$out") problems named, exit 0"

esc=$(printf '\033')
mk 20260101-000000-esc-0002 '{"run_id":"esc\u001b]0;pwned\u0007","reason":"r\u001b[2J\u009b31m","reports":[{"role":"failure","title":"t\u001b[31m","excerpt":"line1\n\u001b[2Jline2"},5],"params":{"p":"\u001b"}}'
show esc
[ $rc = 0 ] || fail "escapes: exit $rc: $out"
[[ $out != *"$esc"* ]] && [[ $out != *$'\x07'* ]] && [[ $out != *$'\xc2\x9b'* ]] ||
	fail "control characters from the file reached the terminal: $(cat -v <<<"$out")"
[[ $out == *'run       esc\x1b]0;pwned\x07'* ]] || fail "run id not escaped visibly: $out"
[[ $out == *'reason    r\x1b[2J\u009b31m'* ]] || fail "reason not escaped visibly: $out"
[[ $out == *'\x1b[2Jline2'* ]] || fail "excerpt not escaped: $out"
[[ $out == *"(report 1 is not a JSON object)"* ]] || fail "non-object report: $out"
echo "ok escapes shown as \\xNN"

mk 20260101-000000-broken-0003 '{"run_id": "c",
 "verdict": '
show broken
[ $rc = 125 ] && [[ $out == *"verdict.json:2: not valid JSON (unexpected end of data, byte 28)"* ]] ||
	fail "broken JSON: exit $rc: $out"
echo "ok broken: $out"
mk 20260101-000000-array-0004 '[1]'
show array
[ $rc = 125 ] && [[ $out == *"the top level is a JSON array, not an object"* ]] || fail "array: $rc $out"

mkdir -p "$o/20260101-000000-fifo-0005"
mkfifo "$o/20260101-000000-fifo-0005/verdict.json"
show fifo
[ $rc = 125 ] && [[ $out == *"verdict.json: not a regular file"* ]] || fail "FIFO: exit $rc (124 = hung): $out"
echo "ok FIFO: $out"
