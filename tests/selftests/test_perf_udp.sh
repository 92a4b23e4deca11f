#!/usr/bin/env bash
# xdpmux-perf over UDP, IPv4 and IPv6, with xdpmux attached on both ends of
# the veth pair (the client on the peer's xdpmux stack):
#  - a paced stream (also of fragmented datagrams): the server counted every
#    datagram the client sent, and both JSON reports say so;
#  - an unpaced stream: the reports parse and add up (no more received than
#    sent; loss is allowed);
#  - ping-pong: N round trips complete, none lost, percentiles ordered;
#  - kernel peers: the latency client against kernel UDP echo servers (a
#    python one and socat UDP-RECVFROM ... EXEC:cat), kernel socat clients
#    echoed by the xdpmux-perf server, the stream client refusing a plain
#    echo server, a client with no server giving up;
#  - every UMEM frame accounted for at each exit.
# No timing is asserted: only counts and the shape of the reports.
set -u
. "$(dirname "$0")/lib.sh"

ns_a=xm-perfu-a ns_b=xm-perfu-b dev_a=xmpu0a dev_b=xmpu0b
xm_netns_pair "$ns_a" "$ns_b" "$dev_a" "$dev_b" 171
logs=$(mktemp -d /tmp/xm-perfu.XXXXXX)
xm_on_exit "rm -rf '$logs'"
perf=$XM_BUILD/xdpmux-perf
[ -x "$perf" ] || xm_fail "no $perf: build first"

perf_b() { nsenter --net="/run/netns/$ns_b" "$perf" "$dev_b" "$@"; }

xm_step "attach xdpmux to $dev_a and $dev_b"
xm_cli "$ns_a" attach "$dev_a" --mode generic >/dev/null || xm_fail "attach $dev_a"
xm_cli "$ns_b" attach "$dev_b" --mode generic >/dev/null || xm_fail "attach $dev_b"

# server PORT ARGS...: an xdpmux-perf UDP server in ns_a, logging to
# $logs/srv.log; sets srv_pid once it listens.
server() {
	local port=$1 i; shift
	# nsenter itself in the background (not a shell function), so that
	# srv_pid is the server's pid and SIGTERM reaches it.
	nsenter --net="/run/netns/$ns_a" "$perf" "$dev_a" server "$port" --udp --json "$@" \
		>"$logs/srv.log" 2>&1 &
	srv_pid=$!
	for i in $(seq 100); do
		grep -q "listening on udp/$port" "$logs/srv.log" && return 0
		kill -0 $srv_pid 2>/dev/null || xm_fail "server exited: $(cat "$logs/srv.log")"
		sleep 0.1
	done
	xm_fail "server never listened: $(cat "$logs/srv.log")"
}

# server_end: wait for the server (--once, or after SIGTERM): exit 0, no
# frame leaked.
server_end() {
	wait $srv_pid || xm_fail "server exit status $?: $(cat "$logs/srv.log")"
	grep -q "none leaked" "$logs/srv.log" || xm_fail "server frames: $(cat "$logs/srv.log")"
}

# client LOG ARGS...: the xdpmux-perf UDP client in ns_b; must succeed.
client() {
	local log=$1; shift
	perf_b client "$@" --udp --json >"$log" 2>&1 || xm_fail "client $*: exit $?: $(cat "$log")"
	grep -q "none leaked" "$log" || xm_fail "client frames: $(cat "$log")"
}

# report LOG MODE TEST: the one JSON report of that mode and test in LOG.
report() {
	local line
	line=$(grep "^{\"mode\":\"$2\",\"proto\":\"udp\",\"test\":\"$3\"" "$1")
	[ "$(echo "$line" | grep -c .)" = 1 ] || xm_fail "want one $2 $3 report in: $(cat "$1")"
	echo "$line" | jq -e . >/dev/null || xm_fail "$2 $3 report is not JSON: $line"
	echo "$line"
}

# expect JSON EXPR WHAT: jq EXPR holds on JSON.
expect() {
	echo "$1" | jq -e "$2" >/dev/null || xm_fail "$3: '$2' does not hold for $1"
}

stream_fields='has("size") and has("packets_sent") and has("bytes_sent") and
	has("packets_received") and has("bytes_received") and has("packets_lost") and
	has("loss_percent") and has("seconds") and has("pps") and has("gbit_per_s") and
	has("mbit_per_s") and .result == "ok"'

# paced FAM ADDR SIZE COUNT RATE: the server counts every datagram.
paced() {
	local fam=$1 addr=$2 size=$3 count=$4 rate=$5 c s
	xm_step "IPv$fam paced stream: $count datagrams of $size bytes at $rate/s"
	server 9000 --once
	client "$logs/cli.log" "$addr" 9000 --size "$size" --count "$count" --rate "$rate"
	server_end
	c=$(report "$logs/cli.log" client stream)
	s=$(report "$logs/srv.log" server stream)
	expect "$c" "$stream_fields" "client report fields"
	expect "$c" ".packets_sent == $count and .bytes_sent == $count * $size" "client sent"
	expect "$c" ".packets_received == .packets_sent and .bytes_received == .bytes_sent and
		.packets_lost == 0" "what the server counted, as the client reports it"
	expect "$s" ".packets_received == $count and .bytes_received == $count * $size and
		.result == \"ok\"" "the server's own report"
	echo "  $count sent, $count received: $(echo "$c" | jq -c '{pps, gbit_per_s, received_pps}')"
}

# Rates far below what a sanitizer build on a busy 2-core machine keeps up
# with (about 15000 frames/s), for emulated (TCG) guests: a server that
# falls behind loses frames at its AF_XDP rx ring.
paced 4 "$XM_A4" 512 4000 2000
# 3000 bytes: each datagram three fragments, reassembled by the server's stack.
paced 6 "$XM_A6" 3000 1000 500

xm_step "IPv4 unpaced stream: 20000 datagrams of 64 bytes"
server 9000 --once
client "$logs/cli.log" "$XM_A4" 9000 --count 20000
server_end
c=$(report "$logs/cli.log" client stream)
s=$(report "$logs/srv.log" server stream)
expect "$c" "$stream_fields" "client report fields"
expect "$c" '.packets_sent == 20000 and .packets_received <= .packets_sent and
	.packets_lost == .packets_sent - .packets_received' "unpaced counts"
expect "$s" ".packets_received == $(echo "$c" | jq .packets_received)" "server and client agree"
echo "  $(echo "$c" | jq -c '{packets_received, loss_percent, pps}')"

latency_fields='.result == "ok" and .lost == 0 and .p50_us > 0 and .p50_us <= .p99_us and
	.p99_us <= .max_us and has("requests_per_s") and has("seconds")'

for fam in 4 6; do
	if [ $fam = 4 ]; then addr=$XM_A4; else addr=$XM_A6; fi
	xm_step "IPv$fam ping-pong, xdpmux-perf to xdpmux-perf: 2000 round trips"
	server 9000 --once
	client "$logs/cli.log" "$addr" 9000 --latency --count 2000 --size 100
	server_end
	c=$(report "$logs/cli.log" client latency)
	expect "$c" ".requests == 2000 and .peer == \"xdpmux-perf\" and $latency_fields" \
		"latency report"
	expect "$(report "$logs/srv.log" server latency)" '.packets_received == 2000' \
		"pings the server counted"
	echo "  $(echo "$c" | jq -c '{requests, requests_per_s, p50_us, p99_us, max_us}')"
done

xm_step "kernel UDP echo servers in $ns_a: python on 9100, socat on 9101"
xm_echo_server "$ns_a" udp 9100 &
xm_in "$ns_a" socat UDP6-RECVFROM:9101,fork,ipv6only=0 EXEC:cat &
xm_wait_port "$ns_a" udp 9100
xm_wait_port "$ns_a" udp 9101
for fam in 4 6; do
	if [ $fam = 4 ]; then addr=$XM_A4; else addr=$XM_A6; fi
	xm_step "IPv$fam ping-pong, xdpmux-perf client to the kernel echo servers"
	client "$logs/cli.log" "$addr" 9100 --latency --count 500
	expect "$(report "$logs/cli.log" client latency)" \
		".requests == 500 and .peer == \"echo\" and $latency_fields" "python echo"
	# socat forks a child per datagram: a few round trips are enough.
	client "$logs/cli.log" "$addr" 9101 --latency --count 20
	expect "$(report "$logs/cli.log" client latency)" \
		".requests == 20 and .peer == \"echo\" and $latency_fields" "socat echo"
	echo "  500 round trips with python, 20 with socat"
done

xm_step "the stream test refuses a plain echo server"
perf_b client "$XM_A4" 9100 --udp --count 10 >"$logs/refuse.log" 2>&1 &&
	xm_fail "stream to a kernel echo server succeeded: $(cat "$logs/refuse.log")"
grep -q "plain echo server" "$logs/refuse.log" || xm_fail "refusal: $(cat "$logs/refuse.log")"
grep -q "none leaked" "$logs/refuse.log" || xm_fail "client frames: $(cat "$logs/refuse.log")"

xm_step "a client with no server gives up"
perf_b client "$XM_A4" 9200 --udp --count 10 >"$logs/none.log" 2>&1 &&
	xm_fail "stream with no server succeeded: $(cat "$logs/none.log")"
grep -q "no answer from $XM_A4 port 9200" "$logs/none.log" || xm_fail "no server: $(cat "$logs/none.log")"

xm_step "kernel clients (socat) in $ns_b: the xdpmux-perf server echoes"
server 9000
for fam in 4 6; do
	if [ $fam = 4 ]; then addr=$XM_A4; else addr="[$XM_A6]"; fi
	head -c 1000 /dev/urandom >"$logs/in"
	for try in 1 2 3; do
		xm_in "$ns_b" socat -b 65536 -t 2 - "UDP$fam:$addr:9000" <"$logs/in" >"$logs/out" 2>/dev/null
		[ -s "$logs/out" ] && break
	done
	cmp -s "$logs/in" "$logs/out" || xm_fail "IPv$fam kernel client: echo differs or missing"
	echo "  IPv$fam 1000 bytes echoed byte-identical"
done
kill -TERM $srv_pid
server_end
expect "$(report "$logs/srv.log" server total)" '.echoed >= 2 and .sessions == 0 and
	.result == "ok"' "server totals"

echo "PASS"
