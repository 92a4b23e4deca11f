#!/usr/bin/env bash
# xdpmux's own TCP through netem: xdpmux-echo --tcp serves on one end of a
# veth pair and a kernel client (socat) in the other namespace sends a file,
# half-closes and reads the echo until xdpmux-echo's FIN, while netem loses,
# reorders, duplicates or delays frames in both directions. The echo must
# come back byte-identical each time: the data crosses the xdpmux stack as
# receiver and as sender. VM only (sch_netem): scripts/vmtest.sh.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netem.sh"

ns_a=xm-vx1 ns_b=xm-vx2 dev_a=xmvx1a dev_b=xmvx1b port=7800
netem_setup $ns_a $ns_b $dev_a $dev_b 66

echo_log=$_ne_dir/echo.log
nsenter --net=/run/netns/$ns_b "$XM_BUILD/xdpmux-echo" $dev_b --tcp $port >"$echo_log" 2>&1 &
epid=$!
xm_on_exit "kill -TERM $epid"
for _ in $(seq 100); do
	grep -q serving "$echo_log" && break
	kill -0 $epid 2>/dev/null || xm_fail "xdpmux-echo exited: $(cat "$echo_log")"
	sleep 0.1
done
grep -q "serving.*tcp/$port" "$echo_log" || xm_fail "xdpmux-echo not serving: $(cat "$echo_log")"

# echo_through NAME 4|6 NETEM_ARGS...
echo_through() {
	local name=$1 fam=$2 addr back=$_ne_dir/back
	shift 2
	[ "$fam" = 4 ] && addr=$XM_B4 || addr="[$XM_B6]"
	xm_step "$name: xdpmux TCP/IPv$fam echo, netem $*"
	xm_in $ns_a tc qdisc add dev $dev_a root netem "$@" &&
	xm_in $ns_b tc qdisc add dev $dev_b root netem "$@" ||
		xm_fail "$name: tc qdisc add netem $*"
	# -t: how long socat waits for our FIN after its own EOF; longer than
	# the timeout, so a missing FIN fails.
	xm_in $ns_a timeout "$NETEM_TIMEOUT" socat -b 65536 -t 900 - \
		"TCP$fam:$addr:$port" <"$_ne_dir/src" >"$back" ||
		xm_fail "$name: socat failed or timed out ($(stat -c %s "$back") bytes back); echo: $(cat "$echo_log")"
	xm_expect_eq "$(sha256sum <"$back" | cut -d' ' -f1)" "$_ne_sum" \
		"$name: sha256 of the echo ($(stat -c %s "$back") bytes)"
	echo "   ok: $NETEM_SIZE bytes echoed byte-identical; netem on $dev_a dropped $(netem_drops)"
	xm_in $ns_a tc qdisc del dev $dev_a root
	xm_in $ns_b tc qdisc del dev $dev_b root
}

echo_through "loss 1%" 4 loss 1%
echo_through "loss 5%" 6 loss 5%
echo_through "loss 10%" 4 loss 10%
echo_through "reorder 25%" 6 delay 5ms reorder 25% 50%
echo_through "duplicate 5%" 4 duplicate 5%
echo_through "delay 20ms +-10ms" 6 delay 20ms 10ms distribution normal

xm_step "xdpmux-echo exits cleanly, nothing leaked"
kill -TERM $epid
wait $epid || xm_fail "xdpmux-echo exit status $?: $(cat "$echo_log")"
grep -q "none leaked" "$echo_log" || xm_fail "frame accounting: $(cat "$echo_log")"
echo "PASS"
