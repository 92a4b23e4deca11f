#!/usr/bin/env bash
# `make bench`: run every bench/bench_*.sh in name order, then write
# BUILD/bench.json (a JSON list, one object per measure: name, unit, xdpmux,
# baseline, baseline_name, ratio, higher_is_better), print a table and plot
# it into BUILD/bench.svg (bench/plot.sh).
#
#   bench/run.sh BUILD [--quick] [NAME...]
#
# NAME selects benches by script name (xdp_cost for bench_xdp_cost.sh); all
# run when none is given. Each bench's output goes to BUILD/bench-logs/NAME.log
# and is shown only when it fails. A bench that exits 77 (bench_skip) is
# reported as skipped. Exits 1 when a bench failed; a missed target is
# reported in the table, not as a failure (benchmarks are not tests).
set -uo pipefail

usage() {
	echo "usage: bench/run.sh BUILD [--quick] [NAME...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
build=$1; shift
quick=0
only=()
for a in "$@"; do
	case $a in
	--quick) quick=1 ;;
	-*) usage ;;
	*) only+=("$a") ;;
	esac
done

top=$(cd "$(dirname "$0")/.." && pwd)
case $build in /*) ;; *) build=$top/$build ;; esac
[ -d "$build" ] || { echo "bench: no build dir $build: run make first" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
	echo "bench: the benchmarks need root (BPF_PROG_TEST_RUN, network namespaces)" >&2
	exit 1
fi
for tool in jq iperf3; do
	command -v $tool >/dev/null || { echo "bench: $tool is missing: run scripts/install-deps.sh" >&2; exit 1; }
done
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

export XM_TOP=$top XM_BUILD=$build XM_QUICK=$quick
export XM_BENCH_JSONL=$build/bench.jsonl
logdir=$build/bench-logs
mkdir -p "$logdir"
: >"$XM_BENCH_JSONL"

failed=()
for script in "$top"/bench/bench_*.sh; do
	[ -f "$script" ] || continue
	name=$(basename "$script" .sh); name=${name#bench_}
	if [ ${#only[@]} -gt 0 ] && ! printf '%s\n' "${only[@]}" | grep -qx "$name"; then
		continue
	fi
	start=$SECONDS
	printf 'bench %-24s ' "$name" >&2
	timeout --kill-after=10 900 bash "$script" >"$logdir/$name.log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		printf 'ok    %4ds\n' $((SECONDS - start)) >&2
	elif [ $rc -eq 77 ]; then
		printf 'skip  %4ds (%s)\n' $((SECONDS - start)) \
			"$(sed -n 's/^SKIP: //p' "$logdir/$name.log" | tail -n1)" >&2
	else
		printf 'FAIL  %4ds (exit %d)\n' $((SECONDS - start)) $rc >&2
		sed 's/^/    | /' "$logdir/$name.log" | tail -n 40 >&2
		failed+=("$name")
	fi
done

# The list keeps the DESIGN.md keys only; the target stays in bench.jsonl.
if ! jq -s 'map(del(.target))' "$XM_BENCH_JSONL" >"$build/bench.json.tmp" ||
	! mv "$build/bench.json.tmp" "$build/bench.json"; then
	echo "bench: cannot assemble $build/bench.json" >&2
	exit 1
fi

echo
jq -rs '
	def num: if . == null then "-"
		 elif (. | fabs) >= 100 then (. * 10 | round / 10 | tostring)
		 else (. * 1000 | round / 1000 | tostring) end;
	def met: if .target == null or .ratio == null then "-"
		 elif .higher_is_better then (if .ratio >= .target then "yes (>= \(.target))" else "NO (>= \(.target))" end)
		 else (if .ratio <= .target then "yes (<= \(.target))" else "NO (<= \(.target))" end) end;
	(["name", "unit", "xdpmux", "baseline", "ratio", "target met"] | @tsv),
	(.[] | [.name, .unit, (.xdpmux | num), "\(.baseline | num) \(.baseline_name)",
		(.ratio | num), met] | @tsv)' "$XM_BENCH_JSONL" | column -t -s $'\t'
echo
echo "results: $build/bench.json"
# The chart is a view of the results: failing to draw it fails no bench.
"$(dirname "$0")/plot.sh" "$build" || echo "bench: no plot (see above)" >&2

if [ ${#failed[@]} -gt 0 ]; then
	echo "bench: failed: ${failed[*]} (logs in $logdir)" >&2
	exit 1
fi
