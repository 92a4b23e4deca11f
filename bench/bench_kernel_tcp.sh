#!/usr/bin/env bash
# Kernel TCP through a device that carries the demultiplexer with nothing
# bound: iperf3 between two namespaces over veth, with no XDP program and
# with xdpmux attached by the CLI on the receiving device. Target for
# kernel_tcp_passthrough (--mode auto vs no program): ratio >= 0.95.
#
# The machine is shared, so throughput drifts by 2-3x within a minute.
# Every configuration is therefore measured in short runs, interleaved round
# by round (none, auto, native, generic, then auto, native, generic, none,
# ...: each round starts one later), and the median of each is recorded:
# drift lands on all of them alike. Nine rounds of 2 s: a single run moves
# by 15% or more either way here, whatever the configuration (pinning both
# iperf3 ends with -A did not narrow it), so with five rounds of 3 s two
# medians of the same program and mode (auto and generic, on veth) once
# came out 13.2 and 17.1 Gbit/s, and the target's 5% was inside the noise.
#
# Recorded: kernel_tcp_passthrough (auto), _native and _generic (the CLI's
# explicit modes, for information). The full run adds the XDP_PASS-only
# program in both modes (kernel_tcp_pass_only_native / _generic): what XDP on
# veth costs by itself, whatever the program does. That comparison is what
# the CLI's `--mode auto` choice for veth rests on.
#
# XM_BENCH_TCP_MATRIX=1 adds a one-off matrix to the log (not recorded):
# plain (SEC "xdp", no frags) copies of both programs, and the demultiplexer
# on the sender's device, which sees only the ACKs.
. "$(dirname "$0")/lib.sh"

ns_tx=xm-b-tcp-a ns_rx=xm-b-tcp-b dev_tx=xmbt0a dev_rx=xmbt0b
secs=$(bench_pick 2 2)
rounds=$(bench_pick 9 2)

# Configurations: LABEL SIDE MODE [OBJECT SECTION]; SIDE none|rx|tx.
# Without OBJECT the demultiplexer is attached by the CLI.
mux=$XM_BUILD/bpf/xdpmux.bpf.o pass=$XM_BUILD/bpf/pass_only.bpf.o
configs=(
	"none none -"
	"auto rx auto"
	"native rx native"
	"generic rx generic"
)
if ! bench_quick; then
	configs+=(
		"pass_only_native rx native $pass xdp.frags"
		"pass_only_generic rx generic $pass xdp.frags"
	)
fi
if [ "${XM_BENCH_TCP_MATRIX:-0}" = 1 ]; then
	objdir=$XM_BUILD/bench-obj
	mkdir -p "$objdir"
	# Plain copies: the same code under SEC("xdp"), i.e. not frags-aware.
	for p in xdpmux pass_only; do
		sed 's/SEC("xdp.frags")/SEC("xdp")/' "$XM_TOP/bpf/$p.bpf.c" >"$objdir/${p}_plain.bpf.c"
		clang -target bpf -O2 -g -D__bpf__ -Wall -Werror -D__TARGET_ARCH_x86 \
			-I"$XM_TOP/vmlinux" -I"$XM_TOP/include" \
			-c "$objdir/${p}_plain.bpf.c" -o "$objdir/${p}_plain.bpf.o" ||
			xm_fail "clang ${p}_plain.bpf.c"
	done
	configs+=(
		"mux_plain_native rx native $objdir/xdpmux_plain.bpf.o xdp"
		"mux_plain_generic rx generic $objdir/xdpmux_plain.bpf.o xdp"
		"pass_plain_native rx native $objdir/pass_only_plain.bpf.o xdp"
		"pass_plain_generic rx generic $objdir/pass_only_plain.bpf.o xdp"
		"mux_native_txside tx native $mux xdp.frags"
		"mux_generic_txside tx generic $mux xdp.frags"
	)
fi

xm_netns_pair "$ns_tx" "$ns_rx" "$dev_tx" "$dev_rx" 201
xm_in "$ns_rx" iperf3 -s -p 5201 >/dev/null 2>&1 &
xm_wait_port "$ns_rx" tcp 5201
on_exit_detach() {
	bench_xdp_detach "$ns_rx" "$dev_rx"
	bench_xdp_detach "$ns_tx" "$dev_tx"
}
xm_on_exit on_exit_detach

# measure LABEL SIDE MODE [OBJECT SECTION]: one iperf run with that
# configuration attached; prints Gbit/s.
measure() {
	local label=$1 side=$2 mode=$3 obj=${4:-} sec=${5:-} ns dev how=none gbps

	case $side in
	rx) ns=$ns_rx dev=$dev_rx ;;
	tx) ns=$ns_tx dev=$dev_tx ;;
	esac
	if [ "$side" != none ]; then
		# shellcheck disable=SC2086 # OBJECT SECTION are optional words
		how=$(bench_xdp_attach "$ns" "$dev" "$mode" $obj $sec) || exit 1
		how+=" on $side"
	fi
	gbps=$(bench_iperf_tcp "$ns_tx" "$XM_B4" "$secs") || exit 1
	[ "$side" != none ] && { bench_xdp_detach "$ns" "$dev" || exit 1; }
	printf '  %-20s %-42s %8s Gbit/s\n' "$label" "($how)" "$gbps" >&2
	echo "$gbps"
}

xm_step "warm-up"
bench_iperf_tcp "$ns_tx" "$XM_B4" 1 >/dev/null || exit 1

declare -A samples
xm_step "${#configs[@]} configurations, $rounds interleaved round(s) of $secs s each"
n=${#configs[@]}
for r in $(seq "$rounds"); do
	echo "round $r" >&2
	# Each round starts one configuration later, so none always runs first.
	for i in $(seq 0 $((n - 1))); do
		c=${configs[$(((i + r - 1) % n))]}
		# shellcheck disable=SC2086 # a configuration is a word list
		set -- $c
		v=$(measure "$@") || exit 1
		samples[$1]+=" $v"
	done
done

xm_step "medians (Gbit/s, over $rounds runs)"
med() {
	# shellcheck disable=SC2086
	bench_median ${samples[$1]}
}
for c in "${configs[@]}"; do
	# shellcheck disable=SC2086 # a configuration is a word list
	set -- $c
	# shellcheck disable=SC2086
	printf '  %-20s median %8s  min %8s  max %8s\n' "$1" "$(med "$1")" \
		"$(printf '%s\n' ${samples[$1]} | sort -g | head -n1)" \
		"$(printf '%s\n' ${samples[$1]} | sort -g | tail -n1)"
done

base=$(med none)
bench_record kernel_tcp_passthrough Gbit/s "$(med auto)" "$base" no_program true 0.95
bench_record kernel_tcp_passthrough_native Gbit/s "$(med native)" "$base" no_program true
bench_record kernel_tcp_passthrough_generic Gbit/s "$(med generic)" "$base" no_program true
if ! bench_quick; then
	bench_record kernel_tcp_pass_only_native Gbit/s "$(med pass_only_native)" "$base" no_program true
	bench_record kernel_tcp_pass_only_generic Gbit/s "$(med pass_only_generic)" "$base" no_program true
fi
