#!/usr/bin/env bash
# kill -9 of xdpmux-echo: the XSK goes with the process, so its port's traffic
# follows the binding's fallback (here: pass, to a kernel server on the same
# port); `xdpmux list` shows the binding stale; `xdpmux gc` removes it. Then
# the same again, but the next xdpmux-echo started on the device removes the
# stale binding itself (xm_stack_open collects garbage).
set -u
. "$(dirname "$0")/lib.sh"

ns_a=xm-u-kill-a ns_b=xm-u-kill-b dev_a=xmuk0a dev_b=xmuk0b
xm_netns_pair "$ns_a" "$ns_b" "$dev_a" "$dev_b" 42
logs=$(mktemp -d /tmp/xm-u-kill.XXXXXX)
xm_on_exit "rm -rf '$logs'"
echo_bin=$XM_BUILD/xdpmux-echo
[ -x "$echo_bin" ] || xm_fail "no $echo_bin: build first"

cli() { xm_cli "$ns_a" "$@"; }

# state PORT: the state of the udp/PORT binding of dev_a ("" when none).
state() {
	cli list "$dev_a" -j | jq -r --argjson p "$1" \
		'[.bindings[] | select(.proto == "udp" and .port == $p)][0].state // ""'
}
field() {
	cli list "$dev_a" -j | jq -r --argjson p "$1" --arg f "$2" \
		'[.bindings[] | select(.proto == "udp" and .port == $p)][0][$f] // ""'
}
counter() { cli stats "$dev_a" -j | jq -r ".devices[0].counters.$1.packets"; }

# start_echo PORT...: xdpmux-echo in the background, echo_pid set, waits
# until every port is bound live by it.
start_echo() {
	local args=() p i ok
	for p in "$@"; do args+=(--udp "$p"); done
	nsenter --net="/run/netns/$ns_a" "$echo_bin" "$dev_a" "${args[@]}" >"$logs/echo.log" 2>&1 &
	echo_pid=$!
	for i in $(seq 100); do
		ok=1
		for p in "$@"; do
			[ "$(state "$p")" = live ] && [ "$(field "$p" owner_pid)" = "$echo_pid" ] || ok=0
		done
		[ $ok = 1 ] && return 0
		kill -0 "$echo_pid" 2>/dev/null || xm_fail "xdpmux-echo exited: $(cat "$logs/echo.log")"
		sleep 0.1
	done
	xm_fail "xdpmux-echo never bound $*: $(cat "$logs/echo.log")"
}

# ask PORT TEXT: one datagram from the peer; prints the reply (may be empty).
ask() {
	echo "$2" | xm_in "$ns_b" socat -t 1 - "UDP4:$XM_A4:$1" 2>/dev/null
}

kill9() {
	kill -9 "$echo_pid"
	wait "$echo_pid" 2>/dev/null
}

xm_step "attach; xdpmux-echo serves udp/7000"
cli attach "$dev_a" --mode generic >/dev/null || xm_fail "attach $dev_a"
start_echo 7000
out=$(ask 7000 via-xdpmux)
xm_expect_eq "$out" via-xdpmux "echo through xdpmux"
fallback=$(field 7000 fallback)
xm_expect_eq "$fallback" pass "fallback of a socket's binding"

xm_step "kill -9: the binding stays, stale"
kill9
xm_expect_eq "$(state 7000)" stale "state after kill -9"
cli list "$dev_a" | grep -Eq "udp +7000 .*stale" || xm_fail "human list does not say stale"

xm_step "the port's traffic follows the fallback (pass): a kernel server answers"
# socat here is the kernel's: it replies with a marker so we know who answered.
nsenter --net="/run/netns/$ns_a" socat UDP4-RECVFROM:7000,fork SYSTEM:'read l; echo "kernel:$l"' &
kernel_pid=$!
xm_wait_port "$ns_a" udp 7000
fb0=$(counter fallback)
out=$(ask 7000 after-kill)
xm_expect_eq "$out" kernel:after-kill "reply after kill -9"
[ "$(counter fallback)" -gt "$fb0" ] || xm_fail "fallback counter did not move"

xm_step "xdpmux gc removes the stale binding"
cli gc "$dev_a" || xm_fail "gc"
xm_expect_eq "$(state 7000)" "" "udp/7000 after gc"
out=$(ask 7000 unbound)
xm_expect_eq "$out" kernel:unbound "unbound port goes to the kernel"
kill "$kernel_pid"
wait "$kernel_pid" 2>/dev/null

xm_step "kill -9 again; the next xdpmux-echo on the device collects it"
start_echo 7002
kill9
xm_expect_eq "$(state 7002)" stale "udp/7002 after kill -9"
start_echo 7003
xm_expect_eq "$(state 7002)" "" "udp/7002 after the next xdpmux-echo opened"
out=$(ask 7003 second)
xm_expect_eq "$out" second "the new xdpmux-echo serves"
kill -TERM "$echo_pid"
wait "$echo_pid"
xm_expect_eq "$?" 0 "clean exit of the second xdpmux-echo"
grep -q 'none leaked' "$logs/echo.log" || xm_fail "frame accounting: $(cat "$logs/echo.log")"
xm_expect_eq "$(state 7003)" "" "udp/7003 after clean exit"
echo "PASS"
