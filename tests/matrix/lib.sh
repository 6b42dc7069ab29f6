# shellcheck shell=bash
# tests/matrix/lib.sh — helpers for the matrix tests (sourced).
#   KD                       the kdrill under test
#   fail MSG                 print and exit 1
#   mkrun FIXTURE ID [JQ]    copy tests/matrix/fixtures/FIXTURE to $SRC/ID with verdict.json
#                            rewritten by JQ and run_id/dir set to ID (prints the dir)
#   kcidb_validate FILE      validate against ../shared/kcidb/kcidb-io.schema.v5.3.json
#   host_plan FILE NAME RUNS SCRATCH SCENARIO...
#                            write a host-mode plan (2 s runs) of these scenario lines
set -u
KD=${KDRILL_BIN:?}/kdrill
FIX=$KDRILL_TOP/tests/matrix/fixtures
SRC=$KDRILL_TMP/src
mkdir -p "$SRC"

fail() { echo "FAIL: $*"; exit 1; }

mkrun() {
	local fx=$1 id=$2 filter=${3:-.}
	mkdir -p "$SRC/$id"
	cp "$FIX/$fx"/* "$SRC/$id/"
	jq --arg id "$id" --arg dir "$SRC/$id" "$filter | .run_id = \$id | .dir = \$dir" \
		"$FIX/$fx/verdict.json" >"$SRC/$id/verdict.json" || fail "jq $filter"
	echo "$SRC/$id"
}

KCIDB_SCHEMA=${KCIDB_SCHEMA:-$KDRILL_TOP/../shared/kcidb/kcidb-io.schema.v5.3.json}
[ -f "$KCIDB_SCHEMA" ] || KCIDB_SCHEMA=/work/shared/kcidb/kcidb-io.schema.v5.3.json

kcidb_validate() {
	python3 - "$KCIDB_SCHEMA" "$1" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
jsonschema.validate(doc, schema, format_checker=jsonschema.FormatChecker())
print("kcidb valid:", {k: len(v) for k, v in doc.items() if isinstance(v, list)})
PY
}

host_plan() {
	local f=$1 name=$2 runs=$3 scratch=$4 s
	shift 4
	{
		printf '[matrix]\nname = %s\nruns = %s\nduration = 2\ntarget = host\nscratch = %s\n' \
			"$name" "$runs" "$scratch"
		printf '[scenarios]\n'
		for s in "$@"; do printf 'scenario = %s\n' "$s"; done
	} >"$f"
}
