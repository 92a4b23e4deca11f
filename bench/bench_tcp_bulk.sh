#!/usr/bin/env bash
# TCP bulk transfer through xdpmux vs the kernel, over one veth pair
# (xdpmux attached --mode generic on the xdpmux side, as in the selftests):
#   tcp_bulk_to_xdpmux    kernel sender (socat from /dev/zero) -> xdpmux-perf
#                         server, the peer's veth with tx checksum offload
#                         off (so no TSO: MTU-sized segments); baseline the
#                         same sender -> kernel socat receiver on the same
#                         device (port not bound, so the kernel gets it).
#   tcp_bulk_to_xdpmux_default_peer  the same with the peer's veth at the
#                         kernel's defaults (tx checksum offload, TSO, GSO
#                         on): partial checksums and 64 KB superpackets,
#                         taken whole by multi-buffer AF_XDP.
#   tcp_bulk_from_xdpmux  xdpmux-perf client -> kernel socat receiver;
#                         baseline kernel socat sender -> the same receiver;
#                         both at the device's defaults, so both send 64 KB
#                         super-segments (xdpmux through its packet socket,
#                         README "TCP segmentation offload"); target 0.8.
#   tcp_bulk_from_xdpmux_gso_off  the same two with TSO and GSO off on the
#                         sender's veth: both hand the kernel GSO skbs that
#                         it cuts into frames of one MSS in software before
#                         the veth (Linux's TCP builds GSO skbs whatever the
#                         device says; xdpmux does as it does).
#   tcp_bulk_from_xdpmux_frames  xdpmux without super-segments
#                         (XDPMUX_TSO=0: one AF_XDP frame per MSS, as a
#                         client of the device daemon or a program without
#                         CAP_NET_RAW sends) against the same GSO-off
#                         kernel sender: the cost per segment of AF_XDP's
#                         copy mode and of the stack.
# Gbit/s: bytes / seconds. The xdpmux figure is xdpmux-perf's own (accept
# or connect to EOF); the kernel one is the sender's wall time until the
# receiver saw EOF, which includes socat's start (a few ms). Medians of the
# rounds. Every transfer is bounded by a timeout: a transfer that fails or
# stalls is reported ("skip: ...") and its measure not recorded.
#
# XM_BULK_PERF=FILE: record the xdpmux sender of the first from_xdpmux round
# with `perf record -g` into FILE (README, "Where a bulk sender's time
# goes"); read it with `perf report -i FILE --no-children`.
. "$(dirname "$0")/lib.sh"

ns_x=xm-h-bulk-x ns_k=xm-h-bulk-k dev_x=xmhb0x dev_k=xmhb0k
mib=$(bench_pick 512 128)
rounds=$(bench_pick 3 1)
bytes=$((mib * 1024 * 1024))
limit=120
perf=$XM_BUILD/xdpmux-perf
[ -x "$perf" ] || xm_fail "no $perf: build first"

xm_netns_pair "$ns_x" "$ns_k" "$dev_x" "$dev_k" 152
logs=$(mktemp -d /tmp/xm-h-bulk.XXXXXX)
xm_on_exit "rm -rf '$logs'"
bench_xdp_attach "$ns_x" "$dev_x" generic >/dev/null
xm_on_exit "bench_xdp_detach $ns_x $dev_x"
X4=$XM_A4 K4=$XM_B4

skip() {
	echo "skip: $*"
}

gbps() {
	awk -v b="$1" -v s="$2" 'BEGIN { if (s <= 0) exit 1; printf "%.3f\n", b * 8 / s / 1e9 }'
}

now() { date +%s.%N; }

# kernel_pair NS_SEND NS_RECV ADDR PORT: socat /dev/zero -> socat /dev/null;
# prints Gbit/s. The sender reads /dev/zero itself (readbytes), no pipe
# and no second process: the strongest kernel sender socat makes, since
# xdpmux-perf, its rival, makes its stream in-process.
kernel_pair() {
	local ss=$1 sr=$2 addr=$3 port=$4 t0 t1 rpid
	xm_in "$sr" timeout $limit socat -u -b 262144 "TCP4-LISTEN:$port,reuseaddr" OPEN:/dev/null &
	rpid=$!
	xm_wait_port "$sr" tcp "$port"
	t0=$(now)
	xm_in "$ss" timeout $limit socat -u -b 262144 "OPEN:/dev/zero,readbytes=$bytes" "TCP4:$addr:$port" ||
		{ kill $rpid 2>/dev/null; return 1; }
	wait $rpid || return 1
	t1=$(now)
	gbps $bytes "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
}

# to_xdpmux PORT: socat sender in ns_k -> xdpmux-perf server; Gbit/s.
to_xdpmux() {
	local port=$1 spid secs got
	nsenter --net="/run/netns/$ns_x" timeout $limit "$perf" "$dev_x" server "$port" --once --json \
		>"$logs/srv.json" 2>"$logs/srv.err" &
	spid=$!
	for _ in $(seq 50); do grep -q listening "$logs/srv.json" && break; sleep 0.1; done
	xm_in "$ns_k" timeout $limit socat -u -b 262144 "OPEN:/dev/zero,readbytes=$bytes" "TCP4:$X4:$port" \
		2>"$logs/snd.err" || { kill $spid 2>/dev/null; wait $spid; return 1; }
	wait $spid || return 1
	got=$(grep '"mode":"server"' "$logs/srv.json" | jq -r .bytes_received)
	secs=$(grep '"mode":"server"' "$logs/srv.json" | jq -r .seconds)
	[ "$got" = "$bytes" ] || { echo "server got $got of $bytes bytes" >&2; return 1; }
	gbps "$bytes" "$secs"
}

# from_xdpmux PORT [PERF_FILE]: xdpmux-perf client -> socat receiver in
# ns_k; Gbit/s. With PERF_FILE, the client runs under `perf record -g`.
# from_xdpmux PORT [PERF_FILE [ENV...]]: ENV for xdpmux-perf.
from_xdpmux() {
	local port=$1 rpid sent secs rec=() envs=("${@:3}")
	xm_in "$ns_k" timeout $limit socat -u -b 262144 "TCP4-LISTEN:$port,reuseaddr" OPEN:/dev/null &
	rpid=$!
	xm_wait_port "$ns_k" tcp "$port"
	[ -n "${2:-}" ] && rec=(perf record -q -g -o "$2" --)
	nsenter --net="/run/netns/$ns_x" env "${envs[@]}" timeout $limit "${rec[@]}" "$perf" "$dev_x" client "$K4" "$port" \
		--bytes $bytes --json >"$logs/cli.json" 2>"$logs/cli.err" ||
		{ kill $rpid 2>/dev/null; wait $rpid; return 1; }
	wait $rpid
	sent=$(grep '"mode":"client"' "$logs/cli.json" | jq -r .bytes_sent)
	secs=$(grep '"mode":"client"' "$logs/cli.json" | jq -r .seconds)
	[ "$sent" = "$bytes" ] || { echo "client sent $sent of $bytes bytes" >&2; return 1; }
	gbps "$bytes" "$secs"
}

xm_step "$rounds round(s) of $mib MiB each way"
to_x=() to_xd=() to_k=() from_x=() from_k=() from_kn=() from_xn=() from_xf=()
port=9100
for r in $(seq "$rounds"); do
	port=$((port + 10))
	if v=$(kernel_pair "$ns_k" "$ns_x" "$X4" $port); then to_k+=("$v"); else skip "kernel->kernel round $r failed"; fi
	xm_in "$ns_k" ethtool -K "$dev_k" tx off >/dev/null || xm_fail "ethtool -K $dev_k tx off"
	if v=$(to_xdpmux $((port + 1))); then to_x+=("$v"); else
		skip "kernel->xdpmux round $r: $(cat "$logs/srv.err" "$logs/snd.err" 2>/dev/null | tail -3)"; fi
	xm_in "$ns_k" ethtool -K "$dev_k" tx on tso on gso on >/dev/null ||
		xm_fail "ethtool -K $dev_k tx on tso on gso on"
	if v=$(to_xdpmux $((port + 4))); then to_xd+=("$v"); else
		skip "kernel (default offloads)->xdpmux round $r: $(cat "$logs/srv.err" "$logs/snd.err" 2>/dev/null | tail -3)"; fi
	if v=$(kernel_pair "$ns_x" "$ns_k" "$K4" $((port + 2))); then from_k+=("$v"); else skip "kernel->kernel (reverse) round $r failed"; fi
	prof=
	[ "$r" = 1 ] && prof=${XM_BULK_PERF:-}
	if v=$(from_xdpmux $((port + 3)) "$prof"); then from_x+=("$v"); else
		skip "xdpmux->kernel round $r: $(tail -3 "$logs/cli.err" 2>/dev/null)"; fi
	xm_in "$ns_x" ethtool -K "$dev_x" tso off gso off >/dev/null || xm_fail "ethtool -K $dev_x tso off gso off"
	if v=$(kernel_pair "$ns_x" "$ns_k" "$K4" $((port + 5))); then from_kn+=("$v"); else
		skip "kernel (TSO/GSO off)->kernel round $r failed"; fi
	if v=$(from_xdpmux $((port + 6))); then from_xn+=("$v"); else
		skip "xdpmux (GSO off)->kernel round $r: $(tail -3 "$logs/cli.err" 2>/dev/null)"; fi
	if v=$(from_xdpmux $((port + 7)) "" XDPMUX_TSO=0); then from_xf+=("$v"); else
		skip "xdpmux (frames)->kernel round $r: $(tail -3 "$logs/cli.err" 2>/dev/null)"; fi
	xm_in "$ns_x" ethtool -K "$dev_x" tso on gso on >/dev/null || xm_fail "ethtool -K $dev_x tso on gso on"
	echo "round $r: to_xdpmux ${to_x[*]:-}, default peer ${to_xd[*]:-} (kernel ${to_k[*]:-}); from_xdpmux ${from_x[*]:-} (kernel ${from_k[*]:-}); TSO/GSO off: from_xdpmux ${from_xn[*]:-}, frames ${from_xf[*]:-} (kernel ${from_kn[*]:-}) Gbit/s"
done

if [ ${#to_x[@]} -gt 0 ] && [ ${#to_k[@]} -gt 0 ]; then
	bench_record tcp_bulk_to_xdpmux Gbit/s "$(bench_median "${to_x[@]}")" \
		"$(bench_median "${to_k[@]}")" kernel_tcp true
else
	skip "tcp_bulk_to_xdpmux: no successful round"
fi
if [ ${#to_xd[@]} -gt 0 ] && [ ${#to_k[@]} -gt 0 ]; then
	bench_record tcp_bulk_to_xdpmux_default_peer Gbit/s "$(bench_median "${to_xd[@]}")" \
		"$(bench_median "${to_k[@]}")" kernel_tcp true
else
	skip "tcp_bulk_to_xdpmux_default_peer: no successful round"
fi
if [ ${#from_x[@]} -gt 0 ] && [ ${#from_k[@]} -gt 0 ]; then
	bench_record tcp_bulk_from_xdpmux Gbit/s "$(bench_median "${from_x[@]}")" \
		"$(bench_median "${from_k[@]}")" kernel_tcp true 0.8
else
	skip "tcp_bulk_from_xdpmux: no successful round"
fi
if [ ${#from_xn[@]} -gt 0 ] && [ ${#from_kn[@]} -gt 0 ]; then
	bench_record tcp_bulk_from_xdpmux_gso_off Gbit/s "$(bench_median "${from_xn[@]}")" \
		"$(bench_median "${from_kn[@]}")" kernel_tcp_gso_off true
else
	skip "tcp_bulk_from_xdpmux_gso_off: no successful round"
fi
if [ ${#from_xf[@]} -gt 0 ] && [ ${#from_kn[@]} -gt 0 ]; then
	bench_record tcp_bulk_from_xdpmux_frames Gbit/s "$(bench_median "${from_xf[@]}")" \
		"$(bench_median "${from_kn[@]}")" kernel_tcp_gso_off true
else
	skip "tcp_bulk_from_xdpmux_frames: no successful round"
fi
