#!/usr/bin/env bash
# A kernel peer as the kernel makes it (issue 17): its veth at the default
# offloads (tx checksum, TSO, GSO on) sends partial checksums and 64 KB TSO
# superpackets, and xdpmux-echo still echoes everything:
#  - default peer: TCP (16 MiB) and UDP (1 byte, MTU size, 60 KB; IPv4 and
#    IPv6) byte-identical; partial checksums taken (rx_csum_partial) and
#    superpackets taken whole (rx_superframes), no bad checksum counted;
#  - the peer with tx checksum offload off: complete checksums (at most two
#    have the partial form by chance, 1 in 65,535), the same echoes;
#  - real bad checksums (UDP and a TCP SYN, neither complete nor partial,
#    crafted on a packet socket): no answer, dropped and counted;
#  - jumbo frames, MTU 9000 on both ends: an 8000-byte datagram in one frame
#    larger than a UMEM frame, and TCP with the MSS of MTU 9000 announced
#    (the peer's segments arrive at that size), echoed byte-identical;
#  - --no-multibuf (as on a kernel without multi-buffer AF_XDP): a start-up
#    warning that says what the peer must do.
# All of it with the demultiplexer in generic, then native mode (a native
# program on a veth makes the kernel turn the peer's TSO off: no
# superpackets there, but partial checksums and jumbo frames).
# On a kernel without multi-buffer AF_XDP (before 6.6, the VM) lib.sh turns
# the peer's TSO and GSO off, as that warning asks, which xdpmux-echo must
# print unasked; superpackets and jumbo frames are then not checked.
set -u
. "$(dirname "$0")/lib.sh"

ns_a=xm-pdef-a ns_b=xm-pdef-b dev_a=xmpd0a dev_b=xmpd0b
xm_netns_pair "$ns_a" "$ns_b" "$dev_a" "$dev_b" 237
echo_bin=$XM_BUILD/xdpmux-echo
[ -x "$echo_bin" ] || xm_fail "no $echo_bin: build first"
logs=$(mktemp -d /tmp/xm-pdef.XXXXXX)
xm_on_exit "rm -rf '$logs'"
tport=7170 uport=7171
head -c $((16 * 1024 * 1024)) /dev/urandom >"$logs/data"

xm_on_exit "xm_cli $ns_a detach $dev_a"

# start_echo [ARGS...]: xdpmux-echo on both ports, waits until it serves.
start_echo() {
	nsenter --net="/run/netns/$ns_a" "$echo_bin" "$dev_a" --tcp $tport --udp $uport "$@" \
		>"$logs/echo.log" 2>&1 &
	epid=$!
	xm_on_exit "kill $epid 2>/dev/null"
	for _ in $(seq 50); do
		grep -q "serving" "$logs/echo.log" && return 0
		kill -0 $epid 2>/dev/null || xm_fail "xdpmux-echo exited: $(cat "$logs/echo.log")"
		sleep 0.1
	done
	xm_fail "not serving: $(cat "$logs/echo.log")"
}

stop_echo() {
	kill -TERM $epid
	wait $epid || xm_fail "xdpmux-echo exit status: $(tail -5 "$logs/echo.log")"
	grep -q 'none leaked' "$logs/echo.log" || xm_fail "frame accounting: $(tail -3 "$logs/echo.log")"
}

# counter NAME: its latest value in the echo log (SIGUSR1 prints them all).
counter() {
	kill -USR1 $epid
	sleep 0.3
	sed -n "s/^ *stack\.$1 \([0-9]*\)$/\1/p" "$logs/echo.log" | tail -1
}

tcp_echo() {
	local fam=$1 addr=$2 bytes=$3
	head -c "$bytes" "$logs/data" >"$logs/in"
	xm_in "$ns_b" timeout 60 socat -b 65536 -t 5 - "TCP$fam:$addr:$tport" <"$logs/in" \
		>"$logs/out" 2>"$logs/socat.err" || xm_fail "TCP$fam socat: $(cat "$logs/socat.err")"
	cmp -s "$logs/in" "$logs/out" ||
		xm_fail "TCP$fam $bytes bytes: echo differs ($(stat -c %s "$logs/out") bytes back)"
	echo "  TCP IPv$fam $bytes bytes: echoed byte-identical"
}

udp_echo() {
	local fam=$1 addr=$2 size=$3 try
	head -c "$size" /dev/urandom >"$logs/uin"
	for try in 1 2 3; do
		xm_in "$ns_b" socat -b 65536 -t 2 - "UDP$fam:$addr:$uport" <"$logs/uin" >"$logs/uout" 2>/dev/null
		[ -s "$logs/uout" ] && break
	done
	cmp -s "$logs/uin" "$logs/uout" || xm_fail "UDP IPv$fam $size bytes: no or wrong echo"
	echo "  UDP IPv$fam $size bytes: echoed byte-identical"
}

all_echoes() {
	local mtu=$1
	tcp_echo 4 "$XM_A4" $((16 * 1024 * 1024))
	tcp_echo 6 "[$XM_A6]" $((4 * 1024 * 1024))
	udp_echo 4 "$XM_A4" 1
	udp_echo 4 "$XM_A4" $((mtu - 28))
	udp_echo 4 "$XM_A4" 60000
	udp_echo 6 "[$XM_A6]" 1
	udp_echo 6 "[$XM_A6]" $((mtu - 48))
	udp_echo 6 "[$XM_A6]" 60000
}

sg=1 offloads="tx-checksumming tcp-segmentation-offload generic-segmentation-offload"
xm_xsk_sg || sg=0 offloads=tx-checksumming
xm_step "the peer's veth is at the kernel's defaults ($offloads)"
feat=$(xm_in "$ns_b" ethtool -k "$dev_b")
for f in $offloads; do
	echo "$feat" | grep -q "^$f: on" || xm_fail "$dev_b: $f is not on: $(echo "$feat" | grep "^$f")"
done

# run_mode MODE: everything below with the program attached in MODE.
run_mode() {
	local mode=$1 partial super bad tcpbad0 super0 mac_a mac_b n
	xm_step "[$mode] default peer: TCP and UDP echoes"
	xm_cli "$ns_a" attach "$dev_a" --mode "$mode" >/dev/null || xm_fail "attach $dev_a --mode $mode"
	start_echo
	if [ $sg = 0 ]; then
		grep -q "warning:.*tso off gso off" "$logs/echo.log" ||
			xm_fail "no start-up warning without multi-buffer AF_XDP: $(cat "$logs/echo.log")"
	fi
	all_echoes 1500
	partial=$(counter rx_csum_partial) super=$(counter rx_superframes) bad=$(counter rx_bad_l4_csum)
	echo "  rx_csum_partial $partial rx_superframes $super rx_bad_l4_csum $bad"
	[ "${partial:-0}" -gt 0 ] || xm_fail "no partial checksum counted"
	# A native XDP program on a veth makes the kernel turn its peer's TSO off.
	[ $sg = 0 ] || [ "$mode" = native ] || [ "${super:-0}" -gt 0 ] ||
		xm_fail "no superpacket taken whole"
	xm_expect_eq "$bad" 0 "bad L4 checksums from a default peer"

	xm_step "[$mode] peer with tx checksum offload off: complete checksums"
	xm_in "$ns_b" ethtool -K "$dev_b" tx off >/dev/null || xm_fail "ethtool -K $dev_b tx off"
	# What the peer built before keeps its partial checksum when it is sent
	# or resent later (a FIN retransmitted to a slow closer): wait until no
	# connection of the peer has anything left to send (at most ~10 s).
	for _ in $(seq 100); do
		[ -z "$(xm_in "$ns_b" ss -Htn state syn-sent state syn-recv state established \
			state fin-wait-1 state close-wait state last-ack state closing)" ] && break
		sleep 0.1
	done
	sleep 1
	partial=$(counter rx_csum_partial)
	tcp_echo 4 "$XM_A4" $((4 * 1024 * 1024))
	udp_echo 6 "[$XM_A6]" 1000
	# A complete checksum has the partial form by chance once in 65,535
	# frames (the form is tested first, xm_l4_csum_verify): about 0.05
	# expected here, where the default peer gave thousands.
	n=$(( $(counter rx_csum_partial) - partial ))
	[ "$n" -le 2 ] || xm_fail "partial checksums with tx off: $n"
	xm_in "$ns_b" ethtool -K "$dev_b" tx on >/dev/null || xm_fail "ethtool -K $dev_b tx on"
	[ $sg = 0 ] || xm_in "$ns_b" ethtool -K "$dev_b" tso on gso on >/dev/null ||
		xm_fail "ethtool -K $dev_b tso on gso on"

	xm_step "[$mode] real bad checksums: dropped and counted"
	mac_a=$(ip -n "$ns_a" -j link show "$dev_a" | jq -r '.[0].address')
	mac_b=$(ip -n "$ns_b" -j link show "$dev_b" | jq -r '.[0].address')
	tcpbad0=$(counter tcp_bad_csum)
	xm_in "$ns_b" python3 - "$dev_b" "$mac_a" "$mac_b" "$XM_B4" "$XM_A4" $uport $tport <<'EOF' ||
import socket, struct, sys
dev, dmac, smac, src, dst, uport, tport = sys.argv[1:8]
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def frame(proto, l4):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0x4000, 64, proto, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = bytes.fromhex(dmac.replace(":", "")) + bytes.fromhex(smac.replace(":", "")) + b"\x08\x00"
    return eth + ip + l4
pseudo = lambda proto, n: socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, proto, n)
pay = b"bad checksum"
udp = struct.pack("!HHHH", 40001, int(uport), 8 + len(pay), 0) + pay
good = csum(pseudo(17, len(udp)) + udp)
partial = ~csum(pseudo(17, len(udp))) & 0xffff
bad = next(v for v in (good ^ 0x0100, good ^ 0x0200) if v not in (0, partial))
udp = udp[:6] + struct.pack("!H", bad) + udp[8:]
tcp = struct.pack("!HHIIBBHHH", 40002, int(tport), 1000, 0, 5 << 4, 0x02, 65535, 0, 0)
good = csum(pseudo(6, len(tcp)) + tcp)
partial = ~csum(pseudo(6, len(tcp))) & 0xffff
bad = next(v for v in (good ^ 0x0100, good ^ 0x0200) if v != partial)
tcp = tcp[:16] + struct.pack("!H", bad) + tcp[18:]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
s.send(frame(17, udp))
s.send(frame(6, tcp))
EOF
		xm_fail "crafting bad checksums"
	sleep 0.5
	xm_expect_eq "$(counter rx_bad_l4_csum)" 2 "bad L4 checksums counted"
	xm_expect_eq "$(counter tcp_bad_csum)" $((tcpbad0 + 1)) "bad TCP checksums counted"
	stop_echo

	if [ $sg = 0 ]; then
		echo "  $(uname -r): no multi-buffer AF_XDP, no jumbo frames: skipped"
	else
		xm_step "[$mode] jumbo frames: MTU 9000 on both ends"
		ip -n "$ns_a" link set "$dev_a" mtu 9000 && ip -n "$ns_b" link set "$dev_b" mtu 9000 ||
			xm_fail "mtu 9000"
		start_echo
		super0=$(counter rx_superframes)
		udp_echo 4 "$XM_A4" 8000
		udp_echo 6 "[$XM_A6]" 8000
		[ "$(counter rx_superframes)" -ge $((super0 + 2)) ] || xm_fail "jumbo datagrams not taken whole"
		super0=$(counter rx_superframes)
		tcp_echo 4 "$XM_A4" $((4 * 1024 * 1024))
		# The stack sends at most 3826-byte frames (one UMEM frame) but
		# announces the MSS of MTU 9000, so the peer sends 9000-byte
		# segments: with no TSO (native mode) about 470 for 4 MiB, none
		# with the MSS of the send MTU. (Generic mode: 64 KB superpackets.)
		super=$(counter rx_superframes)
		echo "  TCP: $((super - super0)) frames above the send MTU"
		[ "$mode" = generic ] || [ $((super - super0)) -ge 200 ] ||
			xm_fail "the peer did not send jumbo TCP segments"
		stop_echo
		ip -n "$ns_a" link set "$dev_a" mtu 1500 && ip -n "$ns_b" link set "$dev_b" mtu 1500 ||
			xm_fail "mtu 1500"
	fi

	xm_step "[$mode] --no-multibuf: the start-up warning says what the peer must do"
	start_echo --no-multibuf
	grep "warning:" "$logs/echo.log"
	grep -q "warning:.*tso off gso off" "$logs/echo.log" || xm_fail "no warning: $(cat "$logs/echo.log")"
	stop_echo
	xm_cli "$ns_a" detach "$dev_a" >/dev/null || xm_fail "detach $dev_a"
}

run_mode generic
run_mode native
echo "PASS"
