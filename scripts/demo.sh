#!/usr/bin/env bash
# The xdpmux demo: two network namespaces joined by a veth pair, xdpmux
# attached to one end, a UDP port taken out of the kernel and served by the
# userspace stack (xdpmux-echo), while the kernel keeps serving TCP and ping
# on the same address. Prints what it does and the counters at the end.
# Everything lives in namespaces xm-demo-{srv,cli}; all of it is removed on exit.
#   scripts/demo.sh [BUILD]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export XM_TOP=$top
export XM_BUILD=$(cd "$top/${1:-build}" && pwd)
. "$top/tests/selftests/lib.sh"

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold= plain=; fi
say() { printf '\n%s>>> %s%s\n' "$bold" "$*" "$plain"; }

[ -x "$XM_BUILD/xdpmux" ] || xm_fail "no $XM_BUILD/xdpmux: run 'make' first"
srv=xm-demo-srv cli=xm-demo-cli
xm_netns_pair $srv $cli xmdemo0 xmdemo1 100
X() { echo "[$srv]\$ xdpmux $*"; xm_cli $srv "$@"; }
C() { xm_in $cli "$@"; }

say "Two namespaces: $srv ($XM_A4, $XM_A6 on xmdemo0) and $cli ($XM_B4, $XM_B6)"
X attach xmdemo0 || xm_fail "attach"
X status xmdemo0

say "The kernel keeps everything nobody bound: a kernel TCP server on $XM_A4:8080"
xm_in $srv socat TCP-LISTEN:8080,reuseaddr,fork SYSTEM:'echo kernel-tcp-says-hello' &
xm_wait_port $srv tcp 8080
printf '[%s]$ socat - TCP:%s:8080 -> ' $cli "$XM_A4"
C socat -T2 - TCP:$XM_A4:8080 </dev/null
printf '[%s]$ ping -c1 %s -> ' $cli "$XM_A4"
C ping -c1 -W2 "$XM_A4" | grep -o '1 received' || echo "no reply"

if [ -x "$XM_BUILD/xdpmux-echo" ]; then
	say "UDP port 7777 served by the userspace stack: xdpmux-echo binds it"
	echo "[$srv]\$ xdpmux-echo xmdemo0 --udp 7777 &"
	# Not through a shell function: $! must be xdpmux-echo itself.
	nsenter --net=/run/netns/$srv "$XM_BUILD/xdpmux-echo" xmdemo0 --udp 7777 &
	echo_pid=$!
	for _ in $(seq 50); do
		xm_cli $srv list -j 2>/dev/null | jq -e '.bindings[] | select(.port == 7777)' \
			>/dev/null && break
		sleep 0.1
	done
	X list
	for dst in "$XM_A4" "$XM_A6"; do
		for i in 1 2 3; do
			reply=$(echo "datagram $i to [$dst]:7777" |
				C socat -T1 - UDP:"$(
					[[ $dst == *:* ]] && echo "[$dst]" || echo "$dst")":7777)
			echo "[$cli] sent 'datagram $i to [$dst]:7777', echoed: '$reply'"
		done
	done
	say "Counters: redirected datagrams are the ones the userspace stack echoed"
	X stats xmdemo0
	X list
	say "Stopping xdpmux-echo (SIGINT): it prints its counters and removes its binding"
	kill -INT $echo_pid
	wait $echo_pid
	X list
else
	say "No userspace stack built yet: bind UDP 7777 with fallback pass"
	xm_in $srv socat UDP-RECVFROM:7777,fork SYSTEM:cat &
	xm_wait_port $srv udp 7777
	X bind xmdemo0 udp 7777 --fallback pass --force
	for i in 1 2 3; do
		echo "datagram $i" | C socat -T1 - UDP:$XM_A4:7777 >/dev/null
	done
	X stats xmdemo0
	X list
fi

say "Detach: the program and its pins go, the kernel has the device back"
X detach xmdemo0
echo
echo "demo finished; namespaces removed"
