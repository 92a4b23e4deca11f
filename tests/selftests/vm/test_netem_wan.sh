#!/usr/bin/env bash
# xdpmux TCP over a WAN-like path: netem on both directions of the wire of
# impair.sh (its tc programs only forward here), each way 10 ms of delay
# (20 ms RTT), 1% of the frames lost and 1% reordered (sent at once, ahead
# of those still delayed). test_tcp_impair.sh's transfers cross it: curl
# downloads from xdpmux-httpd (sha256), tcp_stream -e sends to xdpmux-echo
# and checks the echo byte for byte; xdpmux retransmitted, both receivers
# queued segments out of order, and netem dropped frames in both
# directions.
# Size: $XM_TCP_MIB MiB (default 32, about 2.5 minutes under TCG: at 20 ms
# RTT and 1% loss TCP moves about 0.7 MB/s here, the kernel's as well).
# The 1 GiB run takes about 55 minutes under TCG: XM_TCP_MIB=1024
# XM_VM_MEM=4096 (the file is in the guest's tmpfs) XM_VM_TIMEOUT=5400.
# Needs sch_netem (not in the host kernel): runs in the VM (make vmtest);
# elsewhere it says so and passes without testing, in the VM it fails.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../impair.sh"

ns_x=xm-v-wan-x ns_r=xm-v-wan-r ns_k=xm-v-wan-k
mib=${XM_TCP_MIB:-32}
netem=(delay 10ms loss 1% reorder 1%)

work=$(mktemp -d /tmp/xm-v-wan.XXXXXX)
xm_on_exit "rm -rf '$work'"
xm_step "the wire: xdpmux on $ns_x, the kernel peer on $ns_k, netem ${netem[*]} each way"
impair_wire_setup "$ns_x" "$ns_r" "$ns_k" xmvw0 67 "$work"
modprobe -q sch_netem 2>/dev/null
if ! xm_in "$ns_r" tc qdisc add dev "${IMPAIR_WIRE_DEVS[0]}" root netem 2>/dev/null; then
	[ -n "${XM_IN_VM:-}" ] && xm_fail "no sch_netem in the VM's kernel $(uname -r)"
	echo "SKIP: no sch_netem in kernel $(uname -r): this test runs in the VM (make vmtest)"
	exit 0
fi
xm_in "$ns_r" tc qdisc del dev "${IMPAIR_WIRE_DEVS[0]}" root
impair_wire 0 0
for d in "${IMPAIR_WIRE_DEVS[@]}"; do
	xm_in "$ns_r" tc qdisc add dev "$d" root netem "${netem[@]}" ||
		xm_fail "tc qdisc add dev $d root netem ${netem[*]}"
done
xm_cli "$ns_x" attach "$IMPAIR_DEV_X" --mode native >/dev/null ||
	xm_fail "attach $IMPAIR_DEV_X --mode native"
xm_on_exit "xm_cli $ns_x detach $IMPAIR_DEV_X"
xm_step "a random $mib MiB file (XM_TCP_MIB sets the size)"
impair_file "$mib"

impair_transfers "netem ${netem[*]}" lossy
for d in "${IMPAIR_WIRE_DEVS[@]}"; do
	n=$(xm_in "$ns_r" tc -s -j qdisc show dev "$d" root | jq '[.[] | select(.kind == "netem")][0]')
	echo "  netem on $d: sent $(jq .packets <<<"$n") packets, dropped $(jq .drops <<<"$n")"
	[ "$(jq .drops <<<"$n")" -gt 0 ] || xm_fail "netem on $d dropped nothing"
done
echo "PASS"
