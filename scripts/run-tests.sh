#!/usr/bin/env bash
# Run the test suite: Criterion unit tests (build/tests/test_*), then the
# namespace selftests (tests/selftests/test_*.sh). Prints one line per suite
# and a closing "N passed, N failed" line; exits non-zero when any failed.
#   scripts/run-tests.sh BUILD [unit|selftest|vm]
# vm: the selftests plus the VM-only ones (tests/selftests/vm/, they need
# sch_netem), as scripts/vmtest.sh runs them in the guest, less those marked
# "# xm-vm: skip" (kernel-independent, or run in full on the host). Logs go to
# BUILD/test-logs, or /tmp/xdpmux-test-logs when BUILD is read-only (the VM).
# A selftest is killed after $XM_TEST_TIMEOUT seconds (default 600).
set -uo pipefail

build=${1:-build}
which=${2:-all}
top=$(cd "$(dirname "$0")/.." && pwd)
export XM_BUILD=$(cd "$top/$build" 2>/dev/null && pwd || echo "$top/$build")
export XM_TOP=$top
passed=0 failed=0 failures=()
logdir=$XM_BUILD/test-logs
if ! mkdir -p "$logdir" 2>/dev/null || [ ! -w "$logdir" ]; then
	logdir=/tmp/xdpmux-test-logs
	mkdir -p "$logdir"
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "run-tests: the tests need root (BPF_PROG_TEST_RUN, network namespaces)" >&2
	exit 1
fi
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

run_one() {
	local name=$1; shift
	local log=$logdir/$name.log start=$SECONDS rc
	mkdir -p "$(dirname "$log")"
	"$@" >"$log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		printf 'PASS  %-40s %4ds\n' "$name" $((SECONDS - start))
	else
		failed=$((failed + 1))
		failures+=("$name")
		printf 'FAIL  %-40s %4ds (exit %d)\n' "$name" $((SECONDS - start)) $rc
		sed 's/^/    | /' "$log" | tail -n 60
	fi
}

if [ "$which" = all ] || [ "$which" = unit ]; then
	for t in "$XM_BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		run_one "unit/$(basename "$t")" "$t" --verbose=0 --jobs=2
	done
fi
selftest_dirs=()
case $which in
all|selftest) selftest_dirs=(selftests) ;;
vm) selftest_dirs=(selftests selftests/vm) ;;
esac
for d in "${selftest_dirs[@]}"; do
	for t in "$top"/tests/$d/test_*.sh; do
		[ -f "$t" ] || continue
		# In the VM (an emulated CPU, minutes per test) only what another
		# kernel can change: a test that only checks userspace, or that the
		# host already runs in full, says so with a "# xm-vm: skip" line.
		if [ "$which" = vm ] && grep -q '^# xm-vm: skip' "$t"; then
			printf 'SKIP  %-40s (# xm-vm: skip)\n' "${d/selftests/selftest}/$(basename "$t" .sh)"
			continue
		fi
		run_one "${d/selftests/selftest}/$(basename "$t" .sh)" \
			timeout --kill-after=10 "${XM_TEST_TIMEOUT:-600}" bash "$t"
	done
done

echo
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
