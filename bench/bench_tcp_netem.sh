#!/usr/bin/env bash
# TCP over a WAN-like path, in the VM (sch_netem is not in this kernel):
# the time curl takes to download the same file from xdpmux-httpd and from
# nginx (one worker, the kernel's TCP), both in the server namespace on the
# same veth, alternated round by round, medians recorded (5 rounds of
# 16 MiB: over 3 of 4 MiB the kernel's retransmission count alone ranged
# 115-292 from run to run; the counts are sums over all rounds):
#   tcp_netem_wan  netem on both directions of impair.sh's wire, each way
#                  10 ms of delay (20 ms RTT), 1% of the frames lost, 1%
#                  reordered; ratio = xdpmux time / kernel time (lower is
#                  better; target 1.2).
#   tcp_netem_wan_retrans, tcp_netem_wan_rtos  segments retransmitted and
#                  retransmission timeouts over the same downloads,
#                  xdpmux-httpd's stack counters vs the kernel's nstat
#                  (target 1.5); the other loss counters are logged. The
# kernel server's veth has TSO, GSO and checksum offload off, so that both
# servers put MTU-sized, checksummed frames on the wire.
# scripts/vmtest.sh boots the VM (Debian's 6.1 kernel; TCG when KVM does
# not run it, as here: the times are an emulated CPU's) and runs this
# script in it with --guest; the host side records the rows. No VM kernel
# or no qemu: skipped; skipped in quick mode too (booting the VM under TCG
# and setting up take about 90 s, beyond quick mode's minute).
. "$(dirname "$0")/lib.sh"

mib=16
rounds=5
netem=(delay 10ms loss 1% reorder 1%)

if [ "${1:-}" != --guest ]; then
	bench_quick && bench_skip "quick mode: the VM alone takes about 90 s under TCG"
	ls /boot/vmlinuz-6.1.* >/dev/null 2>&1 ||
		bench_skip "no VM kernel (/boot/vmlinuz-6.1.*, Debian's linux-image-amd64)"
	command -v qemu-system-x86_64 >/dev/null || command -v vng >/dev/null ||
		bench_skip "neither qemu-system-x86_64 nor vng (virtme-ng) is installed"
	[ -x "$XM_BUILD/xdpmux-httpd" ] || xm_fail "no $XM_BUILD/xdpmux-httpd: build first"
	out=$(mktemp /tmp/xm-b-netem.XXXXXX)
	xm_on_exit "rm -f '$out'"
	# Within run.sh's 900 s for a bench.
	"$XM_TOP/scripts/vmtest.sh" --timeout 840 -- bash bench/bench_tcp_netem.sh --guest |
		tee "$out"
	rc=${PIPESTATUS[0]}
	[ "$rc" = 125 ] && bench_skip "the VM did not run (vmtest.sh exit 125)"
	[ "$rc" = 0 ] || xm_fail "the guest part failed (vmtest.sh exit $rc)"
	row=($(sed -n 's/^row tcp_netem_wan: xdpmux \([0-9.]*\) s, nginx \([0-9.]*\) s$/\1 \2/p' "$out"))
	[ ${#row[@]} = 2 ] || xm_fail "the guest reported no row"
	bench_record tcp_netem_wan s "${row[0]}" "${row[1]}" nginx_1_worker false 1.2
	# The counters of the same downloads, both servers (target 1.5).
	for c in retrans_segs:retrans:segs rto_fires:rtos:timeouts; do
		row=($(sed -n "s/^count ${c%%:*}: xdpmux \([0-9]*\) kernel \([0-9]*\)$/\1 \2/p" "$out"))
		[ ${#row[@]} = 2 ] || xm_fail "the guest reported no ${c%%:*} counts"
		c=${c#*:}
		bench_record "tcp_netem_wan_${c%%:*}" "${c#*:}" "${row[0]}" "${row[1]}" \
			nginx_1_worker false 1.5
	done
	exit 0
fi

# In the guest, from here on.
. "$XM_TOP/tests/selftests/impair.sh"
ns_x=xm-b-netem-x ns_r=xm-b-netem-r ns_k=xm-b-netem-k
httpd=$XM_BUILD/xdpmux-httpd
work=$(mktemp -d /tmp/xm-b-netem.XXXXXX)
xm_on_exit "rm -rf '$work'"
# x (198.18.235.1, servers) <-> [rx  r  rk] <-> k (198.18.235.2, curl)
impair_wire_setup "$ns_x" "$ns_r" "$ns_k" xmbn0 235 "$work"
X4=$IMPAIR_X4 dev_x=$IMPAIR_DEV_X
impair_wire 0 0
modprobe -q sch_netem
for d in "${IMPAIR_WIRE_DEVS[@]}"; do
	xm_in "$ns_r" tc qdisc add dev "$d" root netem "${netem[@]}" ||
		xm_fail "tc qdisc add dev $d root netem ${netem[*]}"
done
xm_in "$ns_x" ethtool -K "$dev_x" tso off gso off tx off >/dev/null ||
	xm_fail "ethtool -K $dev_x tso off gso off tx off"
impair_file "$mib"
bench_xdp_attach "$ns_x" "$dev_x" native >/dev/null
xm_on_exit "bench_xdp_detach $ns_x $dev_x"
bench_nginx "$ns_x" "$work/nginx" "$work/root" 8081

# download PORT: the seconds of one download whose sha256 is the file's.
download() {
	local out
	out=$(xm_in "$ns_k" timeout 600 curl -sSf -o "$work/got" -w '%{time_total}' \
		"http://$X4:$1/file.bin") || xm_fail "curl from port $1: exit $?"
	xm_expect_eq "$(sha256sum <"$work/got" | cut -d' ' -f1)" "$IMPAIR_SUM" "sha256 of the download from port $1"
	echo "$out"
}

xm_step "tcp_netem_wan: $rounds round(s) of a $mib MiB download, netem ${netem[*]} each way"
nsenter --net="/run/netns/$ns_x" "$httpd" "$dev_x" --port 8080 --root "$work/root" \
	>"$work/httpd.log" 2>&1 &
hpid=$!
xm_wait_log $hpid "$work/httpd.log" serving xdpmux-httpd
kb=$(impair_kstat "$ns_x")
x=() k=()
for r in $(seq "$rounds"); do
	x+=("$(download 8080)") || exit 1
	k+=("$(download 8081)") || exit 1
	echo "round $r: xdpmux-httpd ${x[*]} nginx ${k[*]} s"
done
ka=$(impair_kstat "$ns_x")
kill -TERM $hpid
wait $hpid || xm_fail "xdpmux-httpd exit status $?: $(cat "$work/httpd.log")"
for d in "${IMPAIR_WIRE_DEVS[@]}"; do
	echo "  netem on $d: $(xm_in "$ns_r" tc -s -j qdisc show dev "$d" root |
		jq -r '.[] | select(.kind == "netem") | "sent \(.packets) packets, dropped \(.drops)"')"
done
echo "  kernel (nginx), $rounds downloads: before $kb"
echo "                                     after  $ka"
echo "  xdpmux-httpd, $rounds downloads:"
impair_xm_counters "$work/httpd.log"
echo "row tcp_netem_wan: xdpmux $(bench_median "${x[@]}") s, nginx $(bench_median "${k[@]}") s"
for c in retrans_segs:TcpRetransSegs rto_fires:TcpExtTCPTimeouts; do
	echo "count ${c%%:*}: xdpmux $(impair_xstat "$work/httpd.log" "${c%%:*}")" \
		"kernel $(($(impair_kval "$ka" "${c#*:}") - $(impair_kval "$kb" "${c#*:}")))"
done
