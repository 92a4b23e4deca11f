# shellcheck shell=bash
# Shared by the flood selftests (test_flood_*.sh), sourced after lib.sh.
# The xdpmux side is NS_A/DEV_A, the flooding peer NS_B/DEV_B.
#
#   fl_setup NS_A NS_B DEV_A DEV_B SUBNET KPORT
#                         the veth pair (lib.sh's xm_netns_pair), xdpmux
#                         attached to DEV_A (generic), kernel TCP and UDP echo
#                         servers on KPORT in NS_A; sets ns_a ns_b dev_a dev_b,
#                         logs (a directory removed at exit) and mac_a.
#   fl_flood ARGS...      xm_flood DEV_B --dst-mac MAC_A ARGS in NS_B, for 600 s
#                         unless ARGS say --seconds (run it
#                         with & : $! is xm_flood itself, SIGTERM ends it).
#   fl_start_echo NS DEV LOG ARGS...   xdpmux-echo DEV ARGS in NS, output to
#                         LOG; sets FL_ECHO_PID; waits until it serves.
#   fl_counter LOG NAME   the last value of the stack counter NAME the echo
#                         printed (SIGUSR1 or exit); empty when never printed.
#   fl_dump LOG           ask the echo (SIGUSR1) for its counters, wait for them.
#   fl_conn_open NS DIR TARGET   a kernel TCP connection (socat, TARGET in
#                         socat's syntax) fed from a FIFO: what is written to
#                         fd 3 goes out, the echo lands in DIR/back. Returns
#                         when it is established; sets FL_CONN_PID.
#   fl_conn_send FILE OFF LEN  write LEN bytes of FILE from OFF to fd 3.
#   fl_conn_close DIR     close fd 3 (socat half-closes) and wait for socat.
#   fl_udp_echo NS ADDR PORT MSG  send MSG in one datagram from NS and print
#                         the answer; up to 10 tries, as a UDP client under
#                         a flood that fills the receiver's queues must.
#   fl_check_kernel NS ADDR PORT  a kernel TCP and a kernel UDP exchange with
#                         the echo servers on PORT at ADDR, from NS.

fl_setup() {
	ns_a=$1 ns_b=$2 dev_a=$3 dev_b=$4
	local kport=$6
	xm_netns_pair "$ns_a" "$ns_b" "$dev_a" "$dev_b" "$5"
	[ -x "$XM_BUILD/tools/xm_flood" ] || xm_fail "no $XM_BUILD/tools/xm_flood: build first"
	logs=$(mktemp -d "/tmp/$ns_a.XXXXXX")
	xm_on_exit "rm -rf '$logs'"
	xm_cli "$ns_a" attach "$dev_a" --mode "${XM_FLOOD_MODE:-generic}" >/dev/null || xm_fail "attach $dev_a"
	xm_on_exit "xm_cli $ns_a detach $dev_a"
	mac_a=$(xm_in "$ns_a" ip -br link show dev "$dev_a" | awk '{print $3}')
	xm_echo_server "$ns_a" tcp "$kport" &
	xm_echo_server "$ns_a" udp "$kport" &
	xm_wait_port "$ns_a" tcp "$kport"
	xm_wait_port "$ns_a" udp "$kport"
}

fl_flood() {
	exec nsenter --net="/run/netns/$ns_b" "$XM_BUILD/tools/xm_flood" "$dev_b" \
		--dst-mac "$mac_a" --seconds 600 "$@"
}

fl_start_echo() {
	local ns=$1 dev=$2 log=$3
	shift 3
	nsenter --net="/run/netns/$ns" "$XM_BUILD/xdpmux-echo" "$dev" "$@" >"$log" 2>&1 &
	FL_ECHO_PID=$!
	# On any exit, the counters at that moment land in the log first.
	xm_on_exit "kill -USR1 $FL_ECHO_PID 2>/dev/null && sleep 0.5"
	for _ in $(seq 100); do
		grep -q "serving" "$log" && return 0
		kill -0 $FL_ECHO_PID 2>/dev/null || xm_fail "xdpmux-echo exited: $(cat "$log")"
		sleep 0.1
	done
	xm_fail "xdpmux-echo does not serve: $(cat "$log")"
}

fl_counter() {
	sed -n "s/^  stack\.$2 \([0-9]*\)$/\1/p" "$1" | tail -n 1
}

fl_dump() {
	local n
	n=$(grep -c "^  stack\.rx_frames " "$1")
	if ! kill -USR1 $FL_ECHO_PID 2>/dev/null; then
		wait $FL_ECHO_PID
		xm_fail "xdpmux-echo is gone (exit status $?): $(tail -n 20 "$1")"
	fi
	for _ in $(seq 100); do
		[ "$(grep -c "^  stack\.tcp_mem_max " "$1")" -gt "$n" ] && return 0
		sleep 0.1
	done
	xm_fail "xdpmux-echo printed no counters on SIGUSR1"
}

fl_conn_open() {
	local ns=$1 dir=$2 target=$3
	mkfifo "$dir/fifo"
	xm_in "$ns" socat -b 65536 -t 600 - "$target" <"$dir/fifo" >"$dir/back" \
		2>"$dir/socat.err" &
	FL_CONN_PID=$!
	exec 3>"$dir/fifo"
	for _ in $(seq 100); do
		xm_in "$ns" ss -Htn state established | grep -q . && return 0
		kill -0 $FL_CONN_PID 2>/dev/null ||
			xm_fail "socat exited: $(cat "$dir/socat.err")"
		sleep 0.1
	done
	xm_fail "the connection was not established: $(cat "$dir/socat.err")"
}

fl_conn_send() {
	dd if="$1" bs=64K iflag=skip_bytes,count_bytes skip="$2" count="$3" \
		status=none >&3 || xm_fail "writing to the connection failed"
}

fl_conn_close() {
	exec 3>&-
	wait $FL_CONN_PID || xm_fail "socat: $(cat "$1/socat.err")"
}

fl_udp_echo() {
	local out try
	for try in $(seq 10); do
		out=$(echo "$4" | xm_in "$1" timeout 10 socat -t 1 - "UDP:$2:$3") &&
			[ -n "$out" ] && break
	done
	echo "$out"
}

fl_check_kernel() {
	local ns=$1 addr=$2 port=$3 out
	out=$(echo "kernel tcp" | xm_in "$ns" timeout 20 nc -N "$addr" "$port") ||
		xm_fail "kernel TCP echo on $addr:$port did not answer"
	xm_expect_eq "$out" "kernel tcp" "kernel TCP echo on unbound port $port"
	out=$(fl_udp_echo "$ns" "$addr" "$port" "kernel udp")
	xm_expect_eq "$out" "kernel udp" "kernel UDP echo on unbound port $port"
}
