#!/usr/bin/env bash
# xdpmux-echo against kernel UDP clients in the peer namespace: datagrams of
# 1 byte, MTU size and 60 KB (fragmented both ways: the kernel client
# fragments, xdpmux reassembles, echoes and fragments, the kernel reassembles)
# come back byte-identical over IPv4 and IPv6, with the demultiplexer in
# generic and then native mode; a kernel UDP server on another
# port of the same address keeps working while xdpmux-echo runs; on SIGTERM
# xdpmux-echo prints its counters, removes its binding and reports every
# UMEM frame accounted for.
set -u
. "$(dirname "$0")/lib.sh"

ns_a=xm-u-echo-a ns_b=xm-u-echo-b dev_a=xmue0a dev_b=xmue0b
xm_netns_pair "$ns_a" "$ns_b" "$dev_a" "$dev_b" 41
logs=$(mktemp -d /tmp/xm-u-echo.XXXXXX)
xm_on_exit "rm -rf '$logs'"
echo_bin=$XM_BUILD/xdpmux-echo
[ -x "$echo_bin" ] || xm_fail "no $echo_bin: build first"

cli() { xm_cli "$ns_a" "$@"; }

# bound PORT: the number of udp/PORT bindings of dev_a owned by a live pid.
bound() {
	cli list "$dev_a" -j | jq --argjson p "$1" \
		'[.bindings[] | select(.proto == "udp" and .port == $p and .state == "live")] | length'
}

wait_bound() {
	local i
	for i in $(seq 100); do
		[ "$(bound "$1")" = 1 ] && return 0
		kill -0 "$echo_pid" 2>/dev/null || xm_fail "xdpmux-echo exited: $(cat "$logs/echo.log")"
		sleep 0.1
	done
	xm_fail "udp/$1 never bound by xdpmux-echo: $(cat "$logs/echo.log")"
}

# roundtrip FAMILY ADDR PORT SIZE: send one SIZE-byte datagram of random bytes
# from the peer's kernel socket and check the reply is the same bytes.
roundtrip() {
	local fam=$1 addr=$2 port=$3 size=$4 in out try
	in=$logs/in.$fam.$size out=$logs/out.$fam.$size
	head -c "$size" /dev/urandom >"$in"
	# The first datagram to a new peer may wait for neighbour resolution:
	# the stack queues it, but allow a retry in case the queue bound hit.
	for try in 1 2 3; do
		xm_in "$ns_b" socat -b 65536 -t 2 - "UDP$fam:$addr:$port" <"$in" >"$out" 2>"$logs/socat.err"
		[ -s "$out" ] && break
	done
	[ -s "$out" ] || xm_fail "IPv$fam $size bytes to $port: no reply ($(cat "$logs/socat.err"))"
	cmp -s "$in" "$out" ||
		xm_fail "IPv$fam $size bytes to $port: reply differs ($(stat -c %s "$out") bytes back)"
	echo "  IPv$fam $size bytes: echoed byte-identical"
}

xm_step "a kernel UDP echo server on port 7001 of the same addresses"
# One process (lib.sh): socat's fork and exec per datagram answers too late
# on an emulated CPU (the VM), where it lost replies.
xm_echo_server "$ns_a" udp 7001 &
xm_wait_port "$ns_a" udp 7001

# run_mode MODE: attach in MODE, the whole exchange, clean exit, detach.
run_mode() {
	local mode=$1 fam addr hdr redirect0 redirect rc rx

	xm_step "[$mode] attach and start xdpmux-echo on udp/7000"
	cli attach "$dev_a" --mode "$mode" >/dev/null || xm_fail "attach $dev_a --mode $mode"
	redirect0=$(cli stats "$dev_a" -j | jq -r '.devices[0].counters.redirect.packets')
	nsenter --net="/run/netns/$ns_a" "$echo_bin" "$dev_a" --udp 7000 >"$logs/echo.log" 2>&1 &
	echo_pid=$!
	wait_bound 7000

	for fam in 4 6; do
		if [ $fam = 4 ]; then addr=$XM_A4 hdr=28; else addr="[$XM_A6]" hdr=48; fi
		xm_step "[$mode] IPv$fam: 1 byte, MTU size ($((mtu - hdr)) bytes), 60 KB"
		roundtrip $fam "$addr" 7000 1
		roundtrip $fam "$addr" 7000 $((mtu - hdr))
		roundtrip $fam "$addr" 7000 60000
		xm_step "[$mode] IPv$fam: the kernel server on 7001 still answers"
		roundtrip $fam "$addr" 7001 100
	done

	xm_step "[$mode] the datagrams went through xdpmux, not the kernel"
	redirect=$(cli stats "$dev_a" -j | jq -r '.devices[0].counters.redirect.packets')
	# 2 families x (1 + 1 + at least 41 fragments of 60000 bytes)
	[ $((redirect - redirect0)) -ge 86 ] ||
		xm_fail "only $((redirect - redirect0)) packets redirected to AF_XDP"

	xm_step "[$mode] SIGTERM: counters, binding removed, no frame leaked"
	kill -TERM "$echo_pid"
	wait "$echo_pid"
	rc=$?
	cat "$logs/echo.log"
	xm_expect_eq "$rc" 0 "xdpmux-echo exit status"
	rx=$(sed -n 's|^ *udp/7000 *rx \([0-9]*\) .*|\1|p' "$logs/echo.log")
	[ "${rx:-0}" -ge 6 ] || xm_fail "echo counters: udp/7000 received '${rx}' datagrams, want >= 6"
	grep -q 'none leaked' "$logs/echo.log" || xm_fail "frame accounting line"
	xm_expect_eq "$(cli list "$dev_a" -j | jq '[.bindings[] | select(.port == 7000)] | length')" \
		0 "bindings of udp/7000 after exit"
	cli detach "$dev_a" >/dev/null || xm_fail "detach $dev_a"
}

mtu=$(ip -n "$ns_a" -j link show "$dev_a" | jq '.[0].mtu')
# Generic (skb) XDP, then native XDP on veth (where AF_XDP zero-copy is
# refused and the link falls back to copy mode).
run_mode generic
run_mode native
echo "PASS"
