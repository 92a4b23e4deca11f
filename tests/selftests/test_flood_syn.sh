#!/usr/bin/env bash
# A SYN flood at the sender's full rate (xm_flood: AF_PACKET, qdisc bypassed,
# random source ports and sequence numbers, sources spoofed from a /24 the
# xdpmux side routes back through the peer) against xdpmux-echo --tcp with a
# TCP memory bound of 64 MiB and a SYN budget in XDP:
#  - the SYNs past the budget are dropped in XDP and counted (syn_budget);
#  - a connection established before the flood keeps transferring during it
#    (its echo grows while the flood runs) and ends byte-identical;
#  - new clients connect and are echoed during the flood (SYN cookies: the
#    SYN queue is full, so the counters show cookies sent and accepted);
#  - the stack holds no more connections than its backlog allows, its TCP
#    memory peak stays within the bound, and the process's resident memory
#    does not grow past the bound;
#  - kernel TCP and UDP servers on an unbound port keep answering;
#  - xdpmux-echo exits cleanly, every UMEM frame accounted for.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flood.sh"

port=7800 kport=7801 mem_max=$((64 * 1024 * 1024)) backlog=511
# The SYN budget: about half of what the stack answers here, so that the
# SYNs past it are dropped in XDP instead of overrunning the AF_XDP ring
# with the established connection's segments in it.
syn_rate=100000
spoof=198.19.170.0/24
fl_setup xm-f-syn-a xm-f-syn-b xmfs0a xmfs0b 170 $kport
chunk=$((1024 * 1024)) chunks=16
head -c $((chunk * chunks)) /dev/urandom >"$logs/data"

xm_step "xdpmux-echo --tcp $port --tcp-mem-max $mem_max --syn-rate $syn_rate (kernel echo on $kport)"
# Replies to the spoofed sources go back through the peer, which drops them
# (not its addresses, no forwarding), as the Internet would.
xm_in "$ns_a" ip route add "$spoof" via "$XM_B4" || xm_fail "route $spoof"
fl_start_echo "$ns_a" "$dev_a" "$logs/echo.log" --tcp $port --tcp-mem-max $mem_max \
	--syn-rate $syn_rate
rss0=$(awk '/^VmRSS/ {print $2 * 1024}' "/proc/$FL_ECHO_PID/status")

xm_step "a connection established before the flood, 1 MiB echoed"
fl_conn_open "$ns_b" "$logs" "TCP4:$XM_A4:$port"
fl_conn_send "$logs/data" 0 $chunk
for _ in $(seq 200); do
	[ "$(stat -c %s "$logs/back")" -ge $chunk ] && break
	sleep 0.1
done
xm_expect_eq "$(stat -c %s "$logs/back")" $chunk "bytes echoed before the flood"

xm_step "SYN flood from $spoof until the checks are done"
fl_flood --dst "$XM_A4" --dport $port --kind syn --src "$spoof" \
	>"$logs/flood.log" 2>&1 &
fpid=$!
sleep 1
kill -0 $fpid 2>/dev/null || xm_fail "xm_flood: $(cat "$logs/flood.log")"

# The flood offers more SYNs than the stack can take, so some of a client's
# segments are lost with the flood's. The kernel client retransmits its SYN
# (for about a minute) as against any flooded server; but when the ACK that
# would complete a cookie handshake is lost and the client's FIN arrives
# first, its sequence number no longer names the cookie and the listener
# resets it, as Linux's does. Such a client tries again, up to 3 times.
xm_step "during the flood: the old connection transfers, new clients get in"
before=$(stat -c %s "$logs/back")
(
	for i in $(seq 1 $((chunks - 1))); do
		fl_conn_send "$logs/data" $((i * chunk)) $chunk
	done
) &
wpid=$!
client() {
	local try
	for try in 1 2 3; do
		SECONDS=0
		echo "client $1" | xm_in "$ns_b" timeout 90 nc -N "$XM_A4" $port \
			>"$logs/client.$1" 2>"$logs/client.$1.err"
		echo "try $try: exit $?, ${SECONDS}s, got '$(head -c 64 "$logs/client.$1")'" \
			"$(head -c 200 "$logs/client.$1.err")" >>"$logs/client.$1.tries"
		[ "$(cat "$logs/client.$1")" = "client $1" ] && echo $try >"$logs/tries.$1" &&
			return 0
	done
	return 1
}
cpids=()
for i in $(seq 6); do
	client $i &
	cpids+=($!)
done
ok=0
for i in $(seq 6); do
	wait "${cpids[$((i - 1))]}" && ok=$((ok + 1))
done
if [ "$ok" != 6 ]; then
	for i in $(seq 6); do
		[ -f "$logs/tries.$i" ] || sed "s/^/  client $i: /" "$logs/client.$i.tries"
	done
	fl_dump "$logs/echo.log"
	tail -n 60 "$logs/echo.log" | sed 's/^/  echo: /'
fi
xm_expect_eq "$ok" 6 "new clients echoed during the flood"
echo "  connections each client needed: $(cat "$logs"/tries.* | tr '\n' ' ')"
fl_check_kernel "$ns_b" "$XM_A4" $kport
fl_dump "$logs/echo.log"
during=$(stat -c %s "$logs/back")
kill -0 $fpid 2>/dev/null ||
	xm_fail "the flood ended before the checks did: $(cat "$logs/flood.log")"
[ "$during" -gt "$before" ] ||
	xm_fail "the old connection echoed nothing during the flood ($during bytes)"
echo "  old connection: $((during - before)) bytes echoed in the flood; $ok/6 new clients echoed"
conns=$(fl_counter "$logs/echo.log" tcp_conns)
echo "  mid-flood: $conns TCP connections held, $(fl_counter "$logs/echo.log" tcp_syncookies_sent) cookies sent"
[ "$conns" -le $((backlog + 4)) ] ||
	xm_fail "$conns connections held mid-flood: more than the backlog ($backlog) allows"
kill -TERM $fpid

wait $fpid || xm_fail "xm_flood: $(cat "$logs/flood.log")"
cat "$logs/flood.log"
wait $wpid || xm_fail "writing to the old connection failed"
kill -0 $FL_ECHO_PID 2>/dev/null || xm_fail "xdpmux-echo died in the flood: $(cat "$logs/echo.log")"

xm_step "after the flood: the old connection ends byte-identical"
fl_conn_close "$logs"
cmp -s "$logs/data" "$logs/back" ||
	xm_fail "echo differs ($(stat -c %s "$logs/back") of $(stat -c %s "$logs/data") bytes back)"
out=$(echo "after" | xm_in "$ns_b" timeout 20 nc -N "$XM_A4" $port)
xm_expect_eq "$out" "after" "a client after the flood"

xm_step "memory within the bound"
hwm=$(awk '/^VmHWM/ {print $2 * 1024}' "/proc/$FL_ECHO_PID/status")
if ldd "$XM_BUILD/xdpmux-echo" | grep -q libasan; then
	echo "  (ASan build: resident memory includes its shadow and quarantine; not compared)"
else
	echo "  resident: $((rss0 >> 20)) MiB before, $((hwm >> 20)) MiB at most"
	[ $((hwm - rss0)) -le $mem_max ] ||
		xm_fail "resident memory grew by $(((hwm - rss0) >> 20)) MiB, past the $((mem_max >> 20)) MiB bound"
fi

budget_drops=$(xm_cli "$ns_a" stats "$dev_a" -j | jq -r '.devices[0].counters.syn_budget.packets')
echo "  XDP: $budget_drops SYNs past the budget dropped"

xm_step "SIGTERM: counters show the flood, clean exit"
kill -TERM $FL_ECHO_PID
wait $FL_ECHO_PID
rc=$?
grep "^  stack\.tcp_" "$logs/echo.log" | tail -n 27
xm_expect_eq "$rc" 0 "xdpmux-echo exit status (frames accounted, clean close)"
sent=$(fl_counter "$logs/echo.log" tcp_syncookies_sent)
okc=$(fl_counter "$logs/echo.log" tcp_syncookies_ok)
peak=$(fl_counter "$logs/echo.log" tcp_mem_peak)
bound=$(fl_counter "$logs/echo.log" tcp_mem_max)
xm_expect_eq "$bound" $mem_max "the configured TCP memory bound"
# The budget must have dropped SYNs when the flood offered more than it
# admits on every CPU (an emulated guest's flood may not).
offered=$(sed -n 's/.*(\([0-9]*\) frames\/s).*/\1/p' "$logs/flood.log")
if [ "${offered:-0}" -gt $((syn_rate * $(nproc))) ]; then
	[ "$budget_drops" -gt 0 ] || xm_fail "no SYN was dropped by the SYN budget"
else
	echo "  the flood ($offered SYNs/s) stayed within the budget on $(nproc) CPUs"
fi
[ "$sent" -gt 0 ] || xm_fail "no SYN cookies sent: the flood never filled the SYN queue"
[ "$okc" -gt 0 ] || xm_fail "no connection came in through a SYN cookie"
[ "$peak" -le "$bound" ] || xm_fail "TCP memory peaked at $peak, past the bound $bound"
echo "  syncookies sent $sent, accepted $okc; TCP memory peak $((peak >> 10)) KiB of $((bound >> 20)) MiB"
echo "PASS"
