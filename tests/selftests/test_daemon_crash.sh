#!/usr/bin/env bash
# Crash isolation through xdpmuxd: kill -9 of one program mid-transfer leaves
# the others' transfers byte-identical, its frames are reclaimed at once and
# its bindings fall back; a program that stops reading cannot starve the
# others; kill -9 of the daemon makes the programs' calls fail with ENETDOWN
# (no hang), the bindings fall back, and a restarted daemon and programs
# work with no cleanup by hand.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"

xmd_setup xm-dcrash-a xm-dcrash-b xmdca xmdcb 90
user=nobody
cli() { xm_cli "$xmd_ns" "$@"; }
udp_ask() { echo "$2" | xm_in "$xmd_peer" socat -t 1 - "UDP4:$XM_A4:$1" 2>/dev/null; }
tcp_echo_bg() {   # tcp_echo_bg NAME MiB: a TCP echo transfer to 7100 in the background
	head -c $(($2 << 20)) /dev/urandom >"$xmd_logs/$1.in"
	xm_in "$xmd_peer" timeout 120 socat -t 60 - "TCP:$XM_A4:7100" <"$xmd_logs/$1.in" \
		>"$xmd_logs/$1.out" 2>"$xmd_logs/$1.err" &
}
tcp_echo_check() {   # tcp_echo_check NAME JOB
	wait "$2" || xm_fail "transfer $1: $(cat "$xmd_logs/$1.err")"
	cmp -s "$xmd_logs/$1.in" "$xmd_logs/$1.out" || xm_fail "transfer $1 not byte-identical"
}

xm_step "xdpmuxd, a UDP echo and a TCP echo, without capabilities"
xmd_start --allow "$user:7000-7200"
xmd_prog udp $user xdpmux-echo --udp 7000
xmd_prog tcp $user xdpmux-echo --tcp 7100
xm_expect_eq "$(udp_ask 7000 one)" one "UDP echo"

xm_step "kill -9 of the UDP program while its port is busy and a 64 MiB TCP transfer runs"
tcp_echo_bg t1 64
tcp1=$!
( for i in $(seq 300); do echo "x$i"; sleep 0.01; done ) |
	xm_in "$xmd_peer" socat -u - "UDP4:$XM_A4:7000" &
sleep 0.5
kill -9 "${xmd_pids[udp]}"
xmd_wait_gone "${xmd_pids[udp]}" 5
for i in $(seq 50); do
	grep -q "pid ${xmd_pids[udp]} .* reclaimed" "$xmd_logs/xdpmuxd.log" && break
	sleep 0.1
done
grep "pid ${xmd_pids[udp]} .* reclaimed" "$xmd_logs/xdpmuxd.log" ||
	xm_fail "the daemon did not reclaim: $(cat "$xmd_logs/xdpmuxd.log")"
tcp_echo_check t1 $tcp1
xm_expect_eq "$(xmd_clients)" 1 "programs left"
xm_expect_eq "$(cli list "$xmd_dev" -j | jq '[.bindings[] | select(.port == 7000)] | length')" \
	0 "bindings of the dead program"
xmd_frames_balance
xm_expect_eq "$(xmd_status | jq '.devices[0].daemon.frames.quarantine')" 0 \
	"frames still quarantined a second later"

xm_step "its port falls back to the kernel: a kernel server on udp/7000 answers"
xm_echo_server "$xmd_ns" udp 7000 &
xm_wait_port "$xmd_ns" udp 7000
xm_expect_eq "$(udp_ask 7000 kernel)" kernel "the kernel's echo on the fallen-back port"
kill %xm_echo_server 2>/dev/null; pkill -f "python3 -c .*socket" 2>/dev/null
sleep 0.3

xm_step "a program that stops reading does not starve the others"
xmd_prog udp2 $user xdpmux-echo --udp 7001
kill -STOP "${xmd_pids[udp2]}"
xm_on_exit "kill -CONT ${xmd_pids[udp2]} 2>/dev/null"
xm_in "$xmd_peer" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(20000):
    s.sendto(b"y" * 1000, (sys.argv[1], 7001))
' "$XM_A4"
tcp_echo_bg t2 32
tcp2=$!
tcp_echo_check t2 $tcp2
held=$(xmd_status | jq --argjson p "${xmd_pids[udp2]}" \
	'.devices[0].daemon.clients[] | select(.pid == $p) | .frames_held')
[ "$held" -le $((512 + 1024)) ] || xm_fail "a stopped program holds $held frames"
xmd_frames_balance
kill -CONT "${xmd_pids[udp2]}"
sleep 0.5
xm_expect_eq "$(udp_ask 7001 back)" back "the stopped program, resumed, echoes"

xm_step "kill -9 of the daemon: the programs' calls fail with ENETDOWN, no hang"
kill -9 "$xmd_pid"
for n in tcp udp2; do
	xmd_wait_gone "${xmd_pids[$n]}" 5
	grep -q "Network is down" "$xmd_logs/$n.log" ||
		xm_fail "$n did not report ENETDOWN: $(grep -v stack "$xmd_logs/$n.log")"
done
xm_echo_server "$xmd_ns" tcp 7100 &
xm_wait_port "$xmd_ns" tcp 7100
got=$(echo fallback | xm_in "$xmd_peer" socat -t 2 - "TCP:$XM_A4:7100")
xm_expect_eq "$got" fallback "the kernel serves tcp/7100 once the daemon is gone"
pkill -f "python3 -c .*socket" 2>/dev/null
sleep 0.3

xm_step "restart the daemon and the programs: no cleanup by hand"
xmd_start --allow "$user:7000-7200"
grep -q "removed 2 binding(s) a previous daemon's programs left" "$xmd_logs/xdpmuxd.log" ||
	xm_fail "restart did not clear the old bindings: $(cat "$xmd_logs/xdpmuxd.log")"
xmd_prog udp3 $user xdpmux-echo --udp 7000
xmd_prog tcp3 $user xdpmux-echo --tcp 7100
xm_expect_eq "$(udp_ask 7000 again)" again "UDP echo after restart"
tcp_echo_bg t3 16
tcp3=$!
tcp_echo_check t3 $tcp3
kill -TERM "${xmd_pids[udp3]}" "${xmd_pids[tcp3]}"
xmd_wait_gone "${xmd_pids[udp3]}" 5
xmd_wait_gone "${xmd_pids[tcp3]}" 5
grep -q "none leaked" "$xmd_logs/tcp3.log" || xm_fail "tcp3: $(cat "$xmd_logs/tcp3.log")"
xmd_frames_balance
echo PASS
