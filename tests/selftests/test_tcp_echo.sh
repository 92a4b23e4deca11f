#!/usr/bin/env bash
# xdpmux-echo --tcp against kernel clients (socat, nc) in the peer namespace:
#  - IPv4 and IPv6: 4 MiB sent by socat come back byte-identical; socat
#    half-closes when its input ends, the echo finishes, then xdpmux-echo
#    half-closes too and socat sees EOF (it exits only then);
#  - nc -N (shutdown after input) gets its line back and EOF;
#  - 20 concurrent connections, each echoed byte-identical;
#  - a client that half-closes without sending gets EOF at once;
#  - UDP on the same stack still echoes (--udp alongside --tcp);
#  - SIGTERM: clean exit, no tcp binding left, every UMEM frame accounted for.
set -u
. "$(dirname "$0")/lib.sh"

ns_a=xm-h-echo-a ns_b=xm-h-echo-b dev_a=xmhe0a dev_b=xmhe0b
xm_netns_pair "$ns_a" "$ns_b" "$dev_a" "$dev_b" 151
echo_bin=$XM_BUILD/xdpmux-echo
[ -x "$echo_bin" ] || xm_fail "no $echo_bin: build first"
logs=$(mktemp -d /tmp/xm-h-echo.XXXXXX)
xm_on_exit "rm -rf '$logs'"
tport=7700 uport=7701
head -c $((4 * 1024 * 1024)) /dev/urandom >"$logs/data"
head -c $((256 * 1024)) /dev/urandom >"$logs/small"

xm_step "attach xdpmux to $dev_a, start xdpmux-echo --tcp $tport --udp $uport"
xm_cli "$ns_a" attach "$dev_a" --mode generic >/dev/null || xm_fail "attach $dev_a"
xm_on_exit "xm_cli $ns_a detach $dev_a"
nsenter --net="/run/netns/$ns_a" "$echo_bin" "$dev_a" --tcp $tport --udp $uport \
	>"$logs/echo.log" 2>&1 &
epid=$!
for _ in $(seq 50); do
	grep -q "serving" "$logs/echo.log" && break
	kill -0 $epid 2>/dev/null || xm_fail "xdpmux-echo exited: $(cat "$logs/echo.log")"
	sleep 0.1
done
grep -q "serving.*tcp/$tport" "$logs/echo.log" || xm_fail "not serving: $(cat "$logs/echo.log")"

bound() {
	xm_cli "$ns_a" list "$dev_a" -j | jq --argjson p "$1" \
		'[.bindings[] | select(.proto == "tcp" and .port == $p)] | length'
}
xm_expect_eq "$(bound $tport)" 1 "tcp/$tport bindings while serving"

# socat_echo FAM ADDR IN OUT: send IN, half-close, read the echo into OUT
# until the server's FIN. socat -t is how long it waits for that FIN after
# its own EOF before exiting with success anyway: longer than the timeout,
# so a missing FIN fails the test.
socat_echo() {
	xm_in "$ns_b" timeout 60 socat -b 65536 -t 600 - "TCP$1:$2:$tport" <"$3" >"$4"
}

for fa in "4 $XM_A4" "6 [$XM_A6]"; do
	set -- $fa
	xm_step "IPv$1: 4 MiB through socat, half-close both ways"
	socat_echo "$1" "$2" "$logs/data" "$logs/back" 2>"$logs/socat.err" ||
		xm_fail "IPv$1 socat: $(cat "$logs/socat.err"); echo: $(cat "$logs/echo.log")"
	cmp -s "$logs/data" "$logs/back" ||
		xm_fail "IPv$1 echo differs ($(stat -c %s "$logs/back") of $(stat -c %s "$logs/data") bytes back)"
	echo "  byte-identical, socat saw our FIN after the echo"
done

xm_step "nc -N: line echoed, then EOF"
out=$(echo "hello over tcp" | xm_in "$ns_b" timeout 10 nc -N "$XM_A4" $tport) ||
	xm_fail "nc -N did not end (no FIN from xdpmux-echo?): '$out'"
xm_expect_eq "$out" "hello over tcp" "nc -N echo"
out=$(xm_in "$ns_b" timeout 10 nc -N "$XM_A6" $tport </dev/null) ||
	xm_fail "half-close without data: no EOF back"
xm_expect_eq "$out" "" "echo of nothing"
echo "  echoed and closed; an empty half-closed connection gets EOF at once"

xm_step "20 concurrent connections"
pids=()
for i in $(seq 20); do
	if [ $((i % 2)) = 0 ]; then fam=4 addr=$XM_A4; else fam=6 addr="[$XM_A6]"; fi
	socat_echo $fam "$addr" "$logs/small" "$logs/back.$i" 2>"$logs/socat.$i.err" &
	pids+=($!)
done
for i in $(seq 20); do
	wait "${pids[$((i - 1))]}" || xm_fail "connection $i: $(cat "$logs/socat.$i.err")"
	cmp -s "$logs/small" "$logs/back.$i" || xm_fail "connection $i: echo differs"
done
echo "  20 x 256 KiB echoed byte-identical"

xm_step "UDP alongside"
out=$(echo ping | xm_in "$ns_b" timeout 5 socat -t 2 - "UDP4:$XM_A4:$uport")
xm_expect_eq "$out" "ping" "udp echo"
echo "  udp/$uport echoes"

xm_step "SIGTERM: clean exit"
kill -TERM $epid
wait $epid || xm_fail "xdpmux-echo exit status $?: $(cat "$logs/echo.log")"
grep -q "none leaked" "$logs/echo.log" || xm_fail "frames: $(cat "$logs/echo.log")"
grep -Eq "tcp/$tport +connections 24 \(half-closed 24\)" "$logs/echo.log" ||
	xm_fail "tcp counters: $(cat "$logs/echo.log")"
xm_expect_eq "$(bound $tport)" 0 "tcp/$tport bindings after exit"
sed 's/^/  /' "$logs/echo.log"
echo "PASS"
