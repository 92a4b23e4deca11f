#!/usr/bin/env bash
# xdpmux attach/detach/status: every mode, the pins they make and remove, and
# the refusals (already attached, not attached, no native XDP) that change
# nothing.
set -u
. "$(dirname "$0")/lib.sh"

xm_netns_pair xm-c1 xm-c2 xmc1a xmc1b 31
pins=$XM_PINS/xmc1a

# attached MODE: status -j reports our program on xmc1a in MODE, and the
# kernel shows an XDP program named xdpmux_demux on the link.
expect_attached() {
	local st
	st=$(xm_cli xm-c1 status xmc1a -j) || xm_fail "status -j failed"
	xm_expect_eq "$(jq -r '.devices[0].attached' <<<"$st")" true "status attached"
	xm_expect_eq "$(jq -r '.devices[0].mode' <<<"$st")" "$1" "status mode"
	xm_expect_eq "$(jq -r '.devices[0].dev' <<<"$st")" xmc1a "status dev"
	xm_in xm-c1 ip -d link show xmc1a | grep -Eq 'name (xdpmux_demux|xdp_dispatcher)' ||
		xm_fail "kernel shows no xdpmux_demux on xmc1a"
	for m in bindings binding_stats port_index xsks stats frags4 frags6 syn_budget; do
		[ -e "$pins/$m" ] || xm_fail "map $m not pinned"
		xm_expect_eq "$(stat -c %a "$pins/$m")" 600 "mode of pinned $m"
	done
	xm_expect_eq "$(stat -c %a "$pins")" 700 "mode of $pins"
	xm_expect_eq "$(stat -c %a "$XM_PINS")" 700 "mode of $XM_PINS"
}

expect_detached() {
	[ ! -e "$pins" ] || xm_fail "$pins still exists after detach"
	xm_in xm-c1 ip -d link show xmc1a | grep -q 'prog/xdp' &&
		xm_fail "an XDP program is still on xmc1a"
	xm_expect_eq "$(xm_cli xm-c1 status xmc1a -j | jq -r '.devices[0].attached')" \
		false "status after detach"
}

for mode in native generic; do
	xm_step "attach --mode $mode"
	out=$(xm_cli xm-c1 attach xmc1a --mode $mode) || xm_fail "attach --mode $mode"
	xm_expect_eq "$out" "xmc1a: attached in $mode mode" "attach output"
	expect_attached $mode
	# The kernel path still works with the program on.
	xm_in xm-c2 ping -c1 -W2 "$XM_A4" >/dev/null || xm_fail "ping4 with $mode"
	xm_in xm-c2 ping -c1 -W2 "$XM_A6" >/dev/null || xm_fail "ping6 with $mode"
	xm_step "detach ($mode)"
	xm_cli xm-c1 detach xmc1a >/dev/null || xm_fail "detach after $mode"
	expect_detached
done

xm_step "attach --mode auto picks generic on veth"
xm_cli xm-c1 attach xmc1a >/dev/null || xm_fail "attach auto"
expect_attached generic

xm_step "attach twice is refused and changes nothing"
id_before=$(xm_cli xm-c1 status xmc1a -j | jq -r '.devices[0].prog_id')
err=$(xm_cli xm-c1 attach xmc1a --mode native 2>&1 >/dev/null); rc=$?
xm_expect_eq $rc 1 "exit code of a second attach"
xm_expect_eq "$(wc -l <<<"$err")" 1 "lines of error"
grep -q '^xdpmux: attach xmc1a: xdpmux is already attached' <<<"$err" ||
	xm_fail "unexpected error: $err"
expect_attached generic
xm_expect_eq "$(xm_cli xm-c1 status xmc1a -j | jq -r '.devices[0].prog_id')" \
	"$id_before" "program id after the refused attach"

xm_step "status without DEV lists every attached device"
xm_cli xm-c1 status -j | jq -e '.devices | map(.dev) | index("xmc1a") != null' \
	>/dev/null || xm_fail "status without DEV misses xmc1a"

xm_step "maps pinned with another layout are refused, not misread"
# As a build whose counters had another value size would have left them.
rm "$pins/stats" && bpftool map create "$pins/stats" type percpu_array key 4 value 8 \
	entries 9 name stats || xm_fail "pinning a stats map of another layout"
for cmd in "stats xmc1a" "list xmc1a" "bind xmc1a udp 7300"; do
	err=$(xm_cli xm-c1 $cmd 2>&1 >/dev/null); rc=$?
	xm_expect_eq $rc 1 "exit code of $cmd on maps of another layout"
	xm_expect_eq "$err" "xdpmux: ${cmd%% *} xmc1a: the pinned maps under $XM_PINS/xmc1a were made by another version of xdpmux; run 'xdpmux detach xmc1a' and attach again" \
		"error of $cmd on maps of another layout"
done

xm_step "detach from another process, also removing a pin an older build made"
# Before frags4 and frags6, both families' fragments had one map, "frags".
bpftool map create "$pins/frags" type lru_hash key 40 value 20 entries 8 name frags ||
	xm_fail "pinning a map as an older build would"
xm_cli xm-c1 detach xmc1a >/dev/null || xm_fail "detach"
expect_detached
err=$(xm_cli xm-c1 detach xmc1a 2>&1 >/dev/null); rc=$?
xm_expect_eq $rc 1 "exit code of detach when not attached"
xm_expect_eq "$err" "xdpmux: detach xmc1a: xdpmux is not attached to xmc1a" \
	"detach error"

xm_step "a device without native XDP: native fails cleanly, auto falls back"
xm_in xm-c1 ip link add xmc1br type bridge || xm_fail "bridge"
xm_in xm-c1 ip link set xmc1br up
xm_own_dev xmc1br
err=$(xm_cli xm-c1 attach xmc1br --mode native 2>&1 >/dev/null); rc=$?
xm_expect_eq $rc 1 "exit code of native attach on a bridge"
grep -q 'no native XDP support.*use --mode generic' <<<"$err" ||
	xm_fail "unexpected error: $err"
[ ! -e "$XM_PINS/xmc1br" ] || xm_fail "a failed attach left pins"
xm_in xm-c1 ip -d link show xmc1br | grep -q 'prog/xdp' &&
	xm_fail "a failed attach left a program"
out=$(xm_cli xm-c1 attach xmc1br) || xm_fail "auto attach on a bridge"
xm_expect_eq "$out" "xmc1br: attached in generic mode" "auto fallback"
xm_cli xm-c1 detach xmc1br >/dev/null || xm_fail "detach bridge"
[ ! -e "$XM_PINS/xmc1br" ] || xm_fail "pins of xmc1br left after detach"

xm_step "missing device"
err=$(xm_cli xm-c1 attach xmc1nope 2>&1 >/dev/null); rc=$?
xm_expect_eq $rc 1 "exit code for a missing device"
xm_expect_eq "$err" "xdpmux: attach xmc1nope: no such device" "missing device error"

echo "PASS"
