#!/bin/bash
# A scenario of loads only runs for its duration: a load that exits early does not end
# the run as if "reproducers finished" (there are none).
. "$KDRILL_TOP/tests/runner/lib.sh"
run_require
cat >"$KDRILL_TMP/loads.ini" <<'INI'
[scenario]
name = loads-only
description = test fixture: one load that exits at once, one that runs for the duration
duration = 3s
signature_class = crash
[load.quick]
program = true
[load.idle]
program = sleep
args = ${duration}
INI
kd_run --no-kmsg "$KDRILL_TMP/loads.ini"
echo "exit $RC: $(vj .verdict) $(vj .reason); stop: $(vj .stop_reason), $(vj .duration_s) s"
[ "$(vj .stop_reason)" = duration ] || fail "stop_reason $(vj .stop_reason), want duration"
awk -v d="$(vj .duration_s)" 'BEGIN { exit !(d >= 2.9) }' || fail "ran $(vj .duration_s) s of 3"
# sleep ${duration} ends with the run: by itself (0) or by the stop's SIGTERM (143)
case "$(vj '.reproducers[] | select(.name == "idle-0") | .last_exit')" in
0 | 143) ;;
*) fail "sleep: last_exit $(vj '.reproducers[] | select(.name == "idle-0") | .last_exit')" ;;
esac
