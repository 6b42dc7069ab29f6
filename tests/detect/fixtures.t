#!/bin/bash
# Every console fixture in tests/detect/fixtures/<name>.{log,kmsg} has an
# expect file <name>.expect beside it (format: docs/detector.md):
#   class | title | frame [| key=value ...]     one line per report, in order
#   none                                         a clean log
# `kdrill scan --json` must produce exactly these reports, and exit 1 iff one
# of them is of a failure class.
set -u
top=${KDRILL_TOP:?}
bin=${KDRILL_BIN:?}/kdrill
fx=$top/tests/detect/fixtures
command -v jq >/dev/null || { echo "jq not installed"; exit 77; }
n=0 bad=0
for exp in "$fx"/*.expect; do
	name=${exp%.expect}
	log=
	for ext in log kmsg txt; do [ -e "$name.$ext" ] && log=$name.$ext; done
	[ -n "$log" ] || { echo "FAIL $(basename "$exp"): no fixture beside it"; bad=$((bad + 1)); continue; }
	n=$((n + 1))
	json=$("$bin" scan --json "$log")
	rc=$?
	got=$(jq -r '[.class, .title, (.frame // "-")] | join(" | ")' <<<"$json")
	want=$(grep -v '^#' "$exp" | grep -v '^[[:space:]]*$' | sed 's/ | [a-z_]*[=~].*$//')
	if [ "$want" = none ]; then want=; fi
	if [ "$got" != "$want" ]; then
		echo "FAIL $(basename "$log"):"
		diff <(echo "$want") <(echo "$got") | sed 's/^/    /'
		bad=$((bad + 1))
		continue
	fi
	# exit status: 1 iff a failure-class report
	wrc=0
	grep -qE '^(crash|hang|warning|lockdep|memory-safety|fs-error) ' <<<"$want" && wrc=1
	if [ "$rc" != "$wrc" ]; then
		echo "FAIL $(basename "$log"): exit $rc, want $wrc"
		bad=$((bad + 1))
		continue
	fi
	# extra assertions: key=value (exact) or key~substring, on the i-th report
	grep -q ' | [a-z_]*[=~]' "$exp" || continue
	kv_all=$(jq -r -s 'to_entries[] | .key as $i | .value | to_entries[] |
		"\($i)\t\(.key)\t\(.value | tostring | gsub("\n"; " "))"' <<<"$json")
	i=0
	while IFS= read -r line; do
		case $line in '#'* | '' | none) continue ;; esac
		extras=$(sed -n 's/^[^|]*|[^|]*|[^|]*| //p' <<<"$line")
		for kv in $extras; do
			case $kv in
			*=*) k=${kv%%=*} v=${kv#*=} op='=' ;;
			*~*) k=${kv%%~*} v=${kv#*~} op='~' ;;
			*) continue ;;
			esac
			g=$(awk -F'\t' -v i="$i" -v k="$k" '$1 == i && $2 == k { sub(/^[^\t]*\t[^\t]*\t/, ""); print; exit }' <<<"$kv_all")
			if [ "$op" = '=' ] && [ "$g" != "$v" ]; then
				echo "FAIL $(basename "$log") report $i: $k=$g, want $v"; bad=$((bad + 1))
			elif [ "$op" = '~' ] && [[ $g != *"$v"* ]]; then
				echo "FAIL $(basename "$log") report $i: $k lacks '$v'"; bad=$((bad + 1))
			fi
		done
		i=$((i + 1))
	done <"$exp"
done
echo "$n fixtures, $bad failures"
[ "$n" -ge 60 ] || { echo "only $n fixtures (want >= 60)"; exit 1; }
[ "$bad" -eq 0 ]
