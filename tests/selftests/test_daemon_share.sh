#!/usr/bin/env bash
# Many programs on one device through xdpmuxd: three programs without any
# capability (xdpmux-echo --udp 7000, xdpmux-echo --tcp 7100, xdpmux-httpd
# on 8080), each binding steered into its own AF_XDP socket, kernel clients
# in the peer namespace, every transfer byte-identical and each program's
# counters showing only its own traffic; then sixteen programs at once;
# `xdpmux status` and `list` name them; SIGTERM stops the daemon cleanly.
# xm-vm: skip (sixteen programs are too slow on an emulated CPU; test_daemon_crash and test_daemon_run cover the daemon there)
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"

xmd_setup xm-dshare-a xm-dshare-b xmdsa xmdsb 89
user=nobody
cli() { xm_cli "$xmd_ns" "$@"; }

xm_step "xdpmuxd on $xmd_dev; $user may bind 7000-7200 and 8080"
xmd_start --allow "$user:7000-7200,8080"
root=$xmd_logs/www
mkdir -p "$root" && chmod 755 "$root"
head -c $((32 << 20)) /dev/urandom >"$root/big.bin"
chmod 644 "$root/big.bin"
xmd_prog udp $user xdpmux-echo --udp 7000
xmd_prog tcp $user xdpmux-echo --tcp 7100
xmd_prog http $user xdpmux-httpd --port 8080 --root "$root"
xm_expect_eq "$(xmd_clients)" 3 "programs the daemon serves"

xm_step "status and list name each program, its uid and its owner slot"
st=$(xmd_status)
for n in udp tcp http; do
	pid=${xmd_pids[$n]}
	jq -e --argjson p "$pid" '.devices[0].daemon.clients[] | select(.pid == $p and
		.uid == 65534 and .sockets >= 1 and .owner_slot >= 1)' <<<"$st" >/dev/null ||
		xm_fail "status does not list $n (pid $pid): $st"
done
list=$(cli list "$xmd_dev" -j)
for spec in "udp 7000 udp" "tcp 7100 tcp" "tcp 8080 http"; do
	set -- $spec
	jq -e --arg pr "$1" --argjson po "$2" --argjson pid "${xmd_pids[$3]}" \
		'.bindings[] | select(.proto == $pr and .port == $po and .owner_pid == $pid
		 and .state == "live" and .owner_comm != "-")' <<<"$list" >/dev/null ||
		xm_fail "list: $1/$2 not owned by ${xmd_pids[$3]}: $list"
done
slots=$(jq -r '[.bindings[].owner_slot] | unique | length' <<<"$list")
xm_expect_eq "$slots" 3 "distinct owner slots"

xm_step "all three at once: UDP echo, a 64 MiB TCP echo, a 32 MiB download"
head -c $((64 << 20)) /dev/urandom >"$xmd_logs/tcp.in"
xm_in "$xmd_peer" timeout 120 socat -t 60 - "TCP:$XM_A4:7100" <"$xmd_logs/tcp.in" \
	>"$xmd_logs/tcp.out" 2>"$xmd_logs/tcp.err" &
tcp_job=$!
xm_in "$xmd_peer" timeout 120 curl -sS -o "$xmd_logs/big.got" \
	"http://$XM_A4:8080/big.bin" 2>"$xmd_logs/curl.err" &
curl_job=$!
for size in 1 1400; do
	for fam in "UDP4:$XM_A4" "UDP6:[$XM_A6]"; do
		want=$(head -c "$size" /dev/zero | tr '\0' x)
		got=$(printf %s "$want" | xm_in "$xmd_peer" socat -t 2 - "$fam:7000")
		xm_expect_eq "$got" "$want" "UDP echo of $size bytes over $fam"
	done
done
wait $tcp_job || xm_fail "TCP echo: $(cat "$xmd_logs/tcp.err")"
wait $curl_job || xm_fail "curl: $(cat "$xmd_logs/curl.err")"
cmp -s "$xmd_logs/tcp.in" "$xmd_logs/tcp.out" || xm_fail "TCP echo not byte-identical: $(ls -l "$xmd_logs"/tcp.*; cmp "$xmd_logs/tcp.in" "$xmd_logs/tcp.out"; cat "$xmd_logs/tcp.err"; grep -v stack "$xmd_logs/tcp.log")"
cmp -s "$root/big.bin" "$xmd_logs/big.got" || xm_fail "download not byte-identical"
xmd_frames_balance

xm_step "sixteen programs: thirteen more echo servers, each answers its own port"
for i in $(seq 1 13); do
	xmd_prog "u$i" $user xdpmux-echo --udp $((7000 + i))
done
xm_expect_eq "$(xmd_clients)" 16 "programs the daemon serves"
for i in $(seq 1 13); do
	got=$(echo "to $i" | xm_in "$xmd_peer" socat -t 2 - "UDP4:$XM_A4:$((7000 + i))")
	xm_expect_eq "$got" "to $i" "echo from program $i of 16"
done
got=$(echo again | xm_in "$xmd_peer" socat -t 2 - "UDP4:$XM_A4:7000")
xm_expect_eq "$got" again "the first program still echoes among sixteen"
xmd_frames_balance

xm_step "each program's counters show only its own traffic"
for n in udp tcp http $(seq -f 'u%g' 1 13); do
	kill -TERM "${xmd_pids[$n]}"
	xmd_wait_gone "${xmd_pids[$n]}" 10
done
grep -q "none leaked" "$xmd_logs/udp.log" || xm_fail "udp echo: $(cat "$xmd_logs/udp.log")"
grep -q "stack.tcp_segs_in 0$" "$xmd_logs/udp.log" || xm_fail "the UDP program saw TCP"
grep -q "stack.rx_no_socket 0$" "$xmd_logs/udp.log" || xm_fail "the UDP program saw foreign ports"
grep -q "stack.rx_no_socket 0$" "$xmd_logs/tcp.log" || xm_fail "the TCP echo saw foreign ports"
grep -q "rx $((64 << 20)) bytes tx $((64 << 20)) bytes" "$xmd_logs/tcp.log" ||
	xm_fail "TCP echo counters: $(grep tcp/7100 "$xmd_logs/tcp.log")"
grep -q "udp/7001  rx 1 " "$xmd_logs/u1.log" || xm_fail "program 1 counters: $(cat "$xmd_logs/u1.log")"
xm_expect_eq "$(xmd_clients)" 0 "programs left"
xm_expect_eq "$(cli list "$xmd_dev" -j | jq '.bindings | length')" 0 "bindings left"
xmd_frames_balance

xm_step "SIGTERM: the daemon exits 0, removes its socket, detaches what it attached"
kill -TERM "$xmd_pid"
wait "$xmd_pid"; rc=$?
xm_expect_eq "$rc" 0 "xdpmuxd exit status"
[ -e "/run/xdpmux/$xmd_dev.sock" ] && xm_fail "socket left behind"
xm_expect_eq "$(cli status "$xmd_dev" -j | jq -r '.devices[0].attached')" false "attached after exit"
echo PASS
