#!/usr/bin/env bash
# UDP receive rate of 64-byte datagrams (UDP payload) from a fast sender:
# bench/udp_gen.c, an AF_XDP generator (copy mode) in the peer namespace,
# sending as fast as it can. Receivers on the same device, which carries the
# demultiplexer (--mode auto, which the CLI resolves to generic on veth;
# XM_UDP_RX_MODE=native|generic overrides it):
#   xdpmux:  bench/udp_sink.c on an xm_ socket (udp/9000, bound, AF_XDP)
#   kernel:  bench/udp_sink.c on a kernel socket with recvmmsg (udp/9001,
#            unbound, so the program passes it to the kernel)
# Both get a comparable burst buffer for the moments their thread is not
# running (2 shared cores): the kernel socket 8 MiB of SO_RCVBUF (~10k
# datagrams at their truesize), xdpmux 16384 UMEM frames (an 8192-entry rx
# ring). Rounds alternate the two; the medians of datagrams counted per second by
# the receiver are recorded as udp_rx_pps_64 (target: 3x the kernel); the
# sender's rate is printed in the log.
. "$(dirname "$0")/lib.sh"

ns_rx=xm-u-br-a ns_tx=xm-u-br-b dev_rx=xmubr0a dev_tx=xmubr0b
secs=$(bench_pick 3 1)
warmup=0.5
rounds=$(bench_pick 3 1)

for b in "$XM_BUILD/bench/udp_gen" "$XM_BUILD/bench/udp_sink"; do
	[ -x "$b" ] || xm_fail "no $b: build first"
done
xm_netns_pair "$ns_rx" "$ns_tx" "$dev_rx" "$dev_tx" 45
# Later registrations run first: the logs go even if the detach fails.
xm_on_exit "bench_xdp_detach $ns_rx $dev_rx"
logs=$(mktemp -d /tmp/xm-u-bench-rx.XXXXXX)
xm_on_exit "rm -rf '$logs'"
bench_xdp_attach "$ns_rx" "$dev_rx" "${XM_UDP_RX_MODE:-auto}" >/dev/null || exit 1

# measure kernel|xdpmux: one run; prints "receiver_pps sender_pps".
measure() {
	local kind=$1 port sink_pid gen i rx tx
	if [ "$kind" = kernel ]; then
		port=9001
		nsenter --net="/run/netns/$ns_rx" "$XM_BUILD/bench/udp_sink" kernel $port --seconds "$secs" \
			--warmup $warmup >"$logs/sink.log" 2>&1 &
	else
		port=9000
		nsenter --net="/run/netns/$ns_rx" "$XM_BUILD/bench/udp_sink" xdpmux "$dev_rx" $port \
			--seconds "$secs" --warmup $warmup --frames 16384 >"$logs/sink.log" 2>&1 &
	fi
	sink_pid=$!
	for i in $(seq 100); do
		grep -q ready "$logs/sink.log" && break
		kill -0 "$sink_pid" 2>/dev/null || xm_fail "udp_sink $kind: $(cat "$logs/sink.log")"
		sleep 0.1
	done
	gen=$(xm_in "$ns_tx" "$XM_BUILD/bench/udp_gen" "$dev_tx" "$XM_A4" $port --size 64 \
		--seconds "$(awk -v s="$secs" -v w=$warmup 'BEGIN { print s + w + 1 }')" 2>&1) ||
		xm_fail "udp_gen: $gen"
	wait "$sink_pid" || xm_fail "udp_sink $kind: $(cat "$logs/sink.log")"
	rx=$(sed -n 's/.*: \([0-9]*\) pps$/\1/p' "$logs/sink.log")
	tx=$(sed -n 's/.*: \([0-9]*\) pps .*/\1/p' <<<"$gen")
	printf '  %-7s received %10s pps (sender %s pps)\n' "$kind" "$rx" "$tx" >&2
	echo "$rx $tx"
}

xm_step "warm-up"
measure kernel >/dev/null || exit 1

xm_step "$rounds round(s) of $secs s per receiver, alternating"
mux=() kern=() gens=()
for _ in $(seq "$rounds"); do
	read -r rx tx < <(measure xdpmux) || exit 1
	mux+=("$rx") gens+=("$tx")
	read -r rx tx < <(measure kernel) || exit 1
	kern+=("$rx") gens+=("$tx")
done
bench_record udp_rx_pps_64 pps "$(bench_median "${mux[@]}")" \
	"$(bench_median "${kern[@]}")" kernel_recvmmsg true 3
echo "sender (udp_gen) median: $(bench_median "${gens[@]}") pps"
