# shellcheck shell=bash
# An impairing wire between two namespaces, for the TCP selftests and
# benchmarks that need loss or reordering on a kernel without sch_netem
# (test_tcp_impair.sh, bench/bench_tcp_loss.sh), or netem on the wire's
# veths where there is one (vm/test_netem_wan.sh, bench/bench_tcp_netem.sh).
# Source it after lib.sh:
#
#   X (NS_X, DEV_X, 198.18.SUBNET.1) <-> [RX  wire: NS_R  RK] <-> K (NS_K,
#   DEV_K, 198.18.SUBNET.2)
#
# On the ingress of each of the wire's two veths a tc program
# (tcp_impair.bpf.c, seeded) drops its share and passes the rest to the
# other veth (bpf_redirect). Frames chosen for delay go to a veth of a delay
# line instead, a process that sends them on to the other side DELAY
# seconds later: frames sent after them overtake them. The delay line
# carries the kernel's metadata (virtio_net_hdr: GSO superpackets, partial
# checksums) with each frame, so it passes a peer's frames at its default
# offloads as it got them.
#
#   impair_wire_setup NS_X NS_R NS_K PREFIX SUBNET DIR
#       the three namespaces and the veths PREFIX{x,rx,rk,k} (PREFIX at
#       most 9 characters), addressed as above (IPv4); the delay lines
#       (veths PREFIX{da,db} towards K, PREFIX{dc,dd} towards X), started
#       with a delay of $IMPAIR_DELAY seconds (default 0.0005); DIR: where
#       the compiled filters go. Sets IMPAIR_X4 IMPAIR_K4, IMPAIR_DEV_X
#       IMPAIR_DEV_K, and IMPAIR_WIRE_DEVS: the wire's veths RX and RK,
#       whose egress (a qdisc there) is towards X and towards K. Cleanup
#       is lib.sh's (the namespaces, their processes).
#   impair_wire SEED PPM [TO_K_DELAY_PPM [TO_X_DELAY_PPM]]
#       (re)place the filters: each drops PPM per million of the frames it
#       sees, and delays the given further share of those going to K or to
#       X (default 0). The same SEED makes the same choices.
#   impair_wire_alive   fail unless the delay lines still run (a frame
#       chosen for delay would be lost otherwise).
#   impair_wire_counts [to_k|to_x]
#       "DROPPED DELAYED FRAMES" of the filters since impair_wire: the
#       filter on the frames towards K, towards X, or both summed.
#
#   impair_kstat NS     the kernel's loss counters in NS (nstat, absolute):
#                       "TcpRetransSegs=V TcpExtTCPTimeouts=V ..."
#   impair_kval "NAME=V ..." NAME   V of such a line (0 when absent)
#   impair_xm_counters LOG   xdpmux's TCP loss counters of a program's exit
#                       log (stack.tcp_*), one per line, indented
#   impair_xstat LOG NAME    one of them: stack.tcp_NAME in LOG (0: absent)
#
# The transfers of test_tcp_impair.sh and vm/test_netem_wan.sh, xdpmux's
# TCP on DEV_X (attached in native mode: generic XDP skips the frames a tc
# program redirected) against the kernel's on K:
#
#   impair_file MIB     a random file of MIB MiB for them to move,
#                       DIR/root/file.bin (readable by all: a server may
#                       drop privileges), its sha256 in IMPAIR_SUM.
#   impair_transfers NAME [lossy]
#       xdpmux -> kernel: curl on K downloads the file from xdpmux-httpd;
#       its sha256 must be the file's. kernel -> xdpmux: tcp_stream -e on
#       K sends as many bytes of the test stream to xdpmux-echo --tcp and
#       checks byte for byte what comes back (what xdpmux received) until
#       xdpmux-echo's FIN. Each receiver must have queued segments out of
#       order (xdpmux's tcp_ooo_segs, the kernel's TcpExtTCPOFOQueue) and,
#       with lossy, each xdpmux program retransmitted; every UMEM frame is
#       accounted for at exit. Prints the loss counters of both ends.
#       $XM_TCP_SEED, when set, is named in failures (to repeat a run).

impair_wire_setup() {
	local p=$4 d
	_iw_ns_x=$1 _iw_ns_r=$2 _iw_ns_k=$3 _iw_dir=$6
	_iw_rx=${p}rx _iw_rk=${p}rk
	_iw_da=${p}da _iw_db=${p}db _iw_dc=${p}dc _iw_dd=${p}dd
	IMPAIR_DEV_X=${p}x IMPAIR_DEV_K=${p}k
	IMPAIR_WIRE_DEVS=("$_iw_rx" "$_iw_rk")
	xm_netns_pair "$_iw_ns_x" "$_iw_ns_r" "$IMPAIR_DEV_X" "$_iw_rx" "$5"
	IMPAIR_X4=$XM_A4 IMPAIR_K4=$XM_B4
	ip -n "$_iw_ns_r" addr flush dev "$_iw_rx"
	ip netns del "$_iw_ns_k" 2>/dev/null
	ip netns add "$_iw_ns_k" || xm_fail "ip netns add $_iw_ns_k"
	_xm_netns+=("$_iw_ns_k")
	xm_own_dev "$IMPAIR_DEV_K"
	ip -n "$_iw_ns_r" link add "$_iw_rk" type veth peer name "$IMPAIR_DEV_K" netns "$_iw_ns_k" &&
	ip -n "$_iw_ns_r" link add "$_iw_da" type veth peer name "$_iw_db" &&
	ip -n "$_iw_ns_r" link add "$_iw_dc" type veth peer name "$_iw_dd" &&
	ip -n "$_iw_ns_k" addr add "$IMPAIR_K4/24" dev "$IMPAIR_DEV_K" &&
	ip -n "$_iw_ns_k" link set lo up && ip -n "$_iw_ns_k" link set "$IMPAIR_DEV_K" up ||
		xm_fail "wire namespace $_iw_ns_r"
	for d in "$_iw_rk" "$_iw_da" "$_iw_db" "$_iw_dc" "$_iw_dd"; do
		ip -n "$_iw_ns_r" link set "$d" up || xm_fail "ip link set $d up"
	done
	# xdpmux's super-segments (README, "TCP segmentation offload") leave
	# its veth cut into MTU frames, as a NIC's TSO would put them on a
	# wire: without TSO on the device the kernel segments them on the way
	# out, so the wire drops and delays frames, not 64 KB bursts, and the
	# stack still sends super-segments (it follows GSO, which stays on).
	xm_in "$_iw_ns_x" ethtool -K "$IMPAIR_DEV_X" tso off >/dev/null ||
		xm_fail "ethtool -K $IMPAIR_DEV_X tso off"
	if ! xm_xsk_sg; then
		xm_in "$_iw_ns_k" ethtool -K "$IMPAIR_DEV_K" tso off gso off >/dev/null ||
			xm_fail "ethtool -K $IMPAIR_DEV_K tso off gso off"
	fi
	_impair_delay_line "$_iw_db" "$_iw_rk" "$_iw_dd" "$_iw_rx" >"$_iw_dir/delay.log" 2>&1 &
	_iw_line=$!
	xm_wait_log $_iw_line "$_iw_dir/delay.log" ready "the wire's delay line"
}

impair_wire_alive() {
	kill -0 "$_iw_line" 2>/dev/null ||
		xm_fail "the wire's delay line has exited: $(cat "$_iw_dir/delay.log")"
}

# The delay lines: what arrives on SRC leaves on DST $IMPAIR_DELAY s later,
# for each SRC DST pair, in one process.
_impair_delay_line() {
	xm_in "$_iw_ns_r" python3 -c '
import collections, select, socket, sys, time
delay = float(sys.argv[1])
SOL_PACKET, PACKET_VNET_HDR = 263, 15
lines = {}
for src, dst in zip(sys.argv[2::2], sys.argv[3::2]):
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    rx.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    rx.bind((src, 0))
    rx.setblocking(False)
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    tx.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    tx.bind((dst, 0))
    lines[rx] = tx
print("ready", flush=True)
q = collections.deque()
while True:
    wait = max(0.0, q[0][0] - time.monotonic()) if q else None
    for rx in select.select(list(lines), [], [], wait)[0]:
        while True:
            try:
                f, addr = rx.recvfrom(1 << 18)
            except BlockingIOError:
                break
            if addr[2] != socket.PACKET_OUTGOING:
                q.append((time.monotonic() + delay, lines[rx], f))
    now = time.monotonic()
    while q and q[0][0] <= now:
        _, tx, f = q.popleft()
        tx.send(f)
' "${IMPAIR_DELAY:-0.0005}" "$@"
}

_impair_ifindex() {
	ip -n "$_iw_ns_r" -j link show dev "$1" | jq .[0].ifindex
}

impair_wire() {
	local seed=$1 ppm=$2 dk=${3:-0} dx=${4:-0} from to dly dppm obj extra
	for from in "$_iw_rx" "$_iw_rk"; do
		if [ "$from" = "$_iw_rx" ]; then
			to=$_iw_rk dly=$_iw_da dppm=$dk
		else
			to=$_iw_rx dly=$_iw_dc dppm=$dx
		fi
		obj=$_iw_dir/wire-$from.o extra=()
		[ "$dppm" != 0 ] &&
			extra=(-DDELAY_IFINDEX="$(_impair_ifindex "$dly")" -DDELAY_PPM="$dppm")
		clang -O2 -g -target bpf -mcpu=v3 -I/usr/include/$(gcc -print-multiarch) \
			-DPPM="$ppm" -DSEED="${seed}ULL" -DFWD="$(_impair_ifindex "$to")" "${extra[@]}" \
			-c "$XM_TOP/tests/selftests/tcp_impair.bpf.c" -o "$obj" ||
			xm_fail "compile tcp_impair.bpf.c"
		xm_in "$_iw_ns_r" tc qdisc del dev "$from" clsact 2>/dev/null
		xm_in "$_iw_ns_r" tc qdisc add dev "$from" clsact &&
		xm_in "$_iw_ns_r" tc filter add dev "$from" ingress bpf da obj "$obj" sec tc ||
			xm_fail "tc filter on $from"
	done
}

impair_wire_counts() {
	local d devs prog map
	case ${1:-} in
	to_k) devs=("$_iw_rx") ;;
	to_x) devs=("$_iw_rk") ;;
	'') devs=("$_iw_rx" "$_iw_rk") ;;
	*) xm_fail "impair_wire_counts: direction '$1'" ;;
	esac
	for d in "${devs[@]}"; do
		prog=$(xm_in "$_iw_ns_r" tc -j filter show dev "$d" ingress |
			jq '.[] | select(.options.prog) | .options.prog.id') &&
		map=$(bpftool prog show id "$prog" -j | jq '.map_ids[0]') &&
		bpftool map dump id "$map" -j |
			jq -r '.[0].formatted.value[".bss"] | add | "\(.chosen) \(.delayed) \(.frames)"' ||
			xm_fail "read the counters of the filter on $d"
	done | awk '{ c += $1; d += $2; f += $3 } END { print c, d, f }'
}

impair_file() {
	_iw_bytes=$(($1 << 20)) _iw_mib=$1
	# A bound on each transfer, only against hangs: at least 0.5 MiB/s.
	_iw_tmo=$((300 + 2 * $1))
	mkdir -p "$_iw_dir/root" && head -c "$_iw_bytes" /dev/urandom >"$_iw_dir/root/file.bin" &&
	chmod a+rx "$_iw_dir" "$_iw_dir/root" && chmod a+r "$_iw_dir/root/file.bin" ||
		xm_fail "cannot write a $1 MiB file in $_iw_dir"
	IMPAIR_SUM=$(sha256sum <"$_iw_dir/root/file.bin" | cut -d' ' -f1)
}

# _impair_start NAME ARGS...: an example program on DEV_X, until it serves.
_impair_start() {
	local name=$1; shift
	[ -x "$XM_BUILD/$name" ] || xm_fail "no $XM_BUILD/$name: build first"
	nsenter --net="/run/netns/$_iw_ns_x" "$XM_BUILD/$name" "$IMPAIR_DEV_X" "$@" \
		>"$_iw_dir/$name.log" 2>&1 &
	_iw_pid=$!
	xm_wait_log $_iw_pid "$_iw_dir/$name.log" serving "$name"
}

# _impair_stop NAME: SIGTERM, a clean exit, every frame accounted for.
_impair_stop() {
	kill -TERM $_iw_pid
	wait $_iw_pid || xm_fail "$1 exit status $?: $(cat "$_iw_dir/$1.log")"
	grep -q "none leaked" "$_iw_dir/$1.log" || xm_fail "$1 frames: $(cat "$_iw_dir/$1.log")"
}

# _impair_counter NAME PROG: stack counter NAME at PROG's exit.
_impair_counter() {
	awk -v n="stack.$1" '$1 == n { v = $2 } END { print v + 0 }' "$_iw_dir/$2.log"
}

# _impair_kstat: "OFO RETRANS", TcpExtTCPOFOQueue and TcpRetransSegs on K.
_impair_kstat() {
	xm_in "$_iw_ns_k" nstat -asz TcpExtTCPOFOQueue TcpRetransSegs |
		awk '$1 == "TcpExtTCPOFOQueue" { o = $2 } $1 == "TcpRetransSegs" { r = $2 }
			END { print o + 0, r + 0 }'
}

# _impair_expect WHAT VALUE: fail unless VALUE > 0.
_impair_expect() {
	[ "$2" -gt 0 ] || xm_fail "$1: none${XM_TCP_SEED:+ (seed $XM_TCP_SEED)}"
}

# _impair_show PROG: xdpmux's loss and reordering counters.
_impair_show() {
	grep -E "stack\.tcp_(segs_out|retrans_segs|rto_fires|fast_recoveries|rack_losses|tlp_probes|dsacks_in|dsack_undos|eifel_undos|ooo_segs) " \
		"$_iw_dir/$1.log" | sed 's/^ *stack\.tcp_//' | tr -s ' ' | tr '\n' ' '
}

impair_transfers() {
	local name=$1 lossy=${2:-} got k0 k1 t0 st seed=${XM_TCP_SEED:+, seed $XM_TCP_SEED}

	xm_step "$name: xdpmux-httpd -> curl, $_iw_mib MiB"
	_impair_start xdpmux-httpd --port 8080 --root "$_iw_dir/root"
	k0=($(_impair_kstat)) t0=$SECONDS
	got=$(xm_in "$_iw_ns_k" timeout "$_iw_tmo" curl -sSf "http://$IMPAIR_X4:8080/file.bin" |
		sha256sum | cut -d' ' -f1)
	st=$?
	k1=($(_impair_kstat))
	_impair_stop xdpmux-httpd
	[ $st = 0 ] || xm_fail "$name: curl | sha256sum exit $st$seed: $(cat "$_iw_dir/xdpmux-httpd.log")"
	xm_expect_eq "$got" "$IMPAIR_SUM" "$name: sha256 of the download$seed"
	echo "  $_iw_mib MiB byte-identical in $((SECONDS - t0)) s"
	echo "  xdpmux-httpd: $(_impair_show xdpmux-httpd)"
	echo "  kernel receiver: $((k1[0] - k0[0])) segments queued out of order"
	[ -z "$lossy" ] || _impair_expect "$name: xdpmux-httpd retransmissions" \
		"$(_impair_counter tcp_retrans_segs xdpmux-httpd)"
	_impair_expect "$name: segments the kernel receiver queued out of order (TcpExtTCPOFOQueue)" \
		$((k1[0] - k0[0]))

	xm_step "$name: tcp_stream -> xdpmux-echo and back, $_iw_mib MiB"
	_impair_start xdpmux-echo --tcp 7000
	k0=($(_impair_kstat)) t0=$SECONDS
	xm_in "$_iw_ns_k" timeout "$_iw_tmo" "$XM_BUILD/tools/tcp_stream" -e "$IMPAIR_X4" 7000 \
		"$_iw_bytes" 2>"$_iw_dir/stream.err"
	st=$?
	k1=($(_impair_kstat))
	_impair_stop xdpmux-echo
	[ $st = 0 ] || xm_fail "$name: kernel -> xdpmux (exit $st$seed): $(cat "$_iw_dir/stream.err");" \
		"echo: $(cat "$_iw_dir/xdpmux-echo.log")"
	echo "  $_iw_mib MiB each way byte-identical in $((SECONDS - t0)) s"
	echo "  xdpmux-echo: $(_impair_show xdpmux-echo)"
	echo "  kernel sender: $((k1[1] - k0[1])) segments retransmitted"
	_impair_expect "$name: segments xdpmux-echo queued out of order" \
		"$(_impair_counter tcp_ooo_segs xdpmux-echo)"
	[ -z "$lossy" ] || _impair_expect "$name: xdpmux-echo retransmissions" \
		"$(_impair_counter tcp_retrans_segs xdpmux-echo)"
}

impair_kstat() {
	xm_in "$1" nstat -asz TcpRetransSegs TcpExtTCPTimeouts TcpExtTCPLossProbes \
		TcpExtTCPSackRecovery TcpExtTCPDSACKUndo TcpExtTCPLossUndo TcpExtTCPSpuriousRTOs \
		TcpExtTCPFullUndo TcpExtTCPPartialUndo 2>/dev/null |
		awk 'NF >= 2 && $1 !~ /^#/ { printf "%s=%s ", $1, $2 }'
}

impair_kval() {
	local v
	v=$(tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p")
	echo "${v:-0}"
}

impair_xm_counters() {
	grep -E "stack\.tcp_(segs_out|tso_sends|tso_segs|retrans_segs|rto_fires|fast_recoveries|rack_losses|tlp_probes|tlp_recoveries|dsacks_in|dsacks_dubious|dsack_undos|frto_undos|eifel_undos) " \
		"$1" | sed 's/^ */    /'
}

impair_xstat() {
	local v
	v=$(awk -v k="stack.tcp_$2" '$1 == k { print $2 }' "$1")
	echo "${v:-0}"
}
