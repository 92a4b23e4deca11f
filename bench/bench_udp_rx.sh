#!/usr/bin/env bash
# UDP receive rate of 64-byte datagrams (UDP payload) from a fast sender:
# bench/udp_gen.c in the peer namespace, sending as fast as it can. Receivers on the same device, which carries the
# demultiplexer (XM_UDP_RX_MODE=native|generic|auto, default native):
#   xdpmux:  bench/udp_sink.c on an xm_ socket (udp/9000, bound, AF_XDP)
#   kernel:  bench/udp_sink.c on a kernel socket with recvmmsg (udp/9001,
#            unbound, so the program passes it to the kernel)
#
# Where the work runs: on veth the receive-side kernel work (XDP and the
# AF_XDP copy, or the kernel's UDP receive) runs by default in the softirq of
# the sender's own sendto(), on its CPU, so the receivers cannot be faster
# than the sender: a run that way measures the generator (perf: udp_gen's
# CPU carries veth_poll, the XDP program and __xsk_rcv's copy; udp_sink's
# user time is a few percent). So, by default:
#   - native XDP (XM_UDP_RX_MODE), so veth runs XDP in its NAPI poll without
#     the generic path's per-packet skb work;
#   - the generator sends with --xdp-live (XM_UDP_RX_GEN=live|afxdp): XDP_TX
#     of live frames through BPF_PROG_TEST_RUN, no skb per packet, offering
#     millions of packets per second, more than either receiver takes;
#   - veth's NAPI in its own kernel thread (threaded NAPI), so the receive
#     processing is scheduled apart from the sender.
# The figure is then what each receive path delivers to its application
# under the same overload (what drops is dropped cheaply at veth's ring).
# XM_UDP_RX_PIN=1 (two CPUs or more) also pins the generator to CPU 0
# (XM_UDP_RX_GEN_CPU) and the receiver with the NAPI thread (or, with
# generic XDP, RPS for the backlog) to CPU 1 (XM_UDP_RX_CPU); on this
# shared 2-CPU machine that measured worse for both (the receive CPU is
# shared with other work and one CPU gets ~90k pps either way).
# Each receiver gets a comparable burst
# buffer for the moments it is not running (the machine is shared): the
# kernel socket 8 MiB of SO_RCVBUF (~10k datagrams at their truesize),
# xdpmux 16384 UMEM frames (an 8192-entry rx ring). Rounds alternate the
# two; the medians of datagrams counted per second by the receiver are
# recorded as udp_rx_pps_64 (target: 3x the kernel); the sender's rate is
# printed in the log: when it is not well above both receivers the figure
# measures the sender.
. "$(dirname "$0")/lib.sh"

ns_rx=xm-p-br-a ns_tx=xm-p-br-b dev_rx=xmpbr0a dev_tx=xmpbr0b
secs=$(bench_pick 3 1)
warmup=0.5
rounds=$(bench_pick 3 1)
mode=${XM_UDP_RX_MODE:-native}
gen_cpu=${XM_UDP_RX_GEN_CPU:-0}
rx_cpu=${XM_UDP_RX_CPU:-1}
# live: udp_gen --xdp-live (XDP_TX through BPF_PROG_TEST_RUN live frames,
# no skb per packet; the receiving veth must run native XDP); afxdp: copy-
# mode AF_XDP, one skb per packet, slower than either receiver.
gen_kind=${XM_UDP_RX_GEN:-live}
[ "$mode" = native ] || [ "$gen_kind" = afxdp ] ||
	xm_fail "XM_UDP_RX_GEN=live needs XM_UDP_RX_MODE=native (veth takes XDP_TX frames only from a peer with native XDP)"
gen_args=()
[ "$gen_kind" = live ] && gen_args=(--xdp-live)

for b in "$XM_BUILD/bench/udp_gen" "$XM_BUILD/bench/udp_sink"; do
	[ -x "$b" ] || xm_fail "no $b: build first"
done
xm_netns_pair "$ns_rx" "$ns_tx" "$dev_rx" "$dev_tx" 160
# Later registrations run first: the logs go even if the detach fails.
xm_on_exit "bench_xdp_detach $ns_rx $dev_rx"
logs=$(mktemp -d /tmp/xm-p-bench-rx.XXXXXX)
xm_on_exit "rm -rf '$logs'"
how=$(bench_xdp_attach "$ns_rx" "$dev_rx" "$mode") || exit 1
echo "demultiplexer on $dev_rx: $how"

# The receive processing in a thread of its own, so the scheduler can put
# it on another CPU than the sender: with native XDP, veth's NAPI (XDP, the
# AF_XDP copy, GRO and the kernel stack for XDP_PASS) runs in a kernel
# thread (threaded NAPI) instead of the softirq of the sender's sendto().
napi=
case $how in
*native*|*drv*)
	ip netns exec "$ns_rx" sh -c "echo 1 >/sys/class/net/$dev_rx/threaded" ||
		xm_fail "threaded NAPI on $dev_rx"
	napi=$(pgrep "^napi/$dev_rx-") || xm_fail "no NAPI thread for $dev_rx"
	echo "threaded NAPI on $dev_rx: pid $napi"
	;;
esac
pin=() pin_gen=()
if [ "${XM_UDP_RX_PIN:-0}" = 1 ] && [ "$(nproc)" -ge 2 ]; then
	if [ -n "$napi" ]; then
		for p in $napi; do
			taskset -p -c "$rx_cpu" "$p" >/dev/null || xm_fail "pin NAPI thread $p"
		done
	else
		# No NAPI without native XDP: RPS queues each frame to the
		# receive CPU's backlog, where generic XDP and the stack run.
		ip netns exec "$ns_rx" sh -c \
			"printf %x $((1 << rx_cpu)) >/sys/class/net/$dev_rx/queues/rx-0/rps_cpus" ||
			xm_fail "RPS on $dev_rx"
	fi
	pin_gen=(taskset -c "$gen_cpu") pin=(taskset -c "$rx_cpu")
	echo "generator on CPU $gen_cpu; receivers and $dev_rx's receive processing on CPU $rx_cpu"
fi

# measure kernel|xdpmux: one run; prints "receiver_pps sender_pps".
measure() {
	local kind=$1 port sink_pid gen i rx tx
	if [ "$kind" = kernel ]; then
		port=9001
		nsenter --net="/run/netns/$ns_rx" "${pin[@]}" "$XM_BUILD/bench/udp_sink" kernel $port --seconds "$secs" \
			--warmup $warmup >"$logs/sink.log" 2>&1 &
	else
		port=9000
		nsenter --net="/run/netns/$ns_rx" "${pin[@]}" "$XM_BUILD/bench/udp_sink" xdpmux "$dev_rx" $port \
			--seconds "$secs" --warmup $warmup --frames 16384 >"$logs/sink.log" 2>&1 &
	fi
	sink_pid=$!
	for i in $(seq 100); do
		grep -q ready "$logs/sink.log" && break
		kill -0 "$sink_pid" 2>/dev/null || xm_fail "udp_sink $kind: $(cat "$logs/sink.log")"
		sleep 0.1
	done
	gen=$(xm_in "$ns_tx" "${pin_gen[@]}" "$XM_BUILD/bench/udp_gen" "$dev_tx" "$XM_A4" $port --size 64 "${gen_args[@]}" \
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
