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
command -v curl >/dev/null || xm_fail "curl is not installed: run scripts/install-deps.sh"
mib=${XM_TCP_MIB:-1024}
export XM_TCP_SEED=${XM_TCP_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}

work=$(mktemp -d /tmp/xm-t-imp.XXXXXX)
xm_on_exit "rm -rf '$work'"
xm_step "the wire: xdpmux on $ns_x, the kernel peer on $ns_k (seed $XM_TCP_SEED)"
impair_wire_setup "$ns_x" "$ns_r" "$ns_k" xmti0 239 "$work"
xm_cli "$ns_x" attach "$IMPAIR_DEV_X" --mode native >/dev/null ||
	xm_fail "attach $IMPAIR_DEV_X --mode native"
xm_on_exit "xm_cli $ns_x detach $IMPAIR_DEV_X"
xm_step "a random $mib MiB file (XM_TCP_MIB sets the size)"
impair_file "$mib"

# impaired NAME PPM DELAY_PPM dropped|delayed: both transfers, then both
# filters must have dropped or delayed frames.
impaired() {
	local name=$1 dir c
	impair_wire "$XM_TCP_SEED" "$2" "$3" "$3"
	impair_transfers "$name" $([ "$4" = dropped ] && echo lossy)
	impair_wire_alive
	for dir in to_k to_x; do
		c=($(impair_wire_counts $dir))
		echo "  wire $dir: dropped ${c[0]}, delayed ${c[1]} of ${c[2]} frames"
		if [ "$4" = dropped ]; then
			[ "${c[0]:-0}" -gt 0 ] || xm_fail "$name: no frame dropped $dir (seed $XM_TCP_SEED)"
		else
			[ "${c[1]:-0}" -gt 0 ] || xm_fail "$name: no frame delayed $dir (seed $XM_TCP_SEED)"
		fi
	done
}

impaired "loss 0.5%" 5000 0 dropped
impaired "loss 3%" 30000 0 dropped
impaired "reorder 1%" 0 10000 delayed
echo "PASS"
