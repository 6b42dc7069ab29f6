#!/bin/bash
# The agent's side of docs/agent-protocol.md without a VM: the port is a pty (socat), the
# job comes from a fake kernel command line.  ready carries the job, heartbeats tick every
# second, ping -> pong with the id, unknown commands -> error, collect with no run going ->
# collected -2, stop with no run going -> stopping -11, a 'job' command runs the
# boot job once the system is up (no systemd here: immediately) -> done, poweroff -> bye.
set -u
. "$KDRILL_TOP/tests/lib/vm.sh"
command -v socat >/dev/null || { echo "skip: socat not installed"; exit 77; }
command -v jq >/dev/null || { echo "skip: jq not installed"; exit 77; }
[ -x "$KDRILL_BIN/kdrill" ] || { echo "skip: no $KDRILL_BIN/kdrill"; exit 77; }

T=$KDRILL_TMP
echo "root=/dev/vda kdrill.job=idle kdrill.scenario=demo kdrill.flag" >"$T/cmdline"
mkfifo "$T/to_agent"
# host end: socat's stdio <-> a pty the agent opens as its port
exec 7<>"$T/to_agent"
socat "PTY,link=$T/port,raw,echo=0" STDIO <&7 >"$T/from_agent" 2>"$T/socat.err" &
socat_pid=$!
trap 'kill $socat_pid $agent_pid 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 50); do [ -e "$T/port" ] && break; sleep 0.1; done
[ -e "$T/port" ] || fail "socat did not create the pty"

# --no-poweroff: the agent exits instead of powering the host off
# (/run/systemd/system is absent in the test environment, so "system" comes at once)
kd agent --port "$T/port" --cmdline "$T/cmdline" --no-poweroff 2>"$T/agent.err" &
agent_pid=$!
wait_for() { # TYPE -> the first line of that type
	for _ in $(seq 100); do
		l=$(grep -m1 "\"type\":\"$1\"" "$T/from_agent") && { echo "$l"; return 0; }
		sleep 0.1
	done
	cat "$T/from_agent" "$T/agent.err"
	return 1
}
ready=$(wait_for ready) || fail "no ready"
echo "$ready"
[ "$(jq -r .proto <<<"$ready")" = 1 ] || fail "proto"
[ "$(jq -r .job.job <<<"$ready")" = idle ] || fail "job from the command line"
[ "$(jq -r .job.scenario <<<"$ready")" = demo ] || fail "job parameter"
[ "$(jq -r .job.flag <<<"$ready")" = 1 ] || fail "job flag"
sleep 2.6
n=$(grep -c '"type":"heartbeat"' "$T/from_agent")
[ "$n" -ge 2 ] || fail "$n heartbeats after 2.6 s"
echo '{"cmd":"ping","id":42}' >&7
pong=$(wait_for pong) || fail "no pong"
[ "$(jq -r .id <<<"$pong")" = 42 ] || fail "pong id"
echo '{"cmd":"frobnicate"}' >&7
err=$(wait_for error) || fail "no error for an unknown command"
[ "$(jq -r .cmd <<<"$err")" = frobnicate ] || fail "error names the command"
echo '{"cmd":"collect"}' >&7
col=$(wait_for collected) || fail "no collected"
[ "$(jq -r .status <<<"$col")" = -2 ] || fail "collect without a run: status $(jq -r .status <<<"$col"), expected -2 (ENOENT)"
echo '{"cmd":"stop","reason":"kernel report: X"}' >&7
st=$(wait_for stopping) || fail "no stopping"
[ "$(jq -r .status <<<"$st")" = -11 ] || fail "stop without a run: status $(jq -r .status <<<"$st"), expected -11 (EAGAIN)"
echo '{"cmd":"job","job":{"job":"boot","nopoweroff":"1"}}' >&7
done_=$(wait_for done) || fail "no done"
[ "$(jq -r .status <<<"$done_")" = 0 ] || fail "done status"
echo '{"cmd":"poweroff"}' >&7
bye=$(wait_for bye) || fail "no bye"
[ "$(jq -r .action <<<"$bye")" = exit ] || fail "bye action"
wait $agent_pid
rc=$?
[ $rc = 0 ] || fail "agent exit $rc"
cat "$T/from_agent"
echo ok
