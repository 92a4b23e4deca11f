#!/usr/bin/env bash
# xm_stack_open and xm_bind on a real device keep xdpmux's ports and the
# kernel's apart: a stack refuses to open while the kernel's ephemeral range
# (net.ipv4.ip_local_port_range) overlaps xdpmux's 61000-65535 unless the
# overlap is in net.ipv4.ip_local_reserved_ports, and a port a kernel socket
# already uses cannot be bound (EADDRINUSE) and is left to the kernel.
set -u
. "$(dirname "$0")/lib.sh"

ns_a=xm-c-ports-a ns_b=xm-c-ports-b dev_a=xmcp0a dev_b=xmcp0b
xm_netns_pair "$ns_a" "$ns_b" "$dev_a" "$dev_b" 97
logs=$(mktemp -d /tmp/xm-c-ports.XXXXXX)
xm_on_exit "rm -rf '$logs'"
echo_bin=$XM_BUILD/xdpmux-echo
[ -x "$echo_bin" ] || xm_fail "no $echo_bin: build first"

cli() { xm_cli "$ns_a" "$@"; }
sysctl_a() { ip netns exec "$ns_a" sysctl -qw "$1"; }

# run_echo PORT: run xdpmux-echo briefly; prints its exit status.
run_echo() {
	nsenter --net="/run/netns/$ns_a" timeout --preserve-status -s TERM 1 "$echo_bin" "$dev_a" --udp "$1" \
		>"$logs/echo.log" 2>&1
	echo $?
}

cli attach "$dev_a" --mode generic >/dev/null || xm_fail "attach $dev_a"

xm_step "kernel range overlapping 61000-65535: the stack refuses to open"
sysctl_a net.ipv4.ip_local_port_range="32768 62000" || xm_fail "sysctl"
rc=$(run_echo 7000)
[ "$rc" = 1 ] || xm_fail "xdpmux-echo exit $rc with an overlapping range: $(cat "$logs/echo.log")"
grep -q "Address already in use" "$logs/echo.log" ||
	xm_fail "no EADDRINUSE reported: $(cat "$logs/echo.log")"
echo "  refused: $(head -1 "$logs/echo.log")"

xm_step "the overlap reserved (ip_local_reserved_ports): the stack opens"
sysctl_a net.ipv4.ip_local_reserved_ports="61000-62000" || xm_fail "sysctl reserved"
rc=$(run_echo 7000)
# timeout's SIGTERM makes xdpmux-echo exit cleanly (0)
[ "$rc" = 0 ] || xm_fail "xdpmux-echo exit $rc with the overlap reserved: $(cat "$logs/echo.log")"
grep -q "none leaked" "$logs/echo.log" || xm_fail "no clean exit: $(cat "$logs/echo.log")"
sysctl_a net.ipv4.ip_local_reserved_ports="" || xm_fail "sysctl reserved"
sysctl_a net.ipv4.ip_local_port_range="32768 60999" || xm_fail "sysctl"

xm_step "a port a kernel socket holds: EADDRINUSE, the binding map untouched"
nsenter --net="/run/netns/$ns_a" socat UDP4-RECVFROM:7010,fork SYSTEM:'echo kernel' &
kernel_pid=$!
xm_on_exit "kill $kernel_pid 2>/dev/null"
xm_wait_port "$ns_a" udp 7010
rc=$(run_echo 7010)
[ "$rc" = 1 ] || xm_fail "xdpmux-echo exit $rc on a kernel-held port: $(cat "$logs/echo.log")"
grep -q "bind udp/7010.*Address already in use" "$logs/echo.log" ||
	xm_fail "no EADDRINUSE for udp/7010: $(cat "$logs/echo.log")"
n=$(cli list "$dev_a" -j | jq '[.bindings[] | select(.port == 7010)] | length')
xm_expect_eq "$n" 0 "bindings of udp/7010"
echo "PASS"
