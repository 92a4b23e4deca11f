#!/usr/bin/env bash
# Floods of frames no stack may accept, at the sender's full rate (xm_flood),
# against ports xdpmux-echo serves (tcp/7810, udp/7811), over IPv4 and IPv6:
# bad UDP, TCP and IPv4 header checksums, headers cut short, IHL below 5,
# lengths past the frame, TCP data offsets out of range, illegal TCP flag
# combinations; and a blind RST flood at an established connection, with
# sequence numbers spread over the whole space (RFC 5961). Then:
#  - xdpmux-echo is alive, the established connection was not reset and
#    its echo is byte-identical, and a datagram to the UDP port is echoed;
#  - the drops are counted: by the stack (checksums, malformed, bad flags,
#    ignored RSTs and challenge ACKs) and by the XDP program (frames it
#    cannot parse go to the kernel, counted malformed);
#  - kernel TCP and UDP servers on an unbound port answered during the flood;
#  - xdpmux-echo exits cleanly, every UMEM frame accounted for.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flood.sh"

tport=7810 uport=7811 kport=7812 cport=40110
chunk=$((1024 * 1024)) chunks=8
fl_setup xm-f-mal-a xm-f-mal-b xmfm0a xmfm0b 171 $kport
head -c $((chunk * chunks)) /dev/urandom >"$logs/data"

xm_step "xdpmux-echo --tcp $tport --udp $uport (kernel echo on $kport)"
fl_start_echo "$ns_a" "$dev_a" "$logs/echo.log" --tcp $tport --udp $uport
xdp_malformed() {
	xm_cli "$ns_a" stats "$dev_a" -j | jq -r '.devices[0].counters.malformed.packets'
}
mal0=$(xdp_malformed)

xm_step "an established connection from port $cport"
fl_conn_open "$ns_b" "$logs" "TCP4:$XM_A4:$tport,sourceport=$cport"
fl_conn_send "$logs/data" 0 $chunk

xm_step "floods: malformed IPv4, malformed IPv6, blind RSTs at the connection"
fl_flood --dst "$XM_A4" --dport $tport --kind malformed >"$logs/flood4.log" 2>&1 &
fpids=($!)
fl_flood --dst "$XM_A6" --dport $uport --kind malformed >"$logs/flood6.log" 2>&1 &
fpids+=($!)
fl_flood --dst "$XM_A4" --dport $tport --kind rst --src "$XM_B4" --sport $cport \
	>"$logs/floodrst.log" 2>&1 &
fpids+=($!)
sleep 2
for p in "${fpids[@]}"; do
	kill -0 "$p" 2>/dev/null || xm_fail "a flood ended: $(cat "$logs"/flood*.log)"
done

xm_step "during the floods: the connection transfers, UDP and the kernel answer"
for i in $(seq 1 $((chunks - 1))); do
	fl_conn_send "$logs/data" $((i * chunk)) $chunk
done
xm_expect_eq "$(fl_udp_echo "$ns_b" "$XM_A4" $uport datagram)" "datagram" \
	"xdpmux UDP echo during the floods"
fl_check_kernel "$ns_b" "$XM_A4" $kport
for p in "${fpids[@]}"; do
	kill -0 "$p" 2>/dev/null || xm_fail "a flood ended before the checks did"
	kill -TERM "$p"
done
for p in "${fpids[@]}"; do
	wait "$p" || xm_fail "xm_flood failed: $(cat "$logs"/flood*.log)"
done
cat "$logs"/flood*.log
kill -0 $FL_ECHO_PID 2>/dev/null || xm_fail "xdpmux-echo died: $(cat "$logs/echo.log")"

xm_step "after: the connection ends byte-identical, never reset"
fl_conn_close "$logs"
cmp -s "$logs/data" "$logs/back" ||
	xm_fail "echo differs ($(stat -c %s "$logs/back") of $(stat -c %s "$logs/data") bytes back)"

xm_step "the drops are counted"
mal1=$(xdp_malformed)
echo "  XDP malformed: $((mal1 - mal0)) frames passed to the kernel unparsed"
[ "$mal1" -gt "$mal0" ] || xm_fail "the XDP program counted no malformed frame"
kill -TERM $FL_ECHO_PID
wait $FL_ECHO_PID
rc=$?
grep -E "^  stack\.(rx_|tcp_(bad|malformed|rst|challenge))" "$logs/echo.log" | tail -n 16
xm_expect_eq "$rc" 0 "xdpmux-echo exit status (frames accounted, clean close)"
# Frames the XDP program cannot parse never reach the stack (the kernel
# drops them), so the stack's own malformed counters may stay at 0.
for c in rx_bad_l4_csum rx_bad_ip_csum tcp_bad_csum tcp_bad_flags; do
	[ "$(fl_counter "$logs/echo.log" $c)" -gt 0 ] || xm_fail "stack counter $c is 0"
done
ignored=$(fl_counter "$logs/echo.log" tcp_rst_ignored)
challenged=$(fl_counter "$logs/echo.log" tcp_challenge_acks)
[ $((ignored + challenged)) -gt 0 ] || xm_fail "no blind RST was counted"
xm_expect_eq "$(fl_counter "$logs/echo.log" tcp_rst_in)" 0 "RSTs that closed a connection"
echo "  blind RSTs: $ignored ignored (outside the window), $challenged challenged"
echo "PASS"
