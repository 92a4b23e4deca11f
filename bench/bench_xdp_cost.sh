#!/usr/bin/env bash
# Per-packet cost of the XDP demultiplexer against an XDP_PASS-only program,
# both run through BPF_PROG_TEST_RUN on the same crafted frames by
# $XM_BUILD/bench/xdp_cost (bench/xdp_cost.c). Target: ratio <= 1.5.
. "$(dirname "$0")/lib.sh"

bin=$XM_BUILD/bench/xdp_cost
[ -x "$bin" ] || xm_fail "$bin is not built (make BUILD=... all)"
repeat=$(bench_pick 1000000 200000)
rounds=$(bench_pick 11 5)

xm_step "xdp_cost --repeat $repeat --rounds $rounds"
out=$("$bin" --repeat "$repeat" --rounds "$rounds") || xm_fail "xdp_cost failed"
echo "case	xdpmux_ns	pass_only_ns	xdpmux_min	pass_only_min"
echo "$out"
while IFS=$'\t' read -r name mux pass _; do
	bench_record "xdp_ns_per_pkt_$name" ns/pkt "$mux" "$pass" xdp_pass_only false 1.5
done <<<"$out"
