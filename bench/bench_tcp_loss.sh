#!/usr/bin/env bash
# TCP through loss and reordering: the time curl (in the client namespace)
# takes to download the same file from xdpmux-httpd and from nginx (one
# worker, the kernel's TCP), both in the server namespace on the same veth,
# under the same impairment, alternated round by round; medians recorded,
# ratio = xdpmux time / kernel time (lower is better; target 1.2):
#   tcp_loss_0.5pct  0.5% of the frames dropped, each way (320 MiB)
#   tcp_loss_3pct    3% dropped, each way (64 MiB)
#   tcp_reorder      1% of the server's frames delayed 0.5 ms (later frames
#                    overtake them), nothing lost (800 MiB)
# Each row's size is chosen so that the kernel's download takes 2-12 s
# here: a shorter one lives through too few losses and timeouts for its
# median to settle (at 3% the 200 ms timeouts and the receiver's 40 ms
# delayed ACKs after a lost ACK are most of the time, and 32 MiB still
# gave ratios of 0.77-1.42 from run to run). Five rounds; in round R both
# servers' downloads meet the same impairment (the wire's filters are
# placed anew with seed SEED+R before each download, so frame k of either
# is dropped or delayed alike). The whole bench takes about 200 s.
# sch_netem and sch_fq are not in this kernel: the impairment is a wire
# namespace between the two ends. On the ingress of each of its two veths
# a tc program (tests/selftests/tcp_impair.bpf.c, seeded) drops its share
# and passes the rest to the other veth (bpf_redirect); for tcp_reorder the
# chosen frames go to a third veth instead, where a delay line (AF_PACKET,
# tests/selftests/impair.sh, shared with test_tcp_impair.sh) sends them on
# 0.5 ms later. The kernel server's veth has TSO, GSO
# and checksum offload off, so that both servers put MTU-sized,
# checksummed frames on the wire. Retransmissions and timeouts of both
# servers are logged: xdpmux's stack counters and the kernel's nstat, over
# the same downloads.
# To look at one case closely: XM_BENCH_LOSS_ROWS=tcp_loss_3pct (the rows
# to run, space separated), XM_BENCH_LOSS_ROUNDS=N and XM_BENCH_LOSS_PCAP=DIR
# (tcpdump of both wire veths per round and server, headers only;
# bench/tcp_trace.py reads them).
. "$(dirname "$0")/lib.sh"
. "$XM_TOP/tests/selftests/impair.sh"

ns_x=xm-b-loss-x ns_r=xm-b-loss-r ns_k=xm-b-loss-k
rounds=${XM_BENCH_LOSS_ROUNDS:-$(bench_pick 5 1)}
seed=${XM_BENCH_SEED:-16}
httpd=$XM_BUILD/xdpmux-httpd
[ -x "$httpd" ] || xm_fail "no $httpd: build first"
command -v curl >/dev/null || bench_skip "curl is not installed"

work=$(mktemp -d /tmp/xm-b-loss.XXXXXX)
xm_on_exit "rm -rf '$work'"
# x (198.18.234.1, server) <-> [rx  r  rk] <-> k (198.18.234.2, client)
impair_wire_setup "$ns_x" "$ns_r" "$ns_k" xmbl0 234 "$work"
X4=$IMPAIR_X4 K4=$IMPAIR_K4 dev_x=$IMPAIR_DEV_X dev_k=$IMPAIR_DEV_K
# The client's checksums are left partial on veth: AF_XDP would see them so.
xm_in "$ns_k" ethtool -K "$dev_k" tx off >/dev/null || xm_fail "ethtool -K $dev_k tx off"
xm_in "$ns_x" ethtool -K "$dev_x" tso off gso off tx off >/dev/null ||
	xm_fail "ethtool -K $dev_x tso off gso off tx off"

mkdir -p "$work/root"
chmod a+rx "$work" "$work/root"
# Native: generic XDP skips frames a tc program redirected (the wire's).
bench_xdp_attach "$ns_x" "$dev_x" native >/dev/null
xm_on_exit "bench_xdp_detach $ns_x $dev_x"
# Both servers with the same congestion control: CUBIC, Linux's default
# and xdpmux's. A host may have another default (BBR, which does not take
# random loss for congestion and keeps cwnd where CUBIC has to cut it); a
# network namespace may only pick an algorithm the host allows, but a
# route may name any: the kernel server reaches the client by one that
# says cubic.
host_cc=$(sysctl -n net.ipv4.tcp_congestion_control)
ip -n "$ns_x" route add "$K4/32" dev "$dev_x" congctl cubic ||
	xm_fail "route to $K4 with congctl cubic in $ns_x"
echo "kernel server: congestion control cubic (host default $host_cc)"
bench_nginx "$ns_x" "$work/nginx" "$work/root" 8081

kstat() { impair_kstat "$ns_x"; }
kval() { impair_kval "$@"; }
# xstat NAME: xdpmux-httpd's stack.tcp_NAME counter at its exit.
xstat() { impair_xstat "$work/httpd.log" "$1"; }

# cap_start FILE-PREFIX / cap_stop: the optional capture around one download.
cap_pids=()
cap_start() {
	local d
	[ -n "${XM_BENCH_LOSS_PCAP:-}" ] || return 0
	mkdir -p "$XM_BENCH_LOSS_PCAP"
	for d in "${IMPAIR_WIRE_DEVS[@]}"; do
		# nsenter execs tcpdump: $! is tcpdump itself, not a subshell.
		nsenter --net="/run/netns/$ns_r" tcpdump -i "$d" -s 128 -U \
			-w "$XM_BENCH_LOSS_PCAP/$1-$d.pcap" tcp 2>/dev/null &
		cap_pids+=($!)
	done
	sleep 0.5
}
cap_stop() {
	local p
	[ ${#cap_pids[@]} -gt 0 ] || return 0
	sleep 0.2
	for p in "${cap_pids[@]}"; do kill -TERM "$p"; wait "$p"; done
	cap_pids=()
}

# file MIB: the file of the row, MIB MiB, in $file with its md5 in $sum.
file() {
	file=file-$1.bin
	head -c $(($1 << 20)) /dev/urandom >"$work/root/$file" && chmod a+r "$work/root/$file" ||
		xm_fail "cannot write a $1 MiB file in $work/root"
	sum=$(md5sum <"$work/root/$file" | cut -d' ' -f1)
}

# get PORT [CAPTURE-NAME]: seconds of one download, or fail (the content is
# checked, as it arrives: md5sum reads curl's output).
get() {
	local out t s
	cap_start "${2:-}"
	out=$( { set -o pipefail; xm_in "$ns_k" timeout 300 curl -s -o - -w '%{stderr}%{http_code} %{time_total}' \
		"http://$X4:$1/$file" 2>&3 | md5sum | cut -d' ' -f1 >"$work/got.md5"; } 3>&1) &&
		s=0 || s=$?
	cap_stop
	[ "$s" = 0 ] || { echo "curl: exit $s: $out" >&2; return 1; }
	t=${out#* }
	[ "${out%% *}" = 200 ] || { echo "curl: HTTP ${out%% *}" >&2; return 1; }
	[ "$(cat "$work/got.md5")" = "$sum" ] || { echo "curl: the file differs" >&2; return 1; }
	echo "$t"
}

skip() {
	echo "skip: $*"
}

# wire_get ARRAY PORT ROUND CAPTURE-NAME: get through a wire placed anew
# with the round's seed; the time goes onto ARRAY, the wire's counts are
# added to wire_counts.
wire_get() {
	local -n times=$1
	local v c i
	impair_wire "$((seed + $3))" "$ppm" "$dppm"
	v=$(get "$2" "$4") || return 1
	times+=("$v")
	c=($(impair_wire_counts))
	for i in 0 1 2; do wire_counts[i]=$((wire_counts[i] + c[i])); done
}

# row NAME PPM DELAY_PPM MIB
row() {
	local name=$1 ppm=$2 dppm=$3 mib=$(bench_pick "$4" 10) x=() k=() r hpid kb ka
	local wire_counts=(0 0 0)
	[ -z "${XM_BENCH_LOSS_ROWS:-}" ] || [[ " $XM_BENCH_LOSS_ROWS " = *" $name "* ]] || return 0
	file "$mib"
	xm_step "$name: $rounds round(s) of a $mib MiB download (drop $ppm ppm each way, delay $dppm ppm, seeds $((seed + 1))-$((seed + rounds)))"
	nsenter --net="/run/netns/$ns_x" "$httpd" "$dev_x" --port 8080 --root "$work/root" \
		>"$work/httpd.log" 2>&1 &
	hpid=$!
	for _ in $(seq 50); do grep -q serving "$work/httpd.log" && break; sleep 0.1; done
	grep -q serving "$work/httpd.log" || xm_fail "xdpmux-httpd: $(cat "$work/httpd.log")"
	kb=$(kstat)
	for r in $(seq "$rounds"); do
		wire_get x 8080 "$r" "$name-$r-xdpmux" || skip "$name xdpmux-httpd round $r"
		wire_get k 8081 "$r" "$name-$r-kernel" || skip "$name nginx round $r"
		echo "round $r: xdpmux-httpd ${x[*]:-} nginx ${k[*]:-} s"
	done
	ka=$(kstat)
	rm -f "$work/root/$file"
	kill -TERM $hpid
	wait $hpid || echo "xdpmux-httpd exit status $?"
	echo "  wire: dropped, delayed, frames: ${wire_counts[*]}"
	echo "  kernel (nginx), $rounds downloads: before $kb"
	echo "                                     after  $ka"
	echo "  xdpmux-httpd, $rounds downloads:"
	impair_xm_counters "$work/httpd.log"
	if [ ${#x[@]} -gt 0 ] && [ ${#k[@]} -gt 0 ]; then
		bench_record "$name" s "$(bench_median "${x[@]}")" "$(bench_median "${k[@]}")" \
			nginx_1_worker false 1.2
	else
		skip "$name: no successful round on both servers"
	fi
	# The counters of the same downloads, both servers (target 1.5):
	# segments retransmitted and retransmission timeouts.
	if [ ${#x[@]} = "$rounds" ] && [ ${#k[@]} = "$rounds" ]; then
		bench_record "${name}_retrans" segs "$(xstat retrans_segs)" \
			"$(($(kval "$ka" TcpRetransSegs) - $(kval "$kb" TcpRetransSegs)))" \
			nginx_1_worker false 1.5
		bench_record "${name}_rtos" timeouts "$(xstat rto_fires)" \
			"$(($(kval "$ka" TcpExtTCPTimeouts) - $(kval "$kb" TcpExtTCPTimeouts)))" \
			nginx_1_worker false 1.5
	fi
}

row tcp_loss_0.5pct 5000 0 320
row tcp_loss_3pct 30000 0 64
row tcp_reorder 0 10000 800
