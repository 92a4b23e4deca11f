#!/usr/bin/env bash
# xdpmux bind/unbind/list/stats/gc against real traffic: kernel servers on
# unbound ports keep working, a bound port's packets follow its fallback
# (drop: dropped and counted; pass: reach the kernel), the counters match
# what was sent, port_index and binding_stats move with the bindings, and gc
# removes exactly the bindings whose owner died.
set -u
. "$(dirname "$0")/lib.sh"

xm_netns_pair xm-c3 xm-c4 xmc2a xmc2b 32
pins=$XM_PINS/xmc2a
logs=$(mktemp -d /tmp/xm-c-bind.XXXXXX)
xm_on_exit "rm -rf '$logs'"

cli() { xm_cli xm-c3 "$@"; }

# Little-endian hex bytes for bpftool: le N VALUE
le() {
	local n=$1 v=$2 i out=
	for ((i = 0; i < n; i++)); do
		out+=$(printf '%02x ' $(((v >> (8 * i)) & 255)))
	done
	echo "$out"
}

# port_index is the program's global array, one map element holding every
# 4-byte entry (include/xdpmux/maps.h). port_entry proto PORT FROM TO: bytes
# FROM..TO-1 of the entry of (proto, PORT), little-endian; proto udp|tcp.
port_entry() {
	local slot=0 at
	[ "$1" = tcp ] && slot=1
	at=$((4 * (slot << 16 | $2)))
	bpftool -j map lookup pinned "$pins/port_index" key hex 00 00 00 00 |
		value_le $((at + $3)) $((at + $4))
}

# The port_index bits of (proto, port): kinds, and the wildcard's fallback
# (4: drop).
port_bits() { port_entry "$1" "$2" 0 1; }

# A wildcard key for bpftool: wkey udp|tcp PORT
wkey() {
	local proto=17
	[ "$1" = tcp ] && proto=6
	echo "$(printf '%02x 00 %02x %02x' $proto $(($2 >> 8)) $(($2 & 255))) $(le 16 0)"
}

# Bytes FROM..TO-1 of the value bpftool -j printed on stdin, little-endian.
value_le() {
	jq -r ".value[$1:$2] | reverse | map(ltrimstr(\"0x\")) | join(\"\")" |
		xargs -I{} printf '%d\n' 0x{}
}

# The counter slot of wildcard binding proto PORT, as the binding records it
# and as port_index holds it for the XDP program (include/xdpmux/maps.h).
binding_slot() {
	bpftool -j map lookup pinned "$pins/bindings" key hex $(wkey "$1" "$2") | value_le 24 28
}
port_slot() { port_entry "$1" "$2" 2 4; }

# Counter field of stats -j: counter NAME
counter() { cli stats xmc2a -j | jq -r ".devices[0].counters.$1.packets"; }
bpackets() {
	cli list xmc2a -j | jq -r --arg p "$1" --argjson n "$2" \
		'[.bindings[] | select(.proto == $p and .port == $n)][0].packets'
}
bstate() {
	cli list xmc2a -j | jq -r --arg p "$1" --argjson n "$2" \
		'[.bindings[] | select(.proto == $p and .port == $n)][0].state'
}

# wait_for WHAT CMD...: CMD succeeds within ~5 s (softirq may lag the sender).
wait_for() {
	local what=$1 i; shift
	for i in $(seq 50); do
		"$@" && return 0
		sleep 0.1
	done
	xm_fail "$what"
}
eq() { [ "$("${@:2}")" = "$1" ]; }

send_udp() { # send_udp ADDR PORT COUNT (from the peer namespace)
	xm_in xm-c4 bash -c 'for i in $(seq '"$3"'); do
		printf "dgram %d\n" $i > /dev/udp/'"$1/$2"'; done'
}

xm_step "kernel servers on ports that stay unbound"
xm_echo_server xm-c3 udp 7001 &
xm_echo_server xm-c3 tcp 8080 &
xm_in xm-c3 socat -u UDP4-RECV:7100 OPEN:"$logs/pass.txt",creat,append &
xm_wait_port xm-c3 udp 7001
xm_wait_port xm-c3 tcp 8080
xm_wait_port xm-c3 udp 7100

xm_step "attach and bind"
cli attach xmc2a --mode generic >/dev/null || xm_fail "attach"
cli bind xmc2a udp 7000 --fallback drop || xm_fail "bind udp 7000"
cli bind xmc2a tcp 80 --addr "$XM_A4" || xm_fail "bind tcp 80 --addr"
cli bind xmc2a udp 7100-7102 --fallback pass --force || xm_fail "bind range --force"
xm_step "list -j"
list=$(cli list -j) || xm_fail "list -j"
n=$(jq '[.bindings[] | select(.dev == "xmc2a")] | length' <<<"$list")
xm_expect_eq "$n" 5 "bindings listed"
xm_expect_eq "$(jq -r '[.bindings[] | select(.dev == "xmc2a")] |
	map("\(.proto)/\(.port)/\(.address)/\(.fallback)/\(.owner_pid)/\(.owner_comm)/\(.owner_slot)/\(.state)") |
	join(" ")' <<<"$list")" \
	"tcp/80/$XM_A4/pass/0/-/0/static udp/7000/null/drop/0/-/0/static udp/7100/null/pass/0/-/0/static udp/7101/null/pass/0/-/0/static udp/7102/null/pass/0/-/0/static" \
	"list contents"
cli list xmc2a | grep -Eq '^xmc2a +udp +7000 +\* +drop +- +- +0 +static +0 +0$' ||
	xm_fail "human list row for udp 7000"

xm_step "port_index and binding_stats follow the bindings"
xm_expect_eq "$(port_bits udp 7000)" 5 "port_index udp/7000 (wildcard, drop)"
xm_expect_eq "$(port_bits udp 7100)" 1 "port_index udp/7100 (wildcard, pass)"
xm_expect_eq "$(port_bits tcp 80)" 2 "port_index tcp/80 (addressed)"
xm_expect_eq "$(port_bits udp 7103)" 0 "port_index udp/7103 (unbound)"
s=$(binding_slot udp 7000)
[ -n "$s" ] || xm_fail "no bindings entry for udp/7000"
xm_expect_eq "$(port_slot udp 7000)" "$s" "port_index slot of udp/7000"
[ "$(binding_slot udp 7100)" != "$s" ] || xm_fail "udp/7000 and udp/7100 share a slot"

xm_step "kernel servers on unbound ports still answer"
out=$(echo ping4 | xm_in xm-c4 socat -t2 - UDP4:"$XM_A4":7001)
xm_expect_eq "$out" ping4 "UDP echo on unbound 7001"
out=$(echo tcp6 | xm_in xm-c4 socat -t10 - TCP6:"[$XM_A6]":8080)
xm_expect_eq "$out" tcp6 "TCP echo over IPv6 on unbound 8080"
out=$(echo tcp4 | xm_in xm-c4 socat -t10 - TCP4:"$XM_A4":8080)
xm_expect_eq "$out" tcp4 "TCP echo over IPv4 on unbound 8080"

xm_step "fallback drop: N datagrams to udp/7000 are dropped and counted"
xm_in xm-c3 socat -u UDP4-RECV:7000 OPEN:"$logs/drop.txt",creat,append &
xm_wait_port xm-c3 udp 7000
drop0=$(counter drop) red0=$(counter redirect) fb0=$(counter fallback)
N=20
send_udp "$XM_A4" 7000 $N
wait_for "binding udp/7000 counted $N packets" eq $N bpackets udp 7000
xm_expect_eq "$(counter drop)" $((drop0 + N)) "drop counter"
xm_expect_eq "$(( $(counter redirect) - red0 + $(counter fallback) - fb0 ))" $N \
	"redirect+fallback moved by N"
xm_expect_eq "$(cat "$logs/drop.txt" 2>/dev/null | wc -l)" 0 \
	"datagrams that reached the kernel socket on dropped udp/7000"
cli stats xmc2a | grep -Eq "^xmc2a +drop +verdict +$((drop0 + N)) " ||
	xm_fail "human stats row for drop"

xm_step "fallback pass: datagrams to udp/7100 reach the kernel"
pass0=$(counter pass) fb0=$(counter fallback)
M=5
send_udp "$XM_A4" 7100 $M
wait_for "kernel socket on udp/7100 got $M datagrams" \
	eq $M bash -c "cat '$logs/pass.txt' 2>/dev/null | wc -l"
xm_expect_eq "$(bpackets udp 7100)" $M "binding udp/7100 packets"
xm_expect_eq "$(counter fallback)" $((fb0 + M)) "fallback counter"
[ "$(counter pass)" -ge $((pass0 + M)) ] || xm_fail "pass counter did not move by $M"

xm_step "unbind gives the port back to the kernel"
cli unbind xmc2a udp 7000 || xm_fail "unbind udp 7000"
xm_expect_eq "$(port_bits udp 7000)" 0 "port_index udp/7000 after unbind"
xm_expect_eq "$(bstate udp 7000)" null "udp/7000 still listed"
send_udp "$XM_A4" 7000 1
wait_for "unbound udp/7000 reached the kernel" \
	eq 1 bash -c "cat '$logs/drop.txt' 2>/dev/null | wc -l"
cli unbind xmc2a udp 7100-7102 || xm_fail "unbind range"
cli unbind xmc2a tcp 80 --addr "$XM_A4" || xm_fail "unbind tcp 80 --addr"
xm_expect_eq "$(port_bits tcp 80)" 0 "port_index tcp/80 after unbind"

xm_step "wildcard and addressed bindings of one port share port_index"
cli bind xmc2a udp 7200 || xm_fail "bind udp 7200"
cli bind xmc2a udp 7200 --addr "$XM_A6" || xm_fail "bind udp 7200 --addr v6"
xm_expect_eq "$(port_bits udp 7200)" 3 "both kinds"
cli unbind xmc2a udp 7200 --addr "$XM_A6" || xm_fail "unbind addressed"
xm_expect_eq "$(port_bits udp 7200)" 1 "wildcard left"
cli unbind xmc2a udp 7200 || xm_fail "unbind wildcard"
xm_expect_eq "$(port_bits udp 7200)" 0 "none left"

xm_step "gc removes the bindings whose owner died"
sleep 300 &
live=$!
start=$(awk '{print $22}' /proc/$live/stat)
bash -c 'exit 0' &
dead=$!
wait $dead
# put_binding PORT PID START [OWNER_SLOT]: a wildcard udp binding owned by
# PID. The CLI binds it (slot and port_index as the library keeps them),
# then its owner is rewritten, as if PID had bound it (as owner slot
# OWNER_SLOT, 0 by default, in the binding only).
put_binding() {
	local slot

	cli bind xmc2a udp "$1" --fallback pass || xm_fail "bind udp $1"
	slot=$(binding_slot udp "$1")
	bpftool map update pinned "$pins/bindings" key hex $(wkey udp "$1") \
		value hex $(le 4 "$2") $(le 4 0) $(le 8 "$3") $(le 8 0) \
		$(le 4 "$slot") $(le 4 "${4:-0}") || xm_fail "bpftool: write binding udp/$1"
}
put_binding 7300 $dead 1          # owner exited
put_binding 7301 $live "$start" 7 # owner alive, owner slot 7
put_binding 7302 $live $((start + 1)) # pid alive but reused: not the owner
cli bind xmc2a udp 7303 || xm_fail "bind udp 7303"
xm_expect_eq "$(bstate udp 7300)" stale "state of a dead owner's binding"
xm_expect_eq "$(bstate udp 7301)" live "state of a live owner's binding"
xm_expect_eq "$(bstate udp 7302)" stale "state of a reused pid's binding"
xm_expect_eq "$(bstate udp 7303)" static "state of an operator's binding"
xm_expect_eq "$(cli status xmc2a -j | jq '.devices[0].stale')" 2 "status stale"
cli list xmc2a | grep -Eq "^xmc2a +udp +7301 +\* +pass +$live +sleep +7 +live " ||
	xm_fail "human list row for a live owner"
xm_expect_eq "$(cli list xmc2a -j | jq -r '.bindings[] | select(.port == 7301) |
	"\(.owner_pid)/\(.owner_comm)/\(.owner_slot)"')" "$live/sleep/7" \
	"list -j owner of a live owner's binding"
xm_expect_eq "$(cli list xmc2a -j | jq -r '.bindings[] | select(.port == 7300) |
	"\(.owner_pid)/\(.owner_comm)/\(.owner_slot)"')" "$dead/-/0" \
	"list -j owner of a dead owner's binding"
out=$(cli gc xmc2a -j) || xm_fail "gc -j"
xm_expect_eq "$(jq '.removed' <<<"$out")" 2 "gc removed"
xm_expect_eq "$(jq -r '.devices[0].dev' <<<"$out")" xmc2a "gc dev"
xm_expect_eq "$(cli list xmc2a -j | jq -c '[.bindings[].port]')" "[7301,7303]" \
	"bindings left after gc"
xm_expect_eq "$(port_bits udp 7300)" 0 "port_index of a collected binding"
xm_expect_eq "$(port_bits udp 7301)" 1 "port_index of a kept binding"
xm_expect_eq "$(cli gc xmc2a)" "xmc2a: removed 0 stale binding(s)" "second gc"

xm_step "stats --watch reprints with rates and exits 0 on SIGINT"
# Not through xm_in: a backgrounded function is a subshell that ignores SIGINT.
nsenter --net=/run/netns/xm-c3 "$XM_BUILD/xdpmux" stats xmc2a --watch 0.2 -j >"$logs/watch.json" &
watch=$!
wait_for "two samples from --watch" \
	eq 1 bash -c "[ \$(wc -l <'$logs/watch.json') -ge 2 ] && echo 1"
kill -INT $watch
wait $watch
xm_expect_eq $? 0 "exit status of stats --watch after SIGINT"
jq -e 'select(.interval_s != null) | .devices[0].counters.pass.packets_per_s >= 0' \
	"$logs/watch.json" >/dev/null || xm_fail "no rates in --watch output"

cli detach xmc2a >/dev/null || xm_fail "detach"
echo "PASS"
