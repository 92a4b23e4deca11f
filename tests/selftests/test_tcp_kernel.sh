#!/usr/bin/env bash
# xdpmux TCP against the kernel's TCP in the peer namespace, IPv4 and IPv6:
#  - kernel client (socat) -> xdpmux-perf echo server: 8 MB sent, the kernel
#    half-closes, the echo comes back byte-identical, xdpmux half-closes;
#  - xdpmux-perf client -> kernel echo server (socat + cat): the same the
#    other way round;
#  - both again with a tc cls_bpf program dropping 3% of the peer's frames
#    in each direction;
#  - connection refused (ECONNREFUSED), reset by peer (ECONNRESET),
#    keepalive timeout (ETIMEDOUT) when the peer vanishes;
#  - every UMEM frame accounted for at exit.
set -u
. "$(dirname "$0")/lib.sh"

ns_a=xm-t-kern-a ns_b=xm-t-kern-b dev_a=xmtk0a dev_b=xmtk0b
xm_netns_pair "$ns_a" "$ns_b" "$dev_a" "$dev_b" 61
# The kernel leaves TCP checksums partial on veth (the NIC would finish
# them); AF_XDP sees the raw frame. Make the peer's veth finish them.
xm_in "$ns_b" ethtool -K "$dev_b" tx off >/dev/null || xm_fail "ethtool -K $dev_b tx off"
logs=$(mktemp -d /tmp/xm-t-kern.XXXXXX)
xm_on_exit "rm -rf '$logs'"
perf=$XM_BUILD/xdpmux-perf
[ -x "$perf" ] || xm_fail "no $perf: build first"
size=$((8 * 1024 * 1024))
head -c $size /dev/urandom >"$logs/data"

cli() { xm_cli "$ns_a" "$@"; }
perf_a() { nsenter --net="/run/netns/$ns_a" "$perf" "$dev_a" "$@"; }

xm_step "attach xdpmux to $dev_a"
cli attach "$dev_a" --mode generic >/dev/null || xm_fail "attach $dev_a"

# loss PCT: a tc cls_bpf program (tcp_loss.bpf.c) on the peer's veth
# dropping PCT percent of the frames in both directions.
loss() {
	local obj=$logs/loss$1.o
	xm_in "$ns_b" tc qdisc del dev "$dev_b" clsact 2>/dev/null
	[ "$1" = 0 ] && return 0
	clang -O2 -target bpf -I/usr/include/$(gcc -print-multiarch) -DTHRESH="$(( $1 * 42949672 ))U" \
		-c "$(dirname "$0")/tcp_loss.bpf.c" -o "$obj" || xm_fail "compile tcp_loss.bpf.c"
	xm_in "$ns_b" tc qdisc add dev "$dev_b" clsact || xm_fail "tc qdisc clsact"
	for dir in ingress egress; do
		xm_in "$ns_b" tc filter add dev "$dev_b" $dir bpf da obj "$obj" sec tc ||
			xm_fail "tc filter $dir bpf loss"
	done
}

# kernel_to_xdpmux FAM ADDR PORT: socat sends the file and reads the echo.
kernel_to_xdpmux() {
	local fam=$1 addr=$2 port=$3
	perf_a server "$port" --echo --once >"$logs/srv.log" 2>&1 &
	local pid=$!
	sleep 0.5
	xm_in "$ns_b" timeout 120 socat -b 65536 -t 30 - "TCP$fam:$addr:$port" \
		<"$logs/data" >"$logs/back" 2>"$logs/socat.err" ||
		{ kill $pid; xm_fail "IPv$fam kernel client: $(cat "$logs/socat.err") / $(cat "$logs/srv.log")"; }
	wait $pid || xm_fail "IPv$fam xdpmux server: $(cat "$logs/srv.log")"
	cmp -s "$logs/data" "$logs/back" ||
		xm_fail "IPv$fam kernel->xdpmux: echo differs ($(stat -c %s "$logs/back") bytes back; server: $(cat "$logs/srv.log"); socat: $(cat "$logs/socat.err"))"
	grep -q "none leaked" "$logs/srv.log" || xm_fail "server frames: $(cat "$logs/srv.log")"
	echo "  IPv$fam kernel client -> xdpmux server: $size bytes echoed byte-identical, half-closed"
}

# xdpmux_to_kernel FAM ADDR PORT: the kernel echoes with socat + cat.
xdpmux_to_kernel() {
	local fam=$1 addr=$2 port=$3
	xm_in "$ns_b" socat -b 65536 "TCP6-LISTEN:$port,reuseaddr,ipv6only=0" EXEC:cat &
	local kpid=$!
	xm_wait_port "$ns_b" tcp "$port"
	perf_a client "$addr" "$port" --echo --bytes $size >"$logs/cli.log" 2>&1 ||
		{ kill $kpid; xm_fail "IPv$fam xdpmux client: $(cat "$logs/cli.log")"; }
	wait $kpid
	grep -q "none leaked" "$logs/cli.log" || xm_fail "client frames: $(cat "$logs/cli.log")"
	echo "  IPv$fam xdpmux client -> kernel server: $size bytes echoed byte-identical, half-closed"
}

for pct in ${XM_TCP_LOSSES:-0 3}; do
	loss $pct
	xm_step "kernel <-> xdpmux transfers, ${pct}% loss on the peer's veth"
	kernel_to_xdpmux 4 "$XM_A4" 7100
	kernel_to_xdpmux 6 "[$XM_A6]" 7101
	xdpmux_to_kernel 4 "$XM_B4" 7200
	xdpmux_to_kernel 6 "$XM_B6" 7201
done
loss 0

xm_step "connection refused: no listener on the kernel side"
perf_a client "$XM_B4" 7999 >"$logs/ref.log" 2>&1 && xm_fail "connect to a closed port succeeded"
grep -q "connect: ECONNREFUSED" "$logs/ref.log" || xm_fail "refused: $(cat "$logs/ref.log")"
echo "  connect: ECONNREFUSED"

xm_step "reset by peer: the kernel closes with SO_LINGER 0"
xm_in "$ns_b" python3 -c '
import socket, struct, time
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 7300)); s.listen(1); c, _ = s.accept(); time.sleep(0.5)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()' &
kpid=$!
xm_wait_port "$ns_b" tcp 7300
perf_a client "$XM_B4" 7300 --idle >"$logs/rst.log" 2>&1 && xm_fail "reset went unnoticed"
wait $kpid
grep -q "recv: ECONNRESET" "$logs/rst.log" || xm_fail "reset: $(cat "$logs/rst.log")"
echo "  recv: ECONNRESET"

xm_step "keepalive timeout: the peer vanishes (all its frames dropped)"
xm_in "$ns_b" timeout 30 socat "TCP6-LISTEN:7400,reuseaddr,ipv6only=0" EXEC:"sleep 25" &
kpid=$!
xm_wait_port "$ns_b" tcp 7400
perf_a client "$XM_B4" 7400 --idle --keepalive 2,1,3 >"$logs/ka.log" 2>&1 &
cpid=$!
sleep 4   # idle 2 s: probes answered, the connection stays
kill -0 $cpid 2>/dev/null || xm_fail "keepalive: client ended early: $(cat "$logs/ka.log")"
loss 100
wait $cpid && xm_fail "keepalive timeout went unnoticed"
grep -q "recv: ETIMEDOUT" "$logs/ka.log" || xm_fail "keepalive: $(cat "$logs/ka.log")"
loss 0
kill $kpid 2>/dev/null
echo "  recv: ETIMEDOUT"

cli detach "$dev_a" >/dev/null || xm_fail "detach $dev_a"
echo "PASS"
