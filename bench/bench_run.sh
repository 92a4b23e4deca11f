#!/usr/bin/env bash
# Unmodified Debian programs under `xdpmux run` against the same programs
# on the kernel, on the same device of the same veth pair, in the same run
# (xdpmux attached --mode generic; the kernel instances' ports are not
# bound, so the kernel serves them). Rounds alternate the two instances so
# machine noise lands on both; medians are recorded:
#   redis_req_per_s      redis-benchmark (50 clients) SET and GET, the mean
#                        of the two, against redis-server; target 1.5x
#   nginx_run_req_per_s  wrk -c32 keep-alive GETs of a 1 KiB file against
#                        nginx, one process (master_process off), sendfile;
#                        target 1.5x
#   iperf3_run_gbit      kernel iperf3 client -> iperf3 -s (TCP), Gbit/s
# Placement: with two CPUs or more, every server (xdpmux run and kernel
# alike) runs on CPU 1 and every client on CPU 0 (taskset), so the two sides
# never take turns on one core and both instances get the same share; the
# kernel's receive work runs in the sender's context on either path.
. "$(dirname "$0")/lib.sh"

ns_x=xm-b-run-a ns_k=xm-b-run-b dev_x=xmbr0a dev_k=xmbr0b
secs=$(bench_pick 5 2)
rounds=$(bench_pick 3 1)
requests=$(bench_pick 200000 30000)
for tool in wrk nginx redis-server redis-benchmark iperf3; do
	command -v $tool >/dev/null || bench_skip "$tool is missing: run scripts/install-deps.sh"
done
[ -f "$XM_BUILD/libxdpmux-preload.so" ] || xm_fail "no $XM_BUILD/libxdpmux-preload.so: build first"
srv_cpu=() cli_cpu=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	srv_cpu=(taskset -c 1) cli_cpu=(taskset -c 0)
fi

xm_netns_pair "$ns_x" "$ns_k" "$dev_x" "$dev_k" 229
work=$(mktemp -d /tmp/xm-b-run.XXXXXX)
xm_on_exit "rm -rf '$work'"
bench_xdp_attach "$ns_x" "$dev_x" generic >/dev/null
xm_on_exit "bench_xdp_detach $ns_x $dev_x"

skip() {
	echo "skip: $*"
}
# start_pair NAME CMD...: CMD under xdpmux run (its port: the first of
# the pair) and on the kernel; CMD's words may use @PORT@ and @I@ (x, k).
start_pair() {
	local name=$1 i port; shift
	for i in x k; do
		if [ $i = x ]; then port=$xport; else port=$kport; fi
		local args=("${@//@PORT@/$port}")
		args=("${args[@]//@I@/$i}")
		if [ $i = x ]; then
			XDPMUX_DEBUG=1 nsenter --net="/run/netns/$ns_x" "${srv_cpu[@]}" \
				"$XM_BUILD/xdpmux" run "$dev_x" -- \
				"${args[@]}" >"$work/$name-$i.log" 2>&1 &
		else
			nsenter --net="/run/netns/$ns_x" "${srv_cpu[@]}" "${args[@]}" \
				>"$work/$name-$i.log" 2>&1 &
		fi
	done
	for _ in $(seq 100); do
		grep -qE "tcp listen .*:$xport: xdpmux" "$work/$name-x.log" && break
		sleep 0.1
	done
	grep -qE "tcp listen .*:$xport: xdpmux" "$work/$name-x.log" ||
		xm_fail "$name under xdpmux run: $(cat "$work/$name-x.log")"
	xm_wait_port "$ns_x" tcp "$kport"
}
# alternate NAME UNIT BASELINE_NAME TARGET FN: FN PORT prints one sample.
alternate() {
	local name=$1 unit=$2 base=$3 target=$4 fn=$5 x=() k=() v r
	xm_step "$name: $rounds round(s)"
	$fn "$xport" >/dev/null 2>&1
	$fn "$kport" >/dev/null 2>&1
	for r in $(seq "$rounds"); do
		if v=$($fn "$xport"); then x+=("$v"); else skip "$name xdpmux round $r"; fi
		if v=$($fn "$kport"); then k+=("$v"); else skip "$name kernel round $r"; fi
		echo "round $r: xdpmux run ${x[*]:-} kernel ${k[*]:-} $unit"
	done
	if [ ${#x[@]} -gt 0 ] && [ ${#k[@]} -gt 0 ]; then
		bench_record "$name" "$unit" "$(bench_median "${x[@]}")" "$(bench_median "${k[@]}")" \
			"$base" true $target
	else
		skip "$name: no successful round on both"
	fi
}

# ---- redis ----
redis_rps() {
	local out
	out=$(xm_in "$ns_k" timeout 120 "${cli_cpu[@]}" redis-benchmark -h "$XM_A4" -p "$1" -t set,get \
		-n "$requests" -q 2>&1 | tr '\r' '\n') || { echo "redis-benchmark: $out" >&2; return 1; }
	echo "$out" | grep -E "requests per second" >&2
	echo "$out" | awk '/^(SET|GET): [0-9.]+ requests per second/ { s += $2; n++ }
		END { if (n != 2) exit 1; printf "%.0f\n", s / 2 }'
}
xport=6379 kport=6380
start_pair redis redis-server --port @PORT@ --bind 0.0.0.0 --protected-mode no --save "" \
	--appendonly no --dir "$work" --dbfilename dump-@I@.rdb --daemonize no
alternate redis_req_per_s req/s redis_kernel 1.5 redis_rps
xm_in "$ns_k" redis-cli -h "$XM_A4" -p $xport shutdown nosave >/dev/null 2>&1
xm_in "$ns_k" redis-cli -h "$XM_A4" -p $kport shutdown nosave >/dev/null 2>&1

# ---- nginx ----
mkdir -p "$work/root" "$work/tmp-x" "$work/tmp-k"
head -c 1024 /dev/urandom >"$work/root/1k.bin"
for i in x k; do
	if [ $i = x ]; then port=8080; else port=8081; fi
	cat >"$work/nginx-$i.conf" <<NGINX
master_process off;
daemon off;
worker_processes 1;
pid $work/nginx-$i.pid;
error_log $work/nginx-$i.err;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	open_file_cache max=1000 inactive=20s;
	open_file_cache_valid 1s;
	keepalive_requests 1000000;
	client_body_temp_path $work/tmp-$i;
	proxy_temp_path $work/tmp-$i;
	fastcgi_temp_path $work/tmp-$i;
	uwsgi_temp_path $work/tmp-$i;
	scgi_temp_path $work/tmp-$i;
	server {
		listen $port;
		root $work/root;
	}
}
NGINX
done
nginx_rps() {
	local out r
	out=$(xm_in "$ns_k" timeout $((secs + 30)) "${cli_cpu[@]}" wrk -t1 -c32 -d"${secs}s" --timeout 5s \
		"http://$XM_A4:$1/1k.bin" 2>&1) || { echo "wrk: $out" >&2; return 1; }
	echo "$out" | grep -E "Non-2xx|Socket errors" >&2
	r=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
	awk -v r="$r" 'BEGIN { exit !(r > 0) }' || { echo "wrk: $out" >&2; return 1; }
	echo "$r"
}
xport=8080 kport=8081
start_pair nginx nginx -c "$work/nginx-@I@.conf"
alternate nginx_run_req_per_s req/s nginx_kernel 1.5 nginx_rps
kill -TERM "$(cat "$work/nginx-x.pid")" "$(cat "$work/nginx-k.pid")"

# ---- iperf3 ----
iperf_gbit() {
	local out
	out=$(xm_in "$ns_k" timeout $((secs + 30)) "${cli_cpu[@]}" iperf3 -c "$XM_A4" -p "$1" -t "$secs" -J 2>&1) ||
		{ echo "iperf3: $out" >&2; return 1; }
	echo "$out" | jq -e '.end.sum_received.bits_per_second / 1e9 * 1000 | floor / 1000'
}
xport=5201 kport=5202
start_pair iperf3 iperf3 -s -p @PORT@
alternate iperf3_run_gbit Gbit/s iperf3_kernel "" iperf_gbit
