#!/usr/bin/env bash
# TCP segmentation offload (xm_stack_opts.no_tso, README "Bulk send"):
# xdpmux-httpd serves a file to curl in the peer namespace, over IPv4 and
# IPv6, and the body arrives with the source's sha256 each time:
#  - the device's GSO on (the kernel's default on a veth): the stack sends
#    super-segments (stack.tcp_tso_sends > 0) and the peer's veth receives
#    them whole, as from a kernel TSO sender (its packets average more than
#    one MTU);
#  - TSO off but GSO on (as a NIC without TSO): the stack still sends
#    super-segments, and the kernel cuts them in software before the
#    veth (tcp_gso_segment): the peer gets frames of one MTU, intact;
#  - TSO, GSO and checksum offload off (ethtool -K DEV tso off gso off tx
#    off): the stack still sends super-segments, as Linux's TCP builds GSO
#    skbs whatever the device says (sk_setup_caps), and the kernel cuts
#    and sums them in software: the peer gets frames of one MTU, intact;
#  - ip link set DEV gso_max_segs 1 on xdpmux's side, read when the stack
#    opens (it bounds Linux's GSO skbs to one segment too): no
#    super-segment, the peer gets frames of one MTU;
#  - XDPMUX_TSO=0 with GSO on: the same.
# In every case the link loses nothing, so the stack retransmits next to
# nothing: at most one segment in 5,000 sent (a tail loss probe when the
# peer's ACKs stall past the PTO: 0 or 1 per 100 MiB here; a PTO left over
# from an acked flight made it about 1 in 1,000, all spurious).
set -u
. "$(dirname "$0")/lib.sh"

ns_a=xm-t-tso-a ns_b=xm-t-tso-b dev_a=xmtt0a dev_b=xmtt0b
xm_netns_pair "$ns_a" "$ns_b" "$dev_a" "$dev_b" 161
# xdpmux's side sends the bulk: its offloads on even where xm_netns_pair
# turned them off (no multi-buffer AF_XDP: the peer must send MTU frames).
xm_in "$ns_a" ethtool -K "$dev_a" tso on gso on >/dev/null || xm_fail "ethtool -K $dev_a gso on"
httpd=$XM_BUILD/xdpmux-httpd
[ -x "$httpd" ] || xm_fail "no $httpd: build first"
work=$(mktemp -d /tmp/xm-t-tso.XXXXXX)
xm_on_exit "rm -rf '$work'"
root=$work/root logs=$work/logs
mkdir -p "$root" "$logs"
port=8080 mib=${XM_TSO_MIB:-64}

"$XM_BUILD/tools/tcp_stream" $((mib << 20)) >"$root/big.bin" || xm_fail "write $root/big.bin"
want=$(sha256sum "$root/big.bin" | cut -d' ' -f1)
xm_cli "$ns_a" attach "$dev_a" --mode generic >/dev/null || xm_fail "attach $dev_a"
xm_on_exit "xm_cli $ns_a detach $dev_a"

hpid=
# serve [ENV...]: start xdpmux-httpd (the stack reads the device's
# offloads as it opens).
serve() {
	: >"$logs/httpd.log"
	nsenter --net="/run/netns/$ns_a" env "$@" "$httpd" "$dev_a" --port $port --root "$root" \
		>"$logs/httpd.log" 2>&1 &
	hpid=$!
	xm_wait_log $hpid "$logs/httpd.log" serving xdpmux-httpd
}

# stop: SIGTERM; the exit log has the stack's counters.
stop() {
	kill -TERM $hpid
	wait $hpid || xm_fail "httpd exit status $?: $(cat "$logs/httpd.log")"
	grep -q "none leaked" "$logs/httpd.log" || xm_fail "httpd frames: $(cat "$logs/httpd.log")"
}

xstat() { awk -v k="stack.$1" '$1 == k { print $2 }' "$logs/httpd.log" | tail -n 1; }

# rx_stats: "PACKETS BYTES" the peer's veth received.
rx_stats() {
	xm_in "$ns_b" ip -s -j link show "$dev_b" | jq -r '.[0].stats64.rx | "\(.packets) \(.bytes)"'
}

# fetch WHAT: both downloads, sha256 checked; sets avg, the average size
# of the packets the peer's veth received meanwhile.
fetch() {
	local url before after
	before=($(rx_stats))
	for url in "http://$XM_A4:$port" "http://[$XM_A6]:$port"; do
		xm_in "$ns_b" timeout 300 curl -sS --max-time 280 "$url/big.bin" 2>"$logs/curl.err" |
			sha256sum >"$logs/got.sum"
		[ "${PIPESTATUS[0]}" = 0 ] ||
			xm_fail "$1: curl $url/big.bin: $(cat "$logs/curl.err"); httpd: $(cat "$logs/httpd.log")"
		xm_expect_eq "$(cut -d' ' -f1 "$logs/got.sum")" "$want" "$1: sha256 of $url/big.bin"
	done
	after=($(rx_stats))
	avg=$(((after[1] - before[1]) / (after[0] - before[0])))
}

mtu_frame=$(($(ip -n "$ns_a" -j link show "$dev_a" | jq '.[0].mtu') + 14))

# offload OFF on|off: "-" nothing; "segs" dev_a's gso_max_segs 1 (off)
# or 65535 (on); else ethtool -K dev_a with each of OFF's features.
offload() {
	local f args=()
	case $1 in
	-) return 0 ;;
	segs) xm_in "$ns_a" ip link set "$dev_a" gso_max_segs $([ "$2" = off ] && echo 1 || echo 65535) ||
		xm_fail "ip link set $dev_a gso_max_segs" ;;
	*) for f in $1; do args+=("$f" "$2"); done
		xm_in "$ns_a" ethtool -K "$dev_a" "${args[@]}" >/dev/null ||
			xm_fail "ethtool -K $dev_a ${args[*]}" ;;
	esac
}

# case_run WHAT OFFLOAD SENDS SIZE [ENV...]: with OFFLOAD off on dev_a
# (see offload; restored after), serve and fetch (ENV for the server);
# SENDS "some" or "none" super-segments sent, the peer's packets
# averaging SIZE "large" (more than one MTU frame: received whole) or
# "mtu".
case_run() {
	local what=$1 off=$2 want_sends=$3 want_size=$4 sends rtx segs
	shift 4
	offload "$off" off
	serve "$@"
	fetch "$what"
	stop
	offload "$off" on
	sends=$(xstat tcp_tso_sends)
	case $want_sends in
	some) [ "${sends:-0}" -gt 0 ] || xm_fail "$what: no super-segment sent: $(grep tcp_ "$logs/httpd.log")" ;;
	none) xm_expect_eq "$sends" 0 "$what: super-segments sent" ;;
	esac
	case $want_size in
	large) [ "$avg" -gt "$mtu_frame" ] || xm_fail "$what: the peer's packets average $avg bytes: not super-segments" ;;
	mtu) [ "$avg" -le "$mtu_frame" ] || xm_fail "$what: the peer's packets average $avg bytes" ;;
	esac
	rtx=$(xstat tcp_retrans_segs) segs=$(xstat tcp_segs_out)
	[ "$((rtx * 5000))" -le "$segs" ] ||
		xm_fail "$what: $rtx of $segs segments retransmitted on a lossless link: $(grep -E 'tcp_(tlp|rack|rto|dsack)' "$logs/httpd.log")"
	echo "  $sends super-segments of $(xstat tcp_tso_segs) segments; $rtx of $segs retransmitted; the peer's packets average $avg bytes"
}

xm_step "GSO on: super-segments, received whole ($mib MiB over IPv4 and IPv6)"
case_run "GSO on" - some large
xm_step "ethtool -K $dev_a tso off: super-segments, cut by the kernel's GSO"
case_run "TSO off" tso some mtu
xm_step "ethtool -K $dev_a tso off gso off tx off: super-segments, cut and summed by the kernel's GSO"
case_run "TSO, GSO and checksum offload off" "tso gso tx" some mtu
xm_step "ip link set $dev_a gso_max_segs 1: frames of one MTU"
case_run "gso_max_segs 1" segs none mtu
xm_step "XDPMUX_TSO=0: frames of one MTU"
case_run "XDPMUX_TSO=0" - none mtu XDPMUX_TSO=0
echo "PASS"
