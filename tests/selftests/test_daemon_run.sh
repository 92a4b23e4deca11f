#!/usr/bin/env bash
# Two unmodified programs under `xdpmux run`, without capabilities, share one
# device through xdpmuxd beside a program built on libxdpmux: socat as a TCP
# echo server and Python's http.server, kernel clients in the peer
# namespace, transfers checked byte for byte, each program's port steered
# to its own socket (the daemon lists all three), the device's redirect
# counter grown by the traffic.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"

xmd_setup xm-drun-a xm-drun-b xmdua xmdub 94
[ -f "$XM_BUILD/libxdpmux-preload.so" ] || xm_fail "no libxdpmux-preload.so: build first"
user=nobody
cli() { xm_cli "$xmd_ns" "$@"; }
redirected() { cli stats "$xmd_dev" -j | jq -r '.devices[0].counters.redirect.bytes'; }
# run_as NAME CMD...: `xdpmux run` as $user in the background, pid in xmd_pids.
run_as() {
	local name=$1
	shift
	nsenter --net="/run/netns/$xmd_ns" setpriv --reuid=$user --regid="$(id -gn $user)" \
		--clear-groups --inh-caps=-all --bounding-set=-all \
		"$XM_BUILD/xdpmux" run "$xmd_dev" -- "$@" >"$xmd_logs/$name.log" 2>&1 &
	xmd_pids[$name]=$!
}

xm_step "xdpmuxd; $user may bind 7100 and 8080 and 7000"
xmd_start --allow "$user:7000,7100,8080"
www=$xmd_logs/www
mkdir -p "$www" && chmod 755 "$www"
head -c $((16 << 20)) /dev/urandom >"$www/blob" && chmod 644 "$www/blob"

run_as socat socat TCP6-LISTEN:7100,reuseaddr,ipv6only=0 SYSTEM:cat
run_as http python3 -m http.server 8080 --bind :: --directory "$www"
xmd_prog echo $user xdpmux-echo --udp 7000
for p in 7100 8080; do
	for i in $(seq 100); do
		[ "$(cli list "$xmd_dev" -j | jq --argjson p $p '[.bindings[] | select(.port == $p)] | length')" = 1 ] && break
		sleep 0.1
	done
done
xm_expect_eq "$(xmd_clients)" 3 "programs the daemon serves"
xmd_status | jq -e '[.devices[0].daemon.clients[].program] | sort == ["python3", "socat", "xdpmux-echo"]' \
	>/dev/null || xm_fail "status: $(xmd_status | jq -c '.devices[0].daemon.clients')"

xm_step "a 16 MiB download from http.server and a 16 MiB TCP echo through socat, at once"
before=$(redirected)
head -c $((16 << 20)) /dev/urandom >"$xmd_logs/tcp.in"
xm_in "$xmd_peer" timeout 120 socat -t 60 - "TCP:$XM_A4:7100" <"$xmd_logs/tcp.in" \
	>"$xmd_logs/tcp.out" 2>"$xmd_logs/tcp.err" &
tcp_job=$!
xm_in "$xmd_peer" timeout 120 curl -sS -o "$xmd_logs/blob.got" "http://[$XM_A6]:8080/blob" \
	2>"$xmd_logs/curl.err" || xm_fail "curl: $(cat "$xmd_logs/curl.err" "$xmd_logs/http.log")"
wait $tcp_job || xm_fail "TCP echo: $(cat "$xmd_logs/tcp.err" "$xmd_logs/socat.log")"
cmp -s "$www/blob" "$xmd_logs/blob.got" || xm_fail "download not byte-identical"
cmp -s "$xmd_logs/tcp.in" "$xmd_logs/tcp.out" || xm_fail "TCP echo not byte-identical"
got=$(echo beside | xm_in "$xmd_peer" socat -t 2 - "UDP4:$XM_A4:7000")
xm_expect_eq "$got" beside "the libxdpmux program's echo beside them"
after=$(redirected)
# The echo's 16 MiB upload comes in through the demultiplexer (as TSO
# superpackets: count bytes, not packets).
[ $((after - before)) -ge $((16 << 20)) ] ||
	xm_fail "redirected bytes grew by $((after - before)) only: the traffic did not go through xdpmux"
xmd_frames_balance

xm_step "they exit; their bindings go, their frames come back"
kill -TERM "${xmd_pids[http]}" "${xmd_pids[echo]}" 2>/dev/null
xmd_wait_gone "${xmd_pids[http]}" 10
xmd_wait_gone "${xmd_pids[socat]}" 10   # socat ends with its one connection
xmd_wait_gone "${xmd_pids[echo]}" 10
for i in $(seq 50); do
	[ "$(xmd_clients)" = 0 ] && break
	sleep 0.1
done
xm_expect_eq "$(xmd_clients)" 0 "programs left"
xm_expect_eq "$(cli list "$xmd_dev" -j | jq '.bindings | length')" 0 "bindings left"
xmd_frames_balance
echo PASS
