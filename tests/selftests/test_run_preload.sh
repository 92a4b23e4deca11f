#!/usr/bin/env bash
# Unmodified programs from Debian under `xdpmux run`, against kernel peers in
# the other namespace; each transfer is checked end to end, and the device's
# "redirect" counter (xdpmux stats) must grow by at least the transfer's
# packets, so the traffic went through xdpmux and not the kernel:
#  - socat as a TCP server (SYSTEM:cat echo) with tcp_stream -e as the
#    kernel client: the echo is exactly the $XM_RUN_MIB MiB sent;
#  - socat as a TCP client (active open), sending to and receiving from
#    kernel socat: tcp_stream -c checks the bytes;
#  - curl downloading a file from a kernel HTTP server over IPv4 and IPv6
#    (sha256);
#  - iperf3 -s with the kernel iperf3 client: TCP both ways (-R) and UDP,
#    the client's own report;
#  - XDPMUX_DEBUG=1 logs the decisions: a wildcard bind moves, a loopback
#    connect stays with the kernel (and works);
#  - no binding is left once each program has exited.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ns_a=xm-h15run-a ns_b=xm-h15run-b dev_a=xmrun0a dev_b=xmrun0b
xm_netns_pair "$ns_a" "$ns_b" "$dev_a" "$dev_b" 226
xm_in "$ns_b" ethtool -K "$dev_b" tx off >/dev/null || xm_fail "ethtool -K $dev_b tx off"
for tool in socat curl iperf3 jq python3; do
	command -v $tool >/dev/null || xm_fail "no $tool (scripts/install-deps.sh)"
done
stream=$XM_BUILD/tools/tcp_stream
[ -x "$stream" ] || xm_fail "no $stream: build first"
[ -f "$XM_BUILD/libxdpmux-preload.so" ] || xm_fail "no $XM_BUILD/libxdpmux-preload.so: build first"
work=$(mktemp -d /tmp/xm-h15run.XXXXXX)
xm_on_exit "rm -rf '$work'"
mib=${XM_RUN_MIB:-64}
bytes=$((mib << 20))
# A full-sized frame carries at most 1448 bytes of a TCP stream.
min_pkts=$((bytes / 1448))

xm_cli "$ns_a" attach "$dev_a" --mode generic >/dev/null || xm_fail "attach $dev_a"
xm_on_exit "xm_cli $ns_a detach $dev_a"

redirected() {
	xm_cli "$ns_a" stats "$dev_a" -j | jq '.devices[0].counters.redirect.packets'
}
# expect_redirected BEFORE MIN WHAT
expect_redirected() {
	local now; now=$(redirected)
	[ $((now - $1)) -ge "$2" ] ||
		xm_fail "$3: only $((now - $1)) packets redirected to xdpmux, expected >= $2"
	echo "  $3: $((now - $1)) packets through xdpmux"
}
no_bindings_left() {
	local n
	n=$(xm_cli "$ns_a" list "$dev_a" -j | jq '.bindings | length')
	xm_expect_eq "$n" 0 "bindings left after $1 exited"
}
# run_a ARGS...: PROGRAM ARGS under xdpmux run in ns_a.
run_a() { xm_in "$ns_a" "$XM_BUILD/xdpmux" run "$dev_a" -- "$@"; }
# wait_bound PROTO PORT PID LOG: until the program PID (under xdpmux run)
# has its binding, i.e. its server socket moved to xdpmux.
wait_bound() {
	for _ in $(seq 100); do
		[ "$(xm_cli "$ns_a" list "$dev_a" -j | jq --arg p "$1" --argjson n "$2" \
			'[.bindings[] | select(.proto == $p and .port == $n)] | length')" = 1 ] &&
			return 0
		kill -0 "$3" 2>/dev/null || xm_fail "server exited: $(cat "$4")"
		sleep 0.1
	done
	xm_fail "no $1/$2 binding on $dev_a: $(cat "$4")"
}

xm_step "socat TCP server under xdpmux run, kernel echo client ($mib MiB)"
before=$(redirected)
XDPMUX_DEBUG=1 nsenter --net="/run/netns/$ns_a" "$XM_BUILD/xdpmux" run "$dev_a" -- \
	socat TCP-LISTEN:7001,reuseaddr SYSTEM:cat 2>"$work/socat-s.log" &
spid=$!
wait_bound tcp 7001 $spid "$work/socat-s.log"
grep -q "tcp bind 0.0.0.0:7001: xdpmux (wildcard address)" "$work/socat-s.log" ||
	xm_fail "no decision logged: $(cat "$work/socat-s.log")"
xm_in "$ns_b" timeout 120 "$stream" -e "$XM_A4" 7001 $bytes ||
	xm_fail "echo through socat under xdpmux run: $(cat "$work/socat-s.log")"
wait $spid || xm_fail "socat server: $(cat "$work/socat-s.log")"
expect_redirected "$before" $((2 * min_pkts / 2)) "socat server"
no_bindings_left "socat server"

xm_step "socat TCP client under xdpmux run: send and receive $mib MiB (active open)"
xm_in "$ns_b" socat -u TCP-LISTEN:7002,reuseaddr STDOUT 2>"$work/sink.err" |
	"$stream" -c $bytes >"$work/sink.out" 2>&1 &
sink=$!
xm_wait_port "$ns_b" tcp 7002
before=$(redirected)
"$stream" $bytes | XDPMUX_DEBUG=1 run_a socat -u STDIN "TCP:$XM_B4:7002" 2>"$work/socat-c.log" ||
	xm_fail "socat client send: $(cat "$work/socat-c.log")"
wait $sink || xm_fail "kernel sink: $(cat "$work/sink.out" "$work/sink.err")"
grep -q "tcp connect $XM_B4:7002: xdpmux (routed out of the device)" "$work/socat-c.log" ||
	xm_fail "no decision logged: $(cat "$work/socat-c.log")"
# the ACKs of the kernel's side are what comes back to xdpmux
expect_redirected "$before" $((min_pkts / 64)) "socat client send"
"$stream" $bytes | xm_in "$ns_b" socat -u STDIN TCP6-LISTEN:7003,reuseaddr 2>"$work/src.err" &
src=$!
xm_wait_port "$ns_b" tcp 7003
before=$(redirected)
run_a socat -u "TCP:[$XM_B6]:7003" STDOUT 2>"$work/socat-c6.log" | "$stream" -c $bytes ||
	xm_fail "socat client receive over IPv6: $(cat "$work/socat-c6.log" "$work/src.err")"
wait $src
expect_redirected "$before" "$min_pkts" "socat client receive (IPv6)"
no_bindings_left "socat client"

xm_step "curl under xdpmux run downloads from a kernel HTTP server"
mkdir -p "$work/www"
"$stream" $bytes >"$work/www/file.bin"
want=$(sha256sum "$work/www/file.bin" | cut -d' ' -f1)
(cd "$work/www" && exec nsenter --net="/run/netns/$ns_b" python3 -m http.server 8081 --bind :: \
	>"$work/http.log" 2>&1) &
xm_wait_port "$ns_b" tcp 8081
for url in "http://$XM_B4:8081/file.bin" "http://[$XM_B6]:8081/file.bin"; do
	before=$(redirected)
	got=$(run_a curl -sS --max-time 120 "$url" 2>"$work/curl.err" | sha256sum | cut -d' ' -f1)
	xm_expect_eq "$got" "$want" "sha256 of $url via curl under xdpmux run ($(cat "$work/curl.err"))"
	expect_redirected "$before" "$min_pkts" "curl $url"
done
no_bindings_left "curl"

xm_step "iperf3 -s under xdpmux run, kernel iperf3 client: TCP both ways, UDP"
# nsenter and xdpmux exec: $! is iperf3 itself
nsenter --net="/run/netns/$ns_a" "$XM_BUILD/xdpmux" run "$dev_a" -- \
	iperf3 -s -p 5201 >"$work/iperf-s.log" 2>&1 &
ipid=$!
wait_bound tcp 5201 $ipid "$work/iperf-s.log"
for args in "" "-R" "-u -b 100M"; do
	before=$(redirected)
	# shellcheck disable=SC2086 # args are words
	xm_in "$ns_b" timeout 60 iperf3 -c "$XM_A4" -p 5201 -t 2 $args -J >"$work/iperf-c.json" ||
		xm_fail "iperf3 -c $args: $(jq -r .error "$work/iperf-c.json" 2>/dev/null) $(tail -5 "$work/iperf-s.log")"
	recv=$(jq '.end.sum_received.bytes // .end.sum.bytes' "$work/iperf-c.json")
	[ "${recv:-0}" -gt 0 ] || xm_fail "iperf3 -c $args: nothing received"
	echo "  iperf3 $args: $(jq '(.end.sum_received.bits_per_second // .end.sum.bits_per_second) / 1e9 * 100 | floor / 100' "$work/iperf-c.json") Gbit/s, $recv bytes"
	expect_redirected "$before" 100 "iperf3 $args"
done
kill -INT $ipid
wait $ipid
no_bindings_left "iperf3"

xm_step "a loopback connection stays with the kernel"
xm_in "$ns_a" socat -u TCP-LISTEN:7004,bind=127.0.0.1 STDOUT >"$work/lo.out" 2>&1 &
lo=$!
xm_wait_port "$ns_a" tcp 7004
echo "over loopback" | XDPMUX_DEBUG=1 run_a socat -u STDIN TCP:127.0.0.1:7004 2>"$work/lo.log" ||
	xm_fail "loopback client: $(cat "$work/lo.log")"
wait $lo
xm_expect_eq "$(cat "$work/lo.out")" "over loopback" "bytes over loopback"
grep -q "tcp connect 127.0.0.1:7004: kernel" "$work/lo.log" ||
	xm_fail "loopback decision not logged: $(cat "$work/lo.log")"

echo "PASS"
