#!/usr/bin/env bash
# Kernel TCP through a device that carries the demultiplexer with nothing
# bound: iperf3 between two namespaces over veth, first with no XDP program,
# then with xdpmux attached (CLI, --mode auto) on the receiving device.
# Rounds alternate the two so machine noise lands on both; medians are
# recorded. Target: ratio >= 0.95.
#
# Also recorded, for information: native and generic attach of the
# demultiplexer (kernel_tcp_passthrough_native / _generic). The full run
# adds a one-off matrix that the choice of `--mode auto` on veth rests on:
# plain (non-frags) vs frags-aware programs, pass-only vs the demultiplexer,
# native vs generic, on the receiving device vs on the sender's device
# (which sees only the ACKs). Those figures are printed in the log.
. "$(dirname "$0")/lib.sh"

ns_tx=xm-b-tcp-a ns_rx=xm-b-tcp-b dev_tx=xmbt0a dev_rx=xmbt0b
secs=$(bench_pick 10 3)
rounds=$(bench_pick 3 1)

xm_netns_pair "$ns_tx" "$ns_rx" "$dev_tx" "$dev_rx" 201
xm_in "$ns_rx" iperf3 -s -p 5201 >/dev/null 2>&1 &
xm_wait_port "$ns_rx" tcp 5201
on_exit_detach() {
	bench_xdp_detach "$ns_rx" "$dev_rx"
	bench_xdp_detach "$ns_tx" "$dev_tx"
}
xm_on_exit on_exit_detach

# iperf with whatever is attached; NS DEV MODE [OBJ SEC] or "none".
measure() {
	local label=$1; shift
	local how=none gbps

	if [ "$1" != none ]; then
		how=$(bench_xdp_attach "$@") || exit 1
	fi
	gbps=$(bench_iperf_tcp "$ns_tx" "$XM_B4" "$secs") || exit 1
	[ "$1" != none ] && { bench_xdp_detach "$1" "$2" || exit 1; }
	printf '%-34s %-40s %8s Gbit/s\n' "$label" "($how)" "$gbps" >&2
	echo "$gbps"
}

xm_step "warm-up"
bench_iperf_tcp "$ns_tx" "$XM_B4" 1 >/dev/null || exit 1

xm_step "no program vs xdpmux --mode auto on $dev_rx, $rounds round(s) of $secs s"
none=() auto=()
for _ in $(seq "$rounds"); do
	none+=("$(measure "no program" none)") || exit 1
	auto+=("$(measure "xdpmux auto, rx side" "$ns_rx" "$dev_rx" auto)") || exit 1
done
base=$(bench_median "${none[@]}")
bench_record kernel_tcp_passthrough Gbit/s "$(bench_median "${auto[@]}")" "$base" \
	no_program true 0.95

xm_step "native vs generic on $dev_rx"
native=$(measure "xdpmux native, rx side" "$ns_rx" "$dev_rx" native) || exit 1
generic=$(measure "xdpmux generic, rx side" "$ns_rx" "$dev_rx" generic) || exit 1
bench_record kernel_tcp_passthrough_native Gbit/s "$native" "$base" no_program true
bench_record kernel_tcp_passthrough_generic Gbit/s "$generic" "$base" no_program true

bench_quick && exit 0

# The one-off matrix (full run only).
xm_step "matrix: program kind x mode x side, $secs s each (no program: $base Gbit/s)"
objdir=$XM_BUILD/bench-obj
mkdir -p "$objdir"
# A plain (non-frags) copy of the demultiplexer: same code, SEC("xdp").
sed 's/SEC("xdp.frags")/SEC("xdp")/' "$XM_TOP/bpf/xdpmux.bpf.c" >"$objdir/xdpmux_plain.bpf.c"
sed 's/SEC("xdp.frags")/SEC("xdp")/' "$XM_TOP/bpf/pass_only.bpf.c" >"$objdir/pass_plain.bpf.c"
for p in xdpmux_plain pass_plain; do
	clang -target bpf -O2 -g -D__bpf__ -Wall -Werror -D__TARGET_ARCH_x86 \
		-I"$XM_TOP/vmlinux" -I"$XM_TOP/include" \
		-c "$objdir/$p.bpf.c" -o "$objdir/$p.bpf.o" || xm_fail "clang $p.bpf.c"
done
mux=$XM_BUILD/bpf/xdpmux.bpf.o pass=$XM_BUILD/bpf/pass_only.bpf.o
for mode in native generic; do
	measure "pass_only frags $mode, rx side" "$ns_rx" "$dev_rx" "$mode" "$pass" xdp.frags >/dev/null || exit 1
	measure "pass_only plain $mode, rx side" "$ns_rx" "$dev_rx" "$mode" "$objdir/pass_plain.bpf.o" xdp >/dev/null || exit 1
	measure "xdpmux frags $mode, rx side" "$ns_rx" "$dev_rx" "$mode" "$mux" xdp.frags >/dev/null || exit 1
	measure "xdpmux plain $mode, rx side" "$ns_rx" "$dev_rx" "$mode" "$objdir/xdpmux_plain.bpf.o" xdp >/dev/null || exit 1
	measure "xdpmux frags $mode, tx side" "$ns_tx" "$dev_tx" "$mode" "$mux" xdp.frags >/dev/null || exit 1
	measure "xdpmux plain $mode, tx side" "$ns_tx" "$dev_tx" "$mode" "$objdir/xdpmux_plain.bpf.o" xdp >/dev/null || exit 1
done
measure "no program (again)" none >/dev/null || exit 1
