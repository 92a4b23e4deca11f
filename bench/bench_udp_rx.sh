#!/usr/bin/env bash
# UDP receive rate of 64-byte datagrams (UDP payload) from a fast sender:
# bench/udp_gen.c in the peer namespace. Receivers on the same device, which
# carries the demultiplexer (XM_UDP_RX_MODE=native|generic|auto, default
# native):
#   xdpmux:  bench/udp_sink.c on an xm_ socket (udp/9000, bound, AF_XDP)
#   kernel:  bench/udp_sink.c on a kernel socket with recvmmsg (udp/9001,
#            unbound, so the program passes it to the kernel)
#
# Where the work runs. On veth the receive-side kernel work (XDP, the AF_XDP
# copy or the kernel's UDP receive) runs by default in the softirq of the
# sender's own transmit, on its CPU, so a receiver could not be faster than
# the sender. So:
#   - native XDP, so veth runs XDP in its NAPI poll without the generic
#     path's per-packet skb work, and veth's NAPI in its own kernel thread
#     (threaded NAPI);
#   - with two CPUs or more (XM_UDP_RX_PIN=1, the default there), the
#     generator on CPU 0 (XM_UDP_RX_GEN_CPU) and all the receive work, the
#     NAPI thread and the receiving process, on CPU 1 (XM_UDP_RX_CPU): each
#     receiver is measured on one CPU of its own, as on a host whose
#     sender is elsewhere;
#   - the generator sends with --xdp-live (XM_UDP_RX_GEN=live|afxdp): XDP_TX
#     of live frames through BPF_PROG_TEST_RUN, no skb per packet, paced at
#     XM_UDP_RX_RATE frames a second (default 4,000,000: more than either
#     receiver takes here). Unpaced, it offered 6-9 M/s in bursts, and the
#     frames veth dropped at its full ring went back to the generator's page
#     pool under the lock the receiver takes for each frame it frees: 40%
#     of the AF_XDP receiver's CPU was that lock, a cost of the generator
#     (bpf/gen_pace.bpf.c says more).
# The main figure, udp_rx_pps_64 (target 3x), is what each receiver takes
# from that fast sender: the medians of datagrams counted per second, rounds
# alternating. A receiver that does its per-datagram work before it can
# drop (the kernel: the whole UDP receive, then a full socket) takes less
# under such overload than it can at a lower offered rate, so the script
# also offers a range of lower rates to both and records each receiver's
# best as udp_rx_pps_64_peak: the comparison at each one's own best load.
# The log has the sender's rate (when it is not above a receiver's, the
# figure measures the sender) and each receiving process's CPU time per
# datagram (its own share; the NAPI thread's is not in it).
# Each receiver gets a comparable burst buffer: the kernel socket 8 MiB of
# SO_RCVBUF (~10k datagrams at their truesize), xdpmux 16384 UMEM frames
# (an 8192-entry rx ring).
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
rate=${XM_UDP_RX_RATE:-4000000}
[ "$gen_kind" = live ] && gen_args+=(--rate "$rate")
# The lower offered rates of the peak sweep.
sweep=(600000 900000 1300000 2000000 3000000)

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
if [ "${XM_UDP_RX_PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ]; then
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

# measure kernel|xdpmux [RATE]: one run, the sender offering RATE frames
# a second (default: the fast sender's); prints "receiver_pps sender_pps".
measure() {
	local kind=$1 port sink_pid gen i rx tx cpu args=("${gen_args[@]}")
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
	[ -n "${2:-}" ] && args=(--xdp-live --rate "$2")
	for i in $(seq 100); do
		grep -q ready "$logs/sink.log" && break
		kill -0 "$sink_pid" 2>/dev/null || xm_fail "udp_sink $kind: $(cat "$logs/sink.log")"
		sleep 0.1
	done
	gen=$(xm_in "$ns_tx" "${pin_gen[@]}" "$XM_BUILD/bench/udp_gen" "$dev_tx" "$XM_A4" $port --size 64 "${args[@]}" \
		--seconds "$(awk -v s="$secs" -v w=$warmup 'BEGIN { print s + w + 1 }')" 2>&1) ||
		xm_fail "udp_gen: $gen"
	wait "$sink_pid" || xm_fail "udp_sink $kind: $(cat "$logs/sink.log")"
	rx=$(sed -n 's/.*: \([0-9]*\) pps$/\1/p' "$logs/sink.log")
	tx=$(sed -n 's/.*: \([0-9]*\) pps .*/\1/p' <<<"$gen")
	cpu=$(sed -n 's/^cpu \([0-9]*\) ns per datagram$/\1/p' "$logs/sink.log")
	printf '  %-7s received %10s pps (sender %s pps; receiving process %s ns CPU per datagram)\n' \
		"$kind" "$rx" "$tx" "$cpu" >&2
	echo "$rx $tx"
}

xm_step "warm-up"
measure kernel >/dev/null || exit 1

xm_step "$rounds round(s) of $secs s per receiver, alternating, offered $rate pps"
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

# Each receiver's best over the offered rates: the fast sender's rounds
# and one round at each lower rate.
if [ "$gen_kind" = live ]; then
	xm_step "peak: one round per receiver at each of ${sweep[*]} pps"
	for r in "${sweep[@]}"; do
		read -r rx _ < <(measure xdpmux "$r") || exit 1
		mux+=("$rx")
		read -r rx _ < <(measure kernel "$r") || exit 1
		kern+=("$rx")
	done
	max() { printf '%s\n' "$@" | sort -g | tail -1; }
	bench_record udp_rx_pps_64_peak pps "$(max "${mux[@]}")" \
		"$(max "${kern[@]}")" kernel_recvmmsg_peak true
fi
