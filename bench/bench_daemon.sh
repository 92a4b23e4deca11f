#!/usr/bin/env bash
# The device daemon's cost: the same programs served through xdpmuxd (their
# own AF_XDP socket on the daemon's shared UMEM; received frames go back to
# the daemon through a ring, tx frames come back from it after completion)
# against the same programs opening the device alone (their own UMEM and
# rings), alternating round by round on one veth pair:
#   daemon_udp_echo_p99_us      udp_rtt -> xdpmux-echo (lower is better)
#   daemon_udp_echo_req_per_s   the same rounds' request rate
#   daemon_tcp_bulk_to_xdpmux   socat sender -> xdpmux-perf server (Gbit/s)
#   daemon_tcp_bulk_from_xdpmux xdpmux-perf client -> socat receiver
# Baseline: xdpmux_alone. Target: the daemon costs at most 10% (ratio 0.9
# for rates, 1.1 for the round trip). The kernel-relative figures of the
# programs alone are bench_udp_echo.sh's and bench_tcp_bulk.sh's.
. "$(dirname "$0")/lib.sh"

# A client of the daemon has no TCP segmentation offload (no packet
# socket: README, "TCP segmentation offload"), so the programs alone send
# frames of one MTU too: these rows are the daemon's cost per frame, not
# the offload's gain (that is tcp_bulk_from_xdpmux's).
export XDPMUX_TSO=0

ns_x=xm-b-dmn-a ns_k=xm-b-dmn-b dev_x=xmbd0a dev_k=xmbd0b
rounds=$(bench_pick 3 1)
count=$(bench_pick 20000 3000)
mib=$(bench_pick 256 64)
bytes=$((mib << 20))
limit=120
for b in xdpmuxd xdpmux-echo xdpmux-perf bench/udp_rtt; do
	[ -x "$XM_BUILD/$b" ] || xm_fail "no $XM_BUILD/$b: build first"
done
xm_netns_pair "$ns_x" "$ns_k" "$dev_x" "$dev_k" 206
logs=$(mktemp -d /tmp/xm-b-dmn.XXXXXX)
xm_on_exit "rm -rf '$logs'"
xm_on_exit "rm -f /run/xdpmux/$dev_x.sock"
# Attached once, so both modes run the same program in the same mode (the
# daemon only detaches what it attached itself).
bench_xdp_attach "$ns_x" "$dev_x" generic >/dev/null
xm_on_exit "bench_xdp_detach $ns_x $dev_x"

# mode_up MODE: daemon or alone; mode_down.
mode_up() {
	daemon_pid=
	[ "$1" = daemon ] || return 0
	nsenter --net="/run/netns/$ns_x" "$XM_BUILD/xdpmuxd" "$dev_x" >"$logs/xdpmuxd.log" 2>&1 &
	daemon_pid=$!
	for _ in $(seq 100); do
		[ -S "/run/xdpmux/$dev_x.sock" ] && grep -q "serving on" "$logs/xdpmuxd.log" && return 0
		sleep 0.1
	done
	xm_fail "xdpmuxd did not start: $(cat "$logs/xdpmuxd.log")"
}
mode_down() {
	[ -n "$daemon_pid" ] || return 0
	kill -TERM "$daemon_pid"
	wait "$daemon_pid"
}

gbps() { awk -v b="$1" -v s="$2" 'BEGIN { if (s <= 0) exit 1; printf "%.3f\n", b * 8 / s / 1e9 }'; }

# echo_round: prints "req_per_s p99_us" of one round against xdpmux-echo.
echo_round() {
	local pid out
	nsenter --net="/run/netns/$ns_x" "$XM_BUILD/xdpmux-echo" "$dev_x" --udp 7000 \
		>"$logs/echo.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do grep -q serving "$logs/echo.log" && break; sleep 0.1; done
	xm_in "$ns_k" "$XM_BUILD/bench/udp_rtt" "$XM_A4" 7000 --count 500 --warmup 100 \
		--size 64 >/dev/null
	out=$(xm_in "$ns_k" "$XM_BUILD/bench/udp_rtt" "$XM_A4" 7000 --count "$count" \
		--warmup 200 --size 64) || { kill $pid; return 1; }
	kill -TERM $pid
	wait $pid
	echo "  $out" >&2
	awk '{ for (i = 1; i < NF; i++) v[$i] = $(i + 1); print v["req_per_s"], v["p99_us"] }' <<<"$out"
}

# to_round PORT / from_round PORT: Gbit/s of one bulk transfer.
to_round() {
	local pid
	nsenter --net="/run/netns/$ns_x" timeout $limit "$XM_BUILD/xdpmux-perf" "$dev_x" server "$1" \
		--once --json >"$logs/srv.json" 2>"$logs/srv.err" &
	pid=$!
	for _ in $(seq 50); do grep -q listening "$logs/srv.json" && break; sleep 0.1; done
	xm_in "$ns_k" timeout $limit sh -c "head -c $bytes /dev/zero | socat -u -b 262144 - TCP4:$XM_A4:$1" ||
		{ kill $pid; wait $pid; return 1; }
	wait $pid || return 1
	[ "$(grep '"mode":"server"' "$logs/srv.json" | jq -r .bytes_received)" = "$bytes" ] || return 1
	gbps "$bytes" "$(grep '"mode":"server"' "$logs/srv.json" | jq -r .seconds)"
}
from_round() {
	local rpid
	xm_in "$ns_k" timeout $limit socat -u -b 262144 "TCP4-LISTEN:$1,reuseaddr" OPEN:/dev/null &
	rpid=$!
	xm_wait_port "$ns_k" tcp "$1"
	nsenter --net="/run/netns/$ns_x" timeout $limit "$XM_BUILD/xdpmux-perf" "$dev_x" client \
		"$XM_B4" "$1" --bytes $bytes --json >"$logs/cli.json" 2>"$logs/cli.err" ||
		{ kill $rpid; wait $rpid; return 1; }
	wait $rpid
	[ "$(grep '"mode":"client"' "$logs/cli.json" | jq -r .bytes_sent)" = "$bytes" ] || return 1
	gbps "$bytes" "$(grep '"mode":"client"' "$logs/cli.json" | jq -r .seconds)"
}

declare -A rps p99 to from
port=9300
xm_step "$rounds round(s): daemon and alone alternately; $count echoes, $mib MiB each way"
for r in $(seq "$rounds"); do
	for m in daemon alone; do
		port=$((port + 2))
		mode_up $m
		if read -r a b < <(echo_round); then
			rps[$m]+="$a " p99[$m]+="$b "
		else
			echo "skip: echo round $r ($m)"
		fi
		if v=$(to_round $port); then to[$m]+="$v "; else echo "skip: to round $r ($m)"; fi
		if v=$(from_round $((port + 1))); then from[$m]+="$v "; else echo "skip: from round $r ($m)"; fi
		mode_down
		echo "round $r $m: echo ${rps[$m]:-} req/s p99 ${p99[$m]:-} us; to ${to[$m]:-} from ${from[$m]:-} Gbit/s"
	done
done

rec() {   # rec NAME UNIT KEY-ARRAY HIGHER TARGET
	local -n a=$3
	# shellcheck disable=SC2086
	[ -n "${a[daemon]:-}" ] && [ -n "${a[alone]:-}" ] || { echo "skip: $1: no round"; return; }
	# shellcheck disable=SC2086
	bench_record "$1" "$2" "$(bench_median ${a[daemon]})" "$(bench_median ${a[alone]})" \
		xdpmux_alone "$4" "$5"
}
rec daemon_udp_echo_p99_us us p99 false 1.1
rec daemon_udp_echo_req_per_s req/s rps true 0.9
rec daemon_tcp_bulk_to_xdpmux Gbit/s to true 0.9
rec daemon_tcp_bulk_from_xdpmux Gbit/s from true 0.9
