#!/usr/bin/env bash
# HTTP through xdpmux vs the kernel: wrk (in the peer namespace) against
# xdpmux-httpd and against nginx with one worker, both serving the same
# 1 KiB file from the same device of the same veth pair (xdpmux attached
# --mode generic; nginx's port is not bound, so the kernel serves it):
#   http_req_per_s  keep-alive requests per second (wrk -c 32, one thread)
#   tcp_conn_per_s  one request per connection ("Connection: close": each
#                   request is connect, GET, close), requests per second
# Rounds alternate the two servers so machine noise lands on both; medians
# are recorded. Every wrk run is bounded by a timeout; a run that fails or
# completes no request is reported ("skip: ...") and not recorded.
. "$(dirname "$0")/lib.sh"

ns_x=xm-h-http-x ns_k=xm-h-http-k dev_x=xmhw0x dev_k=xmhw0k
secs=$(bench_pick 10 3)
rounds=$(bench_pick 3 1)
httpd=$XM_BUILD/xdpmux-httpd
[ -x "$httpd" ] || xm_fail "no $httpd: build first"
for tool in wrk nginx; do
	command -v $tool >/dev/null || xm_fail "$tool is missing: run scripts/install-deps.sh"
done

xm_netns_pair "$ns_x" "$ns_k" "$dev_x" "$dev_k" 153
# The client makes thousands of short connections: let it reuse TIME-WAIT ports.
xm_in "$ns_k" sysctl -qw net.ipv4.tcp_tw_reuse=1
work=$(mktemp -d /tmp/xm-h-httpb.XXXXXX)
xm_on_exit "rm -rf '$work'"
mkdir -p "$work/root"
head -c 1024 /dev/urandom >"$work/root/1k.bin"
# nginx's worker runs as nobody/www-data: let it read the file.
chmod a+rx "$work" "$work/root" && chmod a+r "$work/root/1k.bin"
bench_xdp_attach "$ns_x" "$dev_x" generic >/dev/null
xm_on_exit "bench_xdp_detach $ns_x $dev_x"

skip() {
	echo "skip: $*"
}

xm_step "start xdpmux-httpd (tcp/8080) and nginx, one worker (tcp/8081), in $ns_x"
nsenter --net="/run/netns/$ns_x" "$httpd" "$dev_x" --port 8080 --root "$work/root" \
	>"$work/httpd.log" 2>&1 &
hpid=$!
# As xdpmux-httpd keeps a file served open for 1 s (--file-cache-ms).
bench_nginx "$ns_x" "$work/nginx" "$work/root" 8081 "open_file_cache max=1000 inactive=20s;
	open_file_cache_valid 1s;
	keepalive_requests 1000000;"
for _ in $(seq 50); do grep -q serving "$work/httpd.log" && break; sleep 0.1; done
grep -q serving "$work/httpd.log" || xm_fail "xdpmux-httpd: $(cat "$work/httpd.log")"

# rps PORT [WRK ARGS...]: requests per second of one wrk run, or fail.
rps() {
	local port=$1 out r; shift
	out=$(xm_in "$ns_k" timeout $((secs + 30)) wrk -t1 -c32 -d"${secs}s" --timeout 5s "$@" \
		"http://$XM_A4:$port/1k.bin" 2>&1) || { echo "wrk: $out" >&2; return 1; }
	echo "$out" | grep -E "Non-2xx|Socket errors" | sed "s|^ *|  tcp/$port: |" >&2
	r=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
	awk -v r="$r" 'BEGIN { exit !(r > 0) }' || { echo "wrk: no request completed: $out" >&2; return 1; }
	echo "$r"
}

xm_step "warm-up"
rps 8080 >/dev/null 2>&1
rps 8081 >/dev/null 2>&1

measure() {
	local name=$1; shift
	local x=() k=() v r
	xm_step "$name: $rounds round(s) of $secs s"
	for r in $(seq "$rounds"); do
		if v=$(rps 8080 "$@"); then x+=("$v"); else skip "$name xdpmux-httpd round $r"; fi
		if v=$(rps 8081 "$@"); then k+=("$v"); else skip "$name nginx round $r"; fi
		echo "round $r: xdpmux-httpd ${x[*]:-} nginx ${k[*]:-} req/s"
	done
	if [ ${#x[@]} -gt 0 ] && [ ${#k[@]} -gt 0 ]; then
		bench_record "$name" req/s "$(bench_median "${x[@]}")" "$(bench_median "${k[@]}")" \
			nginx_1_worker true
	else
		skip "$name: no successful round on both servers"
	fi
}

measure http_req_per_s
measure tcp_conn_per_s -H "Connection: close"

kill -TERM $hpid
wait $hpid || echo "xdpmux-httpd exit status $?"
cat "$work/httpd.log"
