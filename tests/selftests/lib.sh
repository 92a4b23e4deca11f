# shellcheck shell=bash
# Shared helpers for the namespace selftests. Source it first:
#
#   . "$(dirname "$0")/lib.sh"
#
# Environment: XM_BUILD (absolute build dir) and XM_TOP (repo root) are set by
# scripts/run-tests.sh; when a test runs on its own they default to
# <repo>/build and <repo>.
#
#   xm_netns_pair NS_A NS_B DEV_A DEV_B [SUBNET]
#       Create namespaces NS_A and NS_B joined by veth DEV_A (in NS_A) <->
#       DEV_B (in NS_B), both up, lo up, with
#         NS_A: 198.18.SUBNET.1/24  2001:db8:SUBNET::1/64
#         NS_B: 198.18.SUBNET.2/24  2001:db8:SUBNET::2/64
#       (SUBNET 0..255, default 1; IPv6 without DAD, so usable at once).
#       Sets XM_A4 XM_B4 XM_A6 XM_B6 to those addresses (last pair made wins).
#       Both veths keep the kernel's default offloads (tx checksum, TSO, GSO)
#       except on a kernel without multi-buffer AF_XDP (xm_xsk_sg false):
#       there TSO and GSO go off on both, as xdpmux's start-up notice asks.
#       Registers cleanup: on EXIT/INT/TERM every process in the namespaces and
#       every background job is killed, the namespaces are deleted, and the
#       xdpmux pins of DEV_A/DEV_B (XM_PIN_ROOT/<dev>) are removed.
#   xm_own_dev DEV        also remove DEV's pins at cleanup (a device the test
#                         made itself, beyond the veth pair).
#   xm_on_exit CMD...     run CMD (a string, eval'd) at cleanup, before the
#                         namespaces go; later registrations run first.
#   xm_in NS CMD...       run CMD in NS's network namespace via nsenter, which
#                         (unlike `ip netns exec`) keeps the host's /sys and so
#                         bpffs: pins made there outlive the command.
#   xm_cli NS ARGS...     run $XM_BUILD/xdpmux ARGS in NS.
#   xm_fail MSG           print "FAIL: MSG" on stderr and exit 1.
#   xm_expect_eq GOT WANT WHAT   fail with WHAT unless GOT == WANT (strings).
#   xm_wait_port NS udp|tcp PORT wait (at most ~5 s) until a kernel socket
#                         listens on (UDP: is bound to) PORT in NS; else fail.
#   xm_step MSG           print a progress heading (shows in the test log).
#   xm_xsk_sg             true when the kernel has multi-buffer AF_XDP
#                         (XDP_USE_SG, Linux 6.6): xdpmux takes a peer's TSO
#                         superpackets and jumbo frames whole.
#   xm_wait_log PID LOG PATTERN WHAT
#                         wait (at most ~10 s) until LOG, the output of the
#                         background process PID, has a line matching
#                         PATTERN (grep -E); fail saying WHAT exited, with
#                         its log, if it dies first, or that it never did.
#   xm_echo_server NS udp|tcp PORT &
#                         a kernel echo server on PORT (IPv4 and IPv6) in NS,
#                         in one process: socat's fork+exec per datagram or
#                         connection is too slow to answer in time in an
#                         emulated (TCG) guest.

XM_TOP=${XM_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
XM_BUILD=${XM_BUILD:-$XM_TOP/build}
XM_PINS=/sys/fs/bpf/xdpmux

_xm_netns=()
_xm_devs=()
_xm_exit_cmds=()
_xm_cleaned=0

xm_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

xm_step() {
	echo "== $*"
}

xm_expect_eq() {
	[ "$1" = "$2" ] || xm_fail "$3: expected '$2', got '$1'"
}

xm_in() {
	local ns=$1; shift
	nsenter --net="/run/netns/$ns" "$@"
}

xm_cli() {
	local ns=$1; shift
	xm_in "$ns" "$XM_BUILD/xdpmux" "$@"
}

xm_own_dev() {
	_xm_devs+=("$1")
}

xm_on_exit() {
	_xm_exit_cmds=("$*" "${_xm_exit_cmds[@]}")
}

_xm_cleanup() {
	local c ns dev pids
	[ "$_xm_cleaned" = 1 ] && return
	_xm_cleaned=1
	set +e
	for c in "${_xm_exit_cmds[@]}"; do
		eval "$c" >/dev/null 2>&1
	done
	pids=$(jobs -p)
	[ -n "$pids" ] && kill $pids 2>/dev/null
	for ns in "${_xm_netns[@]}"; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] && kill $pids 2>/dev/null
	done
	wait 2>/dev/null
	for ns in "${_xm_netns[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	# Pinned maps outlive the device; the program goes with the veth.
	for dev in "${_xm_devs[@]}"; do
		rm -rf "${XM_PINS:?}/$dev"
	done
}

trap '_xm_cleanup' EXIT
trap '_xm_cleanup; exit 130' INT
trap '_xm_cleanup; exit 143' TERM

xm_xsk_sg() {
	local v maj min
	v=$(uname -r)
	maj=${v%%.*} v=${v#*.}
	min=${v%%[!0-9]*}
	[ "$maj" -gt 6 ] || { [ "$maj" -eq 6 ] && [ "$min" -ge 6 ]; }
}

xm_netns_pair() {
	local a=$1 b=$2 da=$3 db=$4 net=${5:-1}

	[ "$(id -u)" -eq 0 ] || xm_fail "selftests need root"
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || xm_fail "cannot mount bpffs"
	# Leftovers of an earlier, killed run of the same test.
	ip netns del "$a" 2>/dev/null
	ip netns del "$b" 2>/dev/null
	rm -rf "${XM_PINS:?}/$da" "${XM_PINS:?}/$db"

	ip netns add "$a" || xm_fail "ip netns add $a"
	_xm_netns+=("$a")
	ip netns add "$b" || xm_fail "ip netns add $b"
	_xm_netns+=("$b")
	_xm_devs+=("$da" "$db")
	ip -n "$a" link add "$da" type veth peer name "$db" netns "$b" ||
		xm_fail "veth $da/$db"

	XM_A4=198.18.$net.1 XM_B4=198.18.$net.2
	XM_A6=2001:db8:$net::1 XM_B6=2001:db8:$net::2
	ip -n "$a" addr add "$XM_A4/24" dev "$da" &&
	ip -n "$b" addr add "$XM_B4/24" dev "$db" &&
	ip -n "$a" addr add "$XM_A6/64" dev "$da" nodad &&
	ip -n "$b" addr add "$XM_B6/64" dev "$db" nodad &&
	ip -n "$a" link set lo up && ip -n "$b" link set lo up &&
	ip -n "$a" link set "$da" up && ip -n "$b" link set "$db" up ||
		xm_fail "addressing $da/$db"
	if ! xm_xsk_sg; then
		echo "  $(uname -r) has no multi-buffer AF_XDP: TSO and GSO off on $da and $db"
		xm_in "$a" ethtool -K "$da" tso off gso off >/dev/null &&
		xm_in "$b" ethtool -K "$db" tso off gso off >/dev/null ||
			xm_fail "ethtool -K $da/$db tso off gso off"
	fi
}

xm_wait_port() {
	local ns=$1 proto=$2 port=$3 flag i
	case $proto in
	tcp) flag=-Htln ;;
	udp) flag=-Huln ;;
	*) xm_fail "xm_wait_port: protocol '$proto'" ;;
	esac
	for i in $(seq 50); do
		[ -n "$(xm_in "$ns" ss $flag "sport = :$port" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	xm_fail "no $proto socket on port $port in $ns after 5 s"
}

xm_echo_server() {
	local ns=$1 proto=$2 port=$3
	xm_in "$ns" python3 -c '
import socket, sys, threading
proto, port = sys.argv[1], int(sys.argv[2])
kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET6, kind)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", port))
def serve(c):
    with c:
        while True:
            d = c.recv(65536)
            if not d:
                return
            c.sendall(d)
if kind == socket.SOCK_DGRAM:
    while True:
        d, a = s.recvfrom(65536)
        s.sendto(d, a)
s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
' "$proto" "$port"
}

xm_wait_log() {
	local pid=$1 log=$2 pattern=$3 what=$4
	for _ in $(seq 100); do
		grep -qE -- "$pattern" "$log" && return 0
		kill -0 "$pid" 2>/dev/null || xm_fail "$what exited: $(cat "$log")"
		sleep 0.1
	done
	xm_fail "$what never printed '$pattern': $(cat "$log")"
}
