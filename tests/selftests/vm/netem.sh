# shellcheck shell=bash
# Shared by the VM-only netem selftests (tests/selftests/vm/test_netem_*.sh;
# they need sch_netem, which the host kernel lacks: scripts/vmtest.sh runs
# them). Kernel TCP crosses a veth pair with xdpmux attached on both ends and
# nothing bound, so every frame goes through the XDP program and on to the
# kernel, while netem impairs both directions; the file must arrive
# byte-identical. Source it after lib.sh:
#
#   netem_setup NS_A NS_B DEV_A DEV_B SUBNET [MODE]
#       the namespaces and veth (lib.sh's xm_netns_pair), xdpmux attached on
#       both devices in MODE (default native), segmentation offloads off so
#       netem impairs wire-sized segments (as a real link would, not 64 KiB
#       GSO packets), a random 2 MiB file to send.
#   netem_transfer NAME 4|6 PORT CHECK NETEM_ARGS...
#       put `netem NETEM_ARGS` on both devices' egress, send the file from
#       NS_A to NS_B over TCP (IPv4 or IPv6) with socat, compare sha256 and
#       size, check that the data direction's qdisc carried the transfer, that
#       the receiver's XDP program passed at least the file's bytes, then run
#       CHECK (a function, or `true`) to prove the impairment took effect, and
#       remove the qdiscs.
#   netem_drops          packets the data direction's netem (on DEV_A) has
#                        dropped in the current transfer; for CHECK.
#   netem_rx_nstat NAME  how much SNMP counter NAME (nstat's names, e.g.
#                        TcpExtTCPOFOQueue) grew in NS_B during the current
#                        transfer; for CHECK.

NETEM_SIZE=$((2 * 1024 * 1024))
# Generous: one transfer takes seconds on KVM, up to a few minutes under TCG
# on a loaded host.
NETEM_TIMEOUT=600

netem_setup() {
	_ne_a=$1 _ne_b=$2 _ne_da=$3 _ne_db=$4
	local mode=${6:-native}
	xm_netns_pair "$1" "$2" "$3" "$4" "$5"
	modprobe -q sch_netem 2>/dev/null
	xm_in "$_ne_a" tc qdisc add dev "$_ne_da" root netem 2>/dev/null ||
		xm_fail "no netem qdisc on this kernel: these tests run in a VM (make vmtest)"
	xm_in "$_ne_a" tc qdisc del dev "$_ne_da" root
	xm_in "$_ne_a" ethtool -K "$_ne_da" tso off gso off gro off >/dev/null &&
	xm_in "$_ne_b" ethtool -K "$_ne_db" tso off gso off gro off >/dev/null ||
		xm_fail "cannot turn segmentation offloads off on $_ne_da/$_ne_db"
	xm_cli "$_ne_a" attach "$_ne_da" --mode "$mode" >/dev/null ||
		xm_fail "attach $_ne_da --mode $mode"
	xm_cli "$_ne_b" attach "$_ne_db" --mode "$mode" >/dev/null ||
		xm_fail "attach $_ne_db --mode $mode"
	_ne_dir=$(mktemp -d /tmp/xm-v-netem.XXXXXX) || xm_fail "mktemp"
	xm_on_exit "rm -rf $_ne_dir"
	head -c "$NETEM_SIZE" /dev/urandom >"$_ne_dir/src" || xm_fail "random source file"
	_ne_sum=$(sha256sum <"$_ne_dir/src" | cut -d' ' -f1)
}

netem_drops() {
	xm_in "$_ne_a" tc -s -j qdisc show dev "$_ne_da" |
		jq '[.[] | select(.kind == "netem") | .drops] | add // 0'
}

# _netem_nstat NAME: SNMP counter NAME in NS_B now (0 when never counted).
_netem_nstat() {
	xm_in "$_ne_b" nstat -asz "$1" |
		awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }'
}

netem_rx_nstat() {
	local base
	base=$(awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }' <<<"$_ne_nstat0")
	echo $(($(_netem_nstat "$1") - base))
}

# Packets the netem qdisc on DEV in NS has sent.
_netem_sent() {
	xm_in "$1" tc -s -j qdisc show dev "$2" |
		jq '[.[] | select(.kind == "netem") | .packets] | add // 0'
}

# Bytes the xdpmux program on DEV in NS has passed to the kernel.
_netem_xdp_pass_bytes() {
	xm_cli "$1" stats "$2" -j | jq '.devices[0].counters.pass.bytes'
}

netem_transfer() {
	local name=$1 fam=$2 port=$3 check=$4; shift 4
	local dst=$_ne_dir/dst.$port listen connect rpid rc sum size pass0 pass sent
	xm_step "$name: TCP/IPv$fam, netem $*"
	case $fam in
	4) listen=TCP4-LISTEN:$port,bind=$XM_B4 connect=TCP4:$XM_B4:$port ;;
	6) listen=TCP6-LISTEN:$port,bind=[$XM_B6] connect=TCP6:[$XM_B6]:$port ;;
	*) xm_fail "netem_transfer: family '$fam'" ;;
	esac
	xm_in "$_ne_a" tc qdisc add dev "$_ne_da" root netem "$@" ||
		xm_fail "$name: tc qdisc add dev $_ne_da root netem $*"
	xm_in "$_ne_b" tc qdisc add dev "$_ne_db" root netem "$@" ||
		xm_fail "$name: tc qdisc add dev $_ne_db root netem $*"
	pass0=$(_netem_xdp_pass_bytes "$_ne_b" "$_ne_db")
	_ne_nstat0=$(xm_in "$_ne_b" nstat -asz)

	timeout "$NETEM_TIMEOUT" nsenter --net="/run/netns/$_ne_b" \
		socat -u "$listen,reuseaddr" "OPEN:$dst,creat,trunc" &
	rpid=$!
	xm_wait_port "$_ne_b" tcp "$port"
	timeout "$NETEM_TIMEOUT" nsenter --net="/run/netns/$_ne_a" \
		socat -u "OPEN:$_ne_dir/src" "$connect" ||
		xm_fail "$name: sender socat failed or timed out (exit $?)"
	wait "$rpid"
	rc=$?
	[ $rc -eq 0 ] || xm_fail "$name: receiver socat failed or timed out (exit $rc)"

	size=$(stat -c %s "$dst")
	xm_expect_eq "$size" "$NETEM_SIZE" "$name: received size"
	sum=$(sha256sum <"$dst" | cut -d' ' -f1)
	xm_expect_eq "$sum" "$_ne_sum" "$name: sha256 of the received file"
	rm -f "$dst"

	# The transfer really went through netem and through the XDP program.
	sent=$(_netem_sent "$_ne_a" "$_ne_da")
	[ "$sent" -gt 0 ] || xm_fail "$name: netem on $_ne_da sent no packets"
	pass=$(_netem_xdp_pass_bytes "$_ne_b" "$_ne_db")
	[ $((pass - pass0)) -ge "$NETEM_SIZE" ] ||
		xm_fail "$name: xdpmux on $_ne_db passed $((pass - pass0)) bytes, less than the file"
	"$check" || xm_fail "$name: the impairment left no trace ($check; netem on" \
		"$_ne_da sent $sent packets, dropped $(netem_drops))"
	echo "   ok: $size bytes, sha256 match, netem sent $sent packets on $_ne_da" \
		"and dropped $(netem_drops), xdpmux passed $((pass - pass0)) bytes on $_ne_db"

	xm_in "$_ne_a" tc qdisc del dev "$_ne_da" root
	xm_in "$_ne_b" tc qdisc del dev "$_ne_db" root
}
