#!/bin/bash
# A store of three nights built from real verdict.json files (tests/matrix/fixtures: a
# host PASS, a VM HANG and a VM BUG, rewritten per run by jq where a night needs another
# outcome) ingested with `kdrill matrix --ingest`; `kdrill report` on it; the page loaded
# in headless Chromium: grid cells, the changed cells highlighted, trend charts drawn by
# the page, the escaped <script> of a kernel title not executed; a screenshot kept;
# summary.txt / summary.json / junit.xml / kcidb.json (validated against KCIDB v5.3).
. "$KDRILL_TOP/tests/matrix/lib.sh"
[ -x "$KD" ] || { echo "skip: $KD not built"; exit 77; }
CHROMIUM=$(command -v chromium || true)
[ -n "$CHROMIUM" ] || { echo "skip: chromium not installed"; exit 77; }
python3 -c 'import jsonschema' 2>/dev/null || { echo "skip: python3-jsonschema not installed"; exit 77; }
S=$KDRILL_TMP/store
plan=$KDRILL_TMP/lab.ini
cat >"$plan" <<'PLAN'
[matrix]
name = lab
runs = 4
duration = 10
[kernels]
kernel = debian:6.1.0-{54..55}-cloud-amd64
[scenarios]
scenario = dio-unwritten
scenario = crash-selftest
scenario = hang-selftest
[known.selftest-hang]
match = INFO: task hung in
scenario = hang-selftest
note = the self-test hangs on purpose
link = https://example.invalid/selftest?a=1&b=2
PLAN
A=debian:6.1.0-54-cloud-amd64
B=debian:6.1.0-55-cloud-amd64
evil='.scenario = "dio-unwritten" | .reason = "BUG: <script>document.title=\"PWNED\"</script> in ext4_end_io"
 | .reports |= map(if .role == "failure" then .signature = "crash:BUG: <script> in ext4_end_io" | .title = "BUG: <script>document.title=\"PWNED\"</script> in ext4_end_io"
   | .excerpt = "<script>document.title=\"PWNED2\"</script>\n" + .excerpt else . end)'
infra='.verdict = "INFRA" | .exit_code = 125 | .reason = "QEMU exited before the guest was ready (fixture)"'

# ingest KERNEL NIGHT FIXTURE JQ COUNT: COUNT runs of one outcome
k=0
ingest() {
	local kern=$1 night=$2 fx=$3 filter=$4 count=$5 dirs=() i id
	for ((i = 0; i < count; i++)); do
		k=$((k + 1))
		id=$(printf '2026120%s-0000%02d-fixture-%04d' "${night#n}" "$k" "$k")
		dirs+=("$(mkrun "$fx" "$id" "$filter")")
	done
	"$KD" matrix --store "$S" --night "$night" --ingest --kernel "$kern" "$plan" "${dirs[@]}" >/dev/null ||
		fail "ingest $kern $night $fx"
}
dio='.scenario = "dio-unwritten"'
crash_pass='.scenario = "crash-selftest"'
for n in n1 n2 n3; do
	ingest $A $n pass-dio-unwritten "$dio" 4                       # pass
	ingest $A $n hang-selftest . 4                                 # still failing, known
done
ingest $B n1 pass-dio-unwritten "$dio" 4; ingest $B n2 pass-dio-unwritten "$dio" 4
ingest $B n3 bug-crash-selftest "$evil" 4                            # new failure
ingest $A n1 bug-crash-selftest . 4; ingest $A n2 bug-crash-selftest . 4
ingest $A n3 pass-dio-unwritten "$crash_pass" 4                      # fixed (4/4 -> 0/4)
ingest $B n1 bug-crash-selftest . 4
ingest $B n2 bug-crash-selftest . 2; ingest $B n2 pass-dio-unwritten "$crash_pass" 2
ingest $B n3 bug-crash-selftest . 4                                  # flaky
ingest $B n1 hang-selftest . 4; ingest $B n2 hang-selftest . 4
ingest $B n3 pass-dio-unwritten ".scenario = \"hang-selftest\" | $infra" 3   # infra
echo "store: $(ls "$S/runs" | grep -c fixture) runs in $(ls "$S/nights" | wc -l) nights"

# a duplicate ingest is refused
out=$("$KD" matrix --store "$S" --night n3 --ingest --kernel $A "$plan" "$(ls -d "$SRC"/2026120* | head -1)" 2>&1)
[ $? = 2 ] && [[ $out == *"already in the store"* ]] || fail "duplicate ingest: $out"

R=$KDRILL_TMP/report
out=$("$KD" report --out "$R" "$S") || fail "kdrill report: $out"
echo "$out"
[[ $out == "kdrill matrix lab, night n3: 6 cells, 23 runs: 1 new failure, 1 fixed, 1 flaky, 1 infra, 1 known; report: $R/index.html"* ]] ||
	fail "summary line: $out"
grep -q "new failure: $B dio-unwritten: 4/4 BUG: <script>" <<<"$out" || fail "summary lists the new failure"
for f in index.html junit.xml summary.json kcidb.json summary.txt; do [ -s "$R/$f" ] || fail "$f missing"; done
j() { jq -r "$1" "$R/summary.json"; }
[ "$(j '.counts | [."new-failure", .fixed, .flaky, ."still-failing", .infra, .pass, .known] | join(" ")')" = "1 1 1 0 1 1 1" ] ||
	fail "counts: $(j .counts)"
[ "$(j ".cells[] | select(.cell == \"$A crash-selftest\") | .change")" = fixed ] || fail "fixed cell"
[ "$(j ".cells[] | select(.cell == \"$A hang-selftest\") | .known.name")" = selftest-hang ] || fail "known cell"
[ "$(j ".cells[] | select(.cell == \"$B crash-selftest\") | .rate")" = "0.833" ] || fail "flaky rate $(j ".cells[] | select(.cell == \"$B crash-selftest\") | .rate")"
[ "$(j .previous)" = n2 ] || fail "previous night"

# JUnit: one testcase per cell, failure/error/skipped as classified
python3 - "$R/junit.xml" <<'PY' || fail "junit.xml"
import sys, xml.etree.ElementTree as ET
t = ET.parse(sys.argv[1]).getroot()
cases = t.findall('.//testcase')
assert len(cases) == 6, len(cases)
kinds = {c.get('classname') + ' ' + c.get('name'): [x.tag + ':' + (x.get('type') or '') for x in c if x.tag != 'properties'] for c in cases}
print(kinds)
assert kinds['debian:6.1.0-55-cloud-amd64 dio-unwritten'] == ['failure:new-failure']
assert kinds['debian:6.1.0-55-cloud-amd64 crash-selftest'] == ['failure:flaky']
assert kinds['debian:6.1.0-54-cloud-amd64 hang-selftest'] == ['skipped:']
assert kinds['debian:6.1.0-55-cloud-amd64 hang-selftest'] == ['error:infra']
assert kinds['debian:6.1.0-54-cloud-amd64 crash-selftest'] == []
PY
kcidb_validate "$R/kcidb.json" || fail "kcidb.json does not validate"
[ "$(jq '[.tests[] | select(.status == "FAIL")] | length' "$R/kcidb.json")" = 12 ] || fail "kcidb FAIL tests"
[ "$(jq '.issues | length' "$R/kcidb.json")" = 3 ] || fail "kcidb issues: $(jq -c '[.issues[].report_subject]' "$R/kcidb.json")"
[ "$(jq '.incidents | length' "$R/kcidb.json")" = 12 ] || fail "kcidb incidents"

# the page in a real browser
prof=$(mktemp -d "$KDRILL_TMP/chromium.XXXXXX")
chrome() {
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$prof" "$@" 2>>"$KDRILL_TMP/chromium.log"
}
chrome --dump-dom "file://$R/index.html" >"$KDRILL_TMP/dom.html" || fail "chromium --dump-dom"
python3 - "$KDRILL_TMP/dom.html" "$B" <<'PY' || fail "DOM checks"
import sys, html.parser
dom = open(sys.argv[1]).read()
B = sys.argv[2]
class P(html.parser.HTMLParser):
    def __init__(s):
        super().__init__(); s.cells = []; s.svgs = 0; s.polylines = 0; s.scripts = []; s.title = ''
        s.in_title = False; s.in_script = False; s.body = {}; s.charts = []
    def handle_starttag(s, tag, a):
        a = dict(a); cls = (a.get('class') or '').split()
        if tag == 'td' and 'cell' in cls: s.cells.append((a.get('data-cell'), cls, a.get('data-change')))
        if tag == 'svg': s.svgs += 1
        if tag == 'polyline': s.polylines += 1
        if tag == 'div' and 'chart' in cls: s.charts.append(a.get('data-rendered'))
        if tag == 'title': s.in_title = True
        if tag == 'script': s.in_script = True; s.scripts.append('')
        if tag == 'body': s.body = a
    def handle_endtag(s, tag):
        if tag == 'title': s.in_title = False
        if tag == 'script': s.in_script = False
    def handle_data(s, d):
        if s.in_title: s.title += d
        if s.in_script: s.scripts[-1] += d
p = P(); p.feed(dom)
print('title:', p.title); print('cells:', len(p.cells), 'svgs:', p.svgs, 'polylines:', p.polylines, 'body:', p.body)
assert 'PWNED' not in p.title, 'injected script ran: ' + p.title
assert p.title.startswith('kdrill matrix lab'), p.title
assert len(p.cells) == 6, p.cells
changed = sorted(c[0] for c in p.cells if 'changed' in c[1])
assert changed == sorted([B + ' dio-unwritten', 'debian:6.1.0-54-cloud-amd64 crash-selftest']), changed
assert [c for c in p.cells if c[0] == B + ' dio-unwritten'][0][1] == ['cell', 'fail', 'changed']
assert [c for c in p.cells if c[0] == B + ' hang-selftest'][0][2] == 'infra'
assert p.body.get('data-charts') == '12', p.body          # 3 scenarios x 4 metrics, drawn by the page
assert p.svgs == 12 and p.polylines == 12, (p.svgs, p.polylines)
assert all(int(r or 0) >= 1 for r in p.charts), p.charts
# two scripts only: the JSON data and the page's own; the kernel text is text
assert len(p.scripts) == 2, len(p.scripts)
assert 'PWNED' not in p.scripts[1]
assert dom.count('&lt;script&gt;document.title="PWNED"&lt;/script&gt;') >= 2, 'escaped title not shown as text'
assert '<script>document.title' not in dom
print('DOM ok')
PY
chrome --window-size=1280,1700 --screenshot="$KDRILL_TMP/report.png" "file://$R/index.html" >/dev/null ||
	fail "chromium --screenshot"
[ "$(head -c 8 "$KDRILL_TMP/report.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] || fail "screenshot is not a PNG"
[ -n "${MATRIX_SCREENSHOT:-}" ] && cp "$KDRILL_TMP/report.png" "$MATRIX_SCREENSHOT"
# a journal line torn by a power loss is skipped (and counted); a symlink planted at the
# journal's path is not written through
cp -a "$S" "$KDRILL_TMP/torn"
printf '{"schema":"kdrill-matrix-run/1","cell":"%s dio-unw' "$B" >>"$KDRILL_TMP/torn/nights/n3/journal.jsonl"
"$KD" report --out "$KDRILL_TMP/torn/report" "$KDRILL_TMP/torn" >/dev/null || fail "report of a torn journal"
[ "$(jq -r '"\(.torn_journal_lines) \(.runs)"' "$KDRILL_TMP/torn/report/summary.json")" = "1 23" ] ||
	fail "torn line: $(jq -c '{torn_journal_lines, runs}' "$KDRILL_TMP/torn/report/summary.json")"
grep -q '1 torn journal lines skipped' "$KDRILL_TMP/torn/report/index.html" || fail "torn line not on the page"
mv "$KDRILL_TMP/torn/nights/n3/journal.jsonl" "$KDRILL_TMP/elsewhere.jsonl"
ln -s "$KDRILL_TMP/elsewhere.jsonl" "$KDRILL_TMP/torn/nights/n3/journal.jsonl"
before=$(md5sum <"$KDRILL_TMP/elsewhere.jsonl")
out=$("$KD" matrix --store "$KDRILL_TMP/torn" --night n3 --ingest --kernel $A "$plan" \
	"$(mkrun pass-dio-unwritten 20261203-999999-planted-0001 "$dio")" 2>&1) && fail "ingest wrote through a symlink"
echo "planted symlink: $out"
[ "$(md5sum <"$KDRILL_TMP/elsewhere.jsonl")" = "$before" ] || fail "the symlink's target changed"
[ -e "$KDRILL_TMP/torn/runs/20261203-999999-planted-0001" ] && fail "a refused ingest left its run directory"

# compare = baseline: each kernel against the baseline kernel's cell of the same night
bplan=$KDRILL_TMP/base.ini
sed -e 's/^name = lab$/name = base\ncompare = baseline\nbaseline = debian:6.1.0-54-cloud-amd64/' \
	-e 's/^runs = 4$/runs = 2/' -e 's/{54..55}/{54..56}/' "$plan" >"$bplan"
S=$KDRILL_TMP/bstore plan=$bplan
C=debian:6.1.0-56-cloud-amd64
ingest $A n1 pass-dio-unwritten "$dio" 2; ingest $B n1 bug-crash-selftest "$dio" 2; ingest $C n1 pass-dio-unwritten "$dio" 2
ingest $A n1 bug-crash-selftest . 2; ingest $B n1 bug-crash-selftest . 2; ingest $C n1 pass-dio-unwritten "$crash_pass" 2
out=$("$KD" report --out "$KDRILL_TMP/breport" "$S") || fail "baseline report: $out"
echo "$out"
bj() { jq -r ".cells[] | select(.cell == \"$1\") | \"\(.change) \(.reference.night)\"" "$KDRILL_TMP/breport/summary.json"; }
[ "$(bj "$B dio-unwritten")" = "new-failure n1" ] || fail "baseline: B dio: $(bj "$B dio-unwritten")"
[ "$(bj "$B crash-selftest")" = "still-failing n1" ] || fail "baseline: B crash: $(bj "$B crash-selftest")"
[ "$(bj "$C crash-selftest")" = "flaky n1" ] || fail "baseline: C crash (2/2 -> 0/2: not enough for fixed): $(bj "$C crash-selftest")"
[ "$(bj "$A crash-selftest")" = "new-failure null" ] || fail "baseline: the baseline's own cell: $(bj "$A crash-selftest")"
[ "$(jq -r .compare "$KDRILL_TMP/breport/summary.json")" = baseline ] || fail "compare mode"

echo "ok: report of 3 nights: summary, JSON, JUnit, KCIDB valid, page checked in Chromium ($(stat -c %s "$R/index.html") bytes)"
