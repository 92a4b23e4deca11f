#!/usr/bin/env bash
# Run libFuzzer harnesses: first every input of the harness's seed corpus
# (tests/fuzz/corpus/NAME/, NAME = the binary's name without fuzz_) as a
# regression run, then fuzzing for SECONDS (0: the regression run only).
# New inputs go to BUILD/corpus/NAME, never into the committed corpus; a
# crash leaves BUILD/crash-NAME-*, to be added to the seed corpus as a
# regression case once fixed.
#   tests/fuzz/run.sh FUZZ_BUILD SECONDS BIN...
set -uo pipefail

build=$1 secs=$2
shift 2
top=$(cd "$(dirname "$0")/../.." && pwd)
failed=()

for bin in "$@"; do
	name=$(basename "$bin")
	short=${name#fuzz_}
	seeds=$top/tests/fuzz/corpus/$short
	work=$build/corpus/$short
	mkdir -p "$seeds" "$work"
	if [ "$short" = classify ] && [ "$(id -u)" -ne 0 ]; then
		echo "fuzz: $name needs root (BPF_PROG_TEST_RUN): skipped" >&2
		failed+=("$name(not root)")
		continue
	fi
	start=$SECONDS
	log=$build/$name.log
	# -runs=0 on directories: execute each input once.
	if ! "$bin" -runs=0 -artifact_prefix="$build/crash-$short-" "$seeds" >"$log" 2>&1; then
		echo "FAIL  $name: a seed corpus input fails (regression):" >&2
		tail -n 40 "$log" >&2
		failed+=("$name")
		continue
	fi
	if [ "$secs" -gt 0 ] && ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$build/crash-$short-" -print_final_stats=1 \
		"$work" "$seeds" >>"$log" 2>&1; then
		echo "FAIL  $name after $((SECONDS - start))s:" >&2
		tail -n 60 "$log" >&2
		echo "  crash input: $(ls -t "$build"/crash-"$short"-* 2>/dev/null | head -1)" >&2
		echo "  once fixed, add it: cp <crash input> $seeds/" >&2
		failed+=("$name")
		continue
	fi
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
	printf 'PASS  %-22s %4ds  %s inputs run, corpus %s + %s\n' "$name" $((SECONDS - start)) \
		"${execs:-$(ls "$seeds" | wc -l)}" "$(ls "$seeds" | wc -l)" "$(ls "$work" | wc -l)"
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz: failed: ${failed[*]}" >&2; exit 1; }
