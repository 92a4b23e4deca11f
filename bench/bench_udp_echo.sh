#!/usr/bin/env bash
# UDP echo round trip, one request at a time, from the same kernel client
# (bench/udp_rtt.c) in the peer namespace to two servers on the same
# address: xdpmux-echo (udp/7000, through the demultiplexer attached with
# --mode auto (generic on veth) and AF_XDP copy mode) and a kernel
# UDP echo server (bench/udp_kecho.c, udp/7001). Rounds alternate the two so
# machine noise lands on both; medians are recorded.
#
#   udp_echo_p99_us     p99 round trip (target: below the kernel's, ratio < 1)
#   udp_echo_p50_us     p50 round trip (information)
#   udp_echo_req_per_s  requests per second (information)
#
# xdpmux-echo runs in its default mode: when idle it polls the link for 50
# us (--spin-us) before it sleeps in epoll, so the client's next request,
# sent right after a reply, is served without a wakeup; idle for longer (as
# in the kernel's rounds) it sleeps. The kernel server sleeps in recvfrom:
# the kernel's own busy polling (SO_BUSY_POLL) needs a NAPI id, which veth
# does not give a socket. The full run also records, for information:
#   udp_echo_p99_us_sleep  xdpmux-echo --spin-us 0 (sleeps at once, two
#                          wakeups per round trip as the kernel server)
#   udp_echo_p99_us_spin   xdpmux-echo --spin vs udp_kecho --spin: both
#                          servers poll without ever sleeping, each alone
#                          on the machine during its rounds
. "$(dirname "$0")/lib.sh"

ns_srv=xm-u-be-a ns_cli=xm-u-be-b dev_srv=xmube0a dev_cli=xmube0b
count=$(bench_pick 20000 3000)
rounds=$(bench_pick 3 1)
size=64

for b in "$XM_BUILD/xdpmux-echo" "$XM_BUILD/bench/udp_rtt" "$XM_BUILD/bench/udp_kecho"; do
	[ -x "$b" ] || xm_fail "no $b: build first"
done
xm_netns_pair "$ns_srv" "$ns_cli" "$dev_srv" "$dev_cli" 44
# Later registrations run first: the logs go even if the detach fails.
xm_on_exit "bench_xdp_detach $ns_srv $dev_srv"
logs=$(mktemp -d /tmp/xm-u-bench-echo.XXXXXX)
xm_on_exit "rm -rf '$logs'"

bench_xdp_attach "$ns_srv" "$dev_srv" auto >/dev/null || exit 1
xm_in "$ns_srv" "$XM_BUILD/bench/udp_kecho" 7001 >"$logs/kecho.log" 2>&1 &
xm_wait_port "$ns_srv" udp 7001

# start_kecho PORT [--spin]: a kernel echo server; stop_kecho stops it.
start_kecho() {
	xm_in "$ns_srv" "$XM_BUILD/bench/udp_kecho" "$@" >"$logs/kecho.$1.log" 2>&1 &
	kecho_pid=$!
	xm_wait_port "$ns_srv" udp "$1"
}
stop_kecho() {
	kill "$kecho_pid"
	wait "$kecho_pid" 2>/dev/null
	return 0
}

# start_echo [ARGS...]: xdpmux-echo on udp/7000; waits until it is bound.
start_echo() {
	local i
	nsenter --net="/run/netns/$ns_srv" "$XM_BUILD/xdpmux-echo" "$dev_srv" --udp 7000 "$@" \
		>"$logs/echo.log" 2>&1 &
	echo_pid=$!
	for i in $(seq 100); do
		grep -q serving "$logs/echo.log" && return 0
		kill -0 "$echo_pid" 2>/dev/null || xm_fail "xdpmux-echo: $(cat "$logs/echo.log")"
		sleep 0.1
	done
	xm_fail "xdpmux-echo did not start: $(cat "$logs/echo.log")"
}
stop_echo() {
	kill -TERM "$echo_pid"
	wait "$echo_pid" || xm_fail "xdpmux-echo exit: $(cat "$logs/echo.log")"
	grep -q 'none leaked' "$logs/echo.log" || xm_fail "xdpmux-echo leaked frames: $(cat "$logs/echo.log")"
}

# rtt PORT N: prints "req_per_s p50 p99" of N requests.
rtt() {
	local out
	out=$(xm_in "$ns_cli" "$XM_BUILD/bench/udp_rtt" "$XM_A4" "$1" --count "$2" \
		--warmup 200 --size $size) || xm_fail "udp_rtt to port $1: $out"
	echo "  port $1: $out" >&2
	awk '{ for (i = 1; i < NF; i++) v[$i] = $(i + 1)
	       print v["req_per_s"], v["p50_us"], v["p99_us"] }' <<<"$out"
}

xm_step "warm-up (neighbours resolved, caches warm)"
start_echo
rtt 7000 500 >/dev/null
rtt 7001 500 >/dev/null

xm_step "$rounds round(s) of $count requests of $size bytes, alternating"
mux_rps=() mux_p50=() mux_p99=() k_rps=() k_p50=() k_p99=()
for _ in $(seq "$rounds"); do
	read -r r p50 p99 < <(rtt 7000 "$count") || exit 1
	mux_rps+=("$r") mux_p50+=("$p50") mux_p99+=("$p99")
	read -r r p50 p99 < <(rtt 7001 "$count") || exit 1
	k_rps+=("$r") k_p50+=("$p50") k_p99+=("$p99")
done
stop_echo
cat "$logs/echo.log"

bench_record udp_echo_p99_us us "$(bench_median "${mux_p99[@]}")" \
	"$(bench_median "${k_p99[@]}")" kernel_udp_echo false 1.0
bench_record udp_echo_p50_us us "$(bench_median "${mux_p50[@]}")" \
	"$(bench_median "${k_p50[@]}")" kernel_udp_echo false
bench_record udp_echo_req_per_s req/s "$(bench_median "${mux_rps[@]}")" \
	"$(bench_median "${k_rps[@]}")" kernel_udp_echo true

bench_quick && exit 0

# p99_into PORT ARRAY: a round of $count requests; its p99 onto ARRAY.
p99_into() {
	local -n into=$2
	local out

	out=$(rtt "$1" "$count") || exit 1
	into+=("${out##* }")
}

xm_step "xdpmux-echo --spin-us 0: sleeps at once (information)"
start_echo --spin-us 0
rtt 7000 500 >/dev/null
sleep_p99=() k2_p99=()
for _ in $(seq "$rounds"); do
	p99_into 7000 sleep_p99
	p99_into 7001 k2_p99
done
stop_echo
bench_record udp_echo_p99_us_sleep us "$(bench_median "${sleep_p99[@]}")" \
	"$(bench_median "${k2_p99[@]}")" kernel_udp_echo false

# A server that never sleeps takes a CPU: each runs only in its own rounds.
xm_step "xdpmux-echo --spin vs udp_kecho --spin, each alone (information)"
spin_p99=() k3_p99=()
for _ in $(seq "$rounds"); do
	start_echo --spin
	rtt 7000 500 >/dev/null
	p99_into 7000 spin_p99
	stop_echo
	start_kecho 7002 --spin
	rtt 7002 500 >/dev/null
	p99_into 7002 k3_p99
	stop_kecho
done
bench_record udp_echo_p99_us_spin us "$(bench_median "${spin_p99[@]}")" \
	"$(bench_median "${k3_p99[@]}")" kernel_udp_echo_spin false
