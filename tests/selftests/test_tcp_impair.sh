#!/usr/bin/env bash
# xdpmux TCP moves $XM_TCP_MIB MiB (default 1024) each way byte-identical
# through the impairments of bench/bench_tcp_loss.sh, against a kernel peer
# at its default offloads, over the wire of impair.sh (tc programs in a
# namespace between the two ends; seeded, XM_TCP_SEED=N repeats a run):
#  - 0.5% of the frames dropped each way; 3% dropped each way;
#  - reordering: 1% of the frames each way delayed 0.5 ms, past later ones;
# and under each:
#  - xdpmux -> kernel: curl downloads a random file from xdpmux-httpd; its
#    sha256 must be the file's;
#  - kernel -> xdpmux: tcp_stream -e sends the test stream to xdpmux-echo
#    --tcp and checks byte for byte what comes back (what xdpmux received,
#    sent back through the same wire) until xdpmux-echo's FIN;
#  - the impairment took effect: the filters dropped (delayed) frames in
#    both directions, xdpmux retransmitted (under loss) and queued segments
#    out of order as a receiver, the kernel receiver too (nstat
#    TcpExtTCPOFOQueue); every UMEM frame accounted for at exit.
# Counters of both ends are printed for each case.
# xm-vm: skip (tests/selftests/vm/test_netem_wan.sh is the VM's, with netem)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/impair.sh"

ns_x=xm-t-imp-x ns_r=xm-t-imp-r ns_k=xm-t-imp-k
httpd=$XM_BUILD/xdpmux-httpd echo_bin=$XM_BUILD/xdpmux-echo stream=$XM_BUILD/tools/tcp_stream
for b in "$httpd" "$echo_bin" "$stream" "$XM_BUILD/xdpmux"; do
	[ -x "$b" ] || xm_fail "no $b: build first"
done
command -v curl >/dev/null || xm_fail "curl is not installed: run scripts/install-deps.sh"

mib=${XM_TCP_MIB:-1024}
bytes=$((mib << 20))
seed=${XM_TCP_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
# A bound on each transfer, only against hangs: at least 0.5 MiB/s.
tmo=$((300 + 2 * mib))

work=$(mktemp -d /tmp/xm-t-imp.XXXXXX)
xm_on_exit "rm -rf '$work'"
xm_step "the wire: xdpmux on $ns_x, the kernel peer on $ns_k (seed $seed)"
impair_wire_setup "$ns_x" "$ns_r" "$ns_k" xmti0 239 "$work"
X4=$IMPAIR_X4 dev_x=$IMPAIR_DEV_X
# Native: generic XDP skips frames a tc program redirected (the wire's).
xm_cli "$ns_x" attach "$dev_x" --mode native >/dev/null || xm_fail "attach $dev_x --mode native"
xm_on_exit "xm_cli $ns_x detach $dev_x"

xm_step "a random $mib MiB file (XM_TCP_MIB sets the size)"
mkdir -p "$work/root" && head -c "$bytes" /dev/urandom >"$work/root/file.bin" ||
	xm_fail "cannot write a $mib MiB file in $work"
sum=$(sha256sum <"$work/root/file.bin" | cut -d' ' -f1)

# start NAME ARGS...: an example program on dev_x, until it serves.
start() {
	local name=$1; shift
	nsenter --net="/run/netns/$ns_x" "$XM_BUILD/$name" "$dev_x" "$@" >"$work/$name.log" 2>&1 &
	pid=$!
	xm_wait_log $pid "$work/$name.log" serving "$name"
}

# stop NAME: SIGTERM, a clean exit, every frame accounted for.
stop() {
	kill -TERM $pid
	wait $pid || xm_fail "$1 exit status $?: $(cat "$work/$1.log")"
	grep -q "none leaked" "$work/$1.log" || xm_fail "$1 frames: $(cat "$work/$1.log")"
}

# counter NAME LOG: stack counter NAME at the program's exit.
counter() {
	awk -v n="stack.$1" '$1 == n { v = $2 } END { print v + 0 }' "$2"
}

kstat() {
	xm_in "$ns_k" nstat -asz TcpExtTCPOFOQueue TcpRetransSegs |
		awk '$1 == "TcpExtTCPOFOQueue" { o = $2 } $1 == "TcpRetransSegs" { r = $2 }
			END { print o + 0, r + 0 }'
}

# expect_more WHAT VALUE: fail unless VALUE > 0.
expect_more() {
	[ "$2" -gt 0 ] || xm_fail "$1: none (seed $seed)"
}

# wire_took NAME what: both filters dropped or delayed frames.
wire_took() {
	local dir c
	impair_wire_alive
	for dir in to_k to_x; do
		c=($(impair_wire_counts $dir))
		echo "  wire $dir: dropped ${c[0]}, delayed ${c[1]} of ${c[2]} frames"
		case $2 in
		dropped) expect_more "$1: frames dropped $dir" "${c[0]:-0}" ;;
		delayed) expect_more "$1: frames delayed $dir" "${c[1]:-0}" ;;
		esac
	done
}

# show LOG: xdpmux's loss and reordering counters.
show() {
	grep -E "stack\.tcp_(segs_out|retrans_segs|rto_fires|fast_recoveries|rack_losses|tlp_probes|dsacks_in|dsack_undos|ooo_segs) " \
		"$1" | tr -s ' ' | tr '\n' ' '
	echo
}

# case NAME WHAT PPM DELAY_PPM: both transfers under one impairment.
case_() {
	local name=$1 what=$2 got k0 k1 t0 st
	impair_wire "$seed" "$3" "$4" "$4"

	xm_step "$name: xdpmux-httpd -> curl, $mib MiB"
	start xdpmux-httpd --port 8080 --root "$work/root"
	k0=($(kstat)) t0=$SECONDS
	got=$(xm_in "$ns_k" timeout "$tmo" curl -sSf "http://$X4:8080/file.bin" | sha256sum | cut -d' ' -f1)
	st=$?
	k1=($(kstat))
	stop xdpmux-httpd
	[ $st = 0 ] || xm_fail "$name: curl | sha256sum exit $st (seed $seed): $(cat "$work/xdpmux-httpd.log")"
	xm_expect_eq "$got" "$sum" "$name: sha256 of the download (seed $seed)"
	echo "  $mib MiB byte-identical in $((SECONDS - t0)) s; xdpmux: $(show "$work/xdpmux-httpd.log")"
	echo "  kernel receiver: $((k1[0] - k0[0])) segments queued out of order"
	[ "$what" = dropped ] &&
		expect_more "$name: xdpmux-httpd retransmissions" \
			"$(counter tcp_retrans_segs "$work/xdpmux-httpd.log")"
	expect_more "$name: the kernel receiver's out-of-order queue (TcpExtTCPOFOQueue)" \
		$((k1[0] - k0[0]))

	xm_step "$name: tcp_stream -> xdpmux-echo and back, $mib MiB"
	start xdpmux-echo --tcp 7000
	k0=($(kstat)) t0=$SECONDS
	xm_in "$ns_k" timeout "$tmo" "$stream" -e "$X4" 7000 "$bytes" 2>"$work/stream.err"
	st=$?
	k1=($(kstat))
	stop xdpmux-echo
	[ $st = 0 ] || xm_fail "$name: kernel -> xdpmux (exit $st, seed $seed): $(cat "$work/stream.err");" \
		"echo: $(cat "$work/xdpmux-echo.log")"
	echo "  $mib MiB each way byte-identical in $((SECONDS - t0)) s; xdpmux: $(show "$work/xdpmux-echo.log")"
	echo "  kernel: $((k1[1] - k0[1])) retransmitted segments"
	expect_more "$name: segments xdpmux-echo queued out of order" \
		"$(counter tcp_ooo_segs "$work/xdpmux-echo.log")"
	[ "$what" = dropped ] &&
		expect_more "$name: xdpmux-echo retransmissions" \
			"$(counter tcp_retrans_segs "$work/xdpmux-echo.log")"
	wire_took "$name" "$what"
}

case_ "loss 0.5%" dropped 5000 0
case_ "loss 3%" dropped 30000 0
case_ "reorder 1%" delayed 0 10000
echo "PASS"
