# shellcheck shell=bash
# Helpers for the device daemon's selftests; source after lib.sh.
#
#   xmd_setup NS_A NS_B DEV_A DEV_B SUBNET
#       the veth pair (lib.sh; the peer at the kernel's default offloads),
#       a log dir ($xmd_logs).
#   xmd_start [ARGS...]   xdpmuxd on DEV_A in NS_A (log $xmd_logs/xdpmuxd.log),
#                         xmd_pid set; waits until it serves.
#   xmd_prog NAME USER PROG ARGS...
#       an example program on DEV_A in NS_A, as USER (root: as is; else
#       setpriv with no capabilities), log $xmd_logs/NAME.log, its pid in
#       xmd_pids[NAME]; waits until it says it serves.
#   xmd_status     xdpmux status DEV_A -j (the daemon's part: .devices[0].daemon)
#   xmd_clients    the number of programs the daemon serves
#   xmd_frames_balance   fail unless the daemon's frames add up to its total,
#                        with no bad return
#   xmd_wait_gone PID SECONDS   fail unless PID exits within SECONDS

declare -A xmd_pids=()

xmd_setup() {
	xmd_ns=$1 xmd_peer=$2 xmd_dev=$3 xmd_peer_dev=$4
	xm_netns_pair "$1" "$2" "$3" "$4" "$5"
	xmd_logs=$(mktemp -d /tmp/xm-daemon.XXXXXX)
	chmod 755 "$xmd_logs"
	# XMD_KEEP_LOGS=1 keeps them, to look at after a failure.
	[ -n "${XMD_KEEP_LOGS:-}" ] || xm_on_exit "rm -rf '$xmd_logs'"
	xm_on_exit "rm -f /run/xdpmux/$xmd_dev.sock"
	for b in xdpmuxd xdpmux xdpmux-echo xdpmux-httpd; do
		[ -x "$XM_BUILD/$b" ] || xm_fail "no $XM_BUILD/$b: build first"
	done
}

xmd_start() {
	local i before
	before=$(grep -c "serving on" "$xmd_logs/xdpmuxd.log" 2>/dev/null)
	# nsenter itself, not the xm_in function: $! must be the daemon.
	nsenter --net="/run/netns/$xmd_ns" "$XM_BUILD/xdpmuxd" "$xmd_dev" "$@" \
		>>"$xmd_logs/xdpmuxd.log" 2>&1 &
	xmd_pid=$!
	for i in $(seq 100); do
		[ "$(grep -c "serving on" "$xmd_logs/xdpmuxd.log")" -gt "${before:-0}" ] &&
			[ -S "/run/xdpmux/$xmd_dev.sock" ] && return 0
		kill -0 "$xmd_pid" 2>/dev/null ||
			xm_fail "xdpmuxd exited: $(cat "$xmd_logs/xdpmuxd.log")"
		sleep 0.1
	done
	xm_fail "xdpmuxd did not start: $(cat "$xmd_logs/xdpmuxd.log")"
}

xmd_prog() {
	local name=$1 user=$2 prog=$3 i
	shift 3
	local run=()
	[ "$user" = root ] ||
		run=(setpriv --reuid="$user" --regid="$(id -gn "$user")" --clear-groups
		     --inh-caps=-all --bounding-set=-all)
	nsenter --net="/run/netns/$xmd_ns" "${run[@]}" "$XM_BUILD/$prog" "$xmd_dev" "$@" \
		>"$xmd_logs/$name.log" 2>&1 &
	xmd_pids[$name]=$!
	for i in $(seq 100); do
		grep -q "serving" "$xmd_logs/$name.log" 2>/dev/null && return 0
		kill -0 "${xmd_pids[$name]}" 2>/dev/null ||
			xm_fail "$name exited: $(cat "$xmd_logs/$name.log")"
		sleep 0.1
	done
	xm_fail "$name did not start: $(cat "$xmd_logs/$name.log")"
}

xmd_status() {
	xm_cli "$xmd_ns" status "$xmd_dev" -j
}

xmd_clients() {
	xmd_status | jq -r '.devices[0].daemon.clients | length'
}

xmd_frames_balance() {
	local s
	s=$(xmd_status) || xm_fail "xdpmux status"
	jq -e '.devices[0].daemon as $d | ($d.frames | add) == $d.queues * $d.frames_per_queue
	       and $d.bad_returns == 0 and $d.frames.kernel >= 0' <<<"$s" >/dev/null ||
		xm_fail "the daemon's frames do not add up: $(jq -c '.devices[0].daemon' <<<"$s")"
}

xmd_wait_gone() {
	local pid=$1 secs=$2 i
	for i in $(seq $((secs * 10))); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	xm_fail "pid $pid still running after $secs s"
}
