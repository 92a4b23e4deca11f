# shellcheck shell=bash
# Shared helpers for the benchmarks (bench/bench_*.sh). Source it first:
#
#   . "$(dirname "$0")/lib.sh"
#
# ADDING A BENCHMARK (UDP echo/rx, TCP bulk, HTTP, ...): create
# bench/bench_NAME.sh; nothing else to register. `make bench` (bench/run.sh)
# runs every bench/bench_*.sh in name order, each in its own bash process
# with a 900 s limit, its output in BUILD/bench-logs/NAME.log (shown when it
# fails); `bench/run.sh BUILD [--quick] NAME` runs just that one. A script:
#
#   #!/usr/bin/env bash
#   # What it measures, against which baseline, and the target.
#   . "$(dirname "$0")/lib.sh"
#   command -v nginx >/dev/null || bench_skip "nginx is not installed"
#   secs=$(bench_pick 10 2)                       # full / quick
#   xm_netns_pair xm-b-http-a xm-b-http-b xmbh0a xmbh0b 203
#   ...   # run the kernel baseline and xdpmux alternately, several rounds
#   bench_record http_req_per_s req/s "$(bench_median "${mux[@]}")" \
#       "$(bench_median "${kern[@]}")" nginx_1_worker true 0.8
#
# Rules of the house:
#   - Measure xdpmux and its baseline in the same run, in short rounds that
#     alternate between them, and record medians: the machine is shared and
#     its speed drifts 2-3x within a minute; alternation puts the drift on
#     both sides. Log every raw sample (stderr/stdout go to the log).
#   - Record with bench_record; names are stable across commits (DESIGN.md
#     lists the required ones). A missed target is shown in the table, never
#     an error: exit non-zero only when the bench could not measure.
#   - Quick mode (bench_quick) must keep the whole `make bench QUICK=1` under
#     about a minute; the full run under about five.
#   - Namespaces xm-b-NAME-{a,b}, veth devices xmbX0{a,b} (<= 15 chars, unique
#     to the script), and a subnet of your own (198.18.SUBNET.0/24,
#     2001:db8:SUBNET::/64). Taken: 201 kernel_tcp. Suggested: 202 udp,
#     203 http, 204 tcp_bulk, 205 xdp_cost. Cleanup is automatic (xm_netns_pair's trap).
#
# Environment set by run.sh (defaults apply when a bench script is run on
# its own, e.g. `bash bench/bench_xdp_cost.sh`):
#   XM_BUILD         absolute build dir (default <repo>/build)
#   XM_TOP           repo root
#   XM_QUICK         1 for the short run (`make bench QUICK=1`), else 0
#   XM_BENCH_JSONL   where records go (default $XM_BUILD/bench.jsonl)
#
# Namespaces, veth pairs and their cleanup come from the selftests' helpers
# (tests/selftests/lib.sh, sourced here): xm_netns_pair, xm_in, xm_cli,
# xm_on_exit, xm_wait_port, xm_fail, xm_step.
#
#   bench_record NAME UNIT XDPMUX BASELINE BASELINE_NAME HIGHER_IS_BETTER [TARGET]
#       Append one measure to $XM_BENCH_JSONL. HIGHER_IS_BETTER is true or
#       false; ratio = XDPMUX / BASELINE. TARGET is the bound on the ratio:
#       a minimum when higher is better, a maximum otherwise (omit it for a
#       figure reported for information only). Names are stable across
#       commits: never rename one.
#       Each record goes into BUILD/bench.json as {name, unit, xdpmux,
#       baseline, baseline_name, ratio, higher_is_better}.
#   bench_skip MSG       the bench cannot run here (a tool is missing, ...):
#       print MSG and exit 77; run.sh reports it as skipped, not failed.
#   bench_quick          true in quick mode.
#   bench_pick FULL QUICK   print FULL, or QUICK in quick mode.
#   bench_median V...    print the median of the numbers.
#   bench_nginx NS DIR ROOT PORT [HTTP_LINES]   start nginx, one worker, in
#       namespace NS (config and temp files in DIR), serving ROOT on PORT;
#       HTTP_LINES go into its http block. Returns once the port listens.
#   bench_xdp_attach NS DEV MODE [OBJ SEC]
#       Attach an XDP program to DEV in NS; MODE auto|native|generic.
#       Without OBJ: the demultiplexer through the CLI ($XM_BUILD/xdpmux
#       attach, so pins persist) when the CLI is built, else through
#       `ip link ... obj $XM_BUILD/bpf/xdpmux.bpf.o sec xdp.frags`
#       (auto chosen as the CLI does: generic on veth, else native).
#       With OBJ/SEC: that object, through ip link.
#       Prints how it attached ("cli auto -> generic", "ip drv pass_only.bpf.o
#       xdp.frags", ...).
#   bench_xdp_detach NS DEV
#       Remove whatever XDP program bench_xdp_attach put on DEV.
#   bench_iperf_tcp NS_CLIENT SERVER_ADDR SECONDS
#       One TCP iperf3 run from NS_CLIENT to an iperf3 server at
#       SERVER_ADDR:5201 already running; prints the receiver's Gbit/s.

XM_TOP=${XM_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
XM_BUILD=${XM_BUILD:-$XM_TOP/build}
XM_QUICK=${XM_QUICK:-0}
XM_BENCH_JSONL=${XM_BENCH_JSONL:-$XM_BUILD/bench.jsonl}
export XM_TOP XM_BUILD XM_QUICK XM_BENCH_JSONL

# shellcheck source=../tests/selftests/lib.sh
. "$XM_TOP/tests/selftests/lib.sh"

bench_quick() {
	[ "$XM_QUICK" = 1 ]
}

bench_skip() {
	echo "SKIP: $*"
	exit 77
}

bench_pick() {
	if bench_quick; then echo "$2"; else echo "$1"; fi
}

bench_median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR == 0) exit 1
		      if (NR % 2) print v[(NR + 1) / 2]
		      else printf "%.4g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

_bench_is_number() {
	[[ $1 =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]
}

bench_record() {
	local name=$1 unit=$2 mux=$3 base=$4 base_name=$5 hib=$6 target=${7:-}
	local ratio

	[ $# -ge 6 ] || xm_fail "bench_record: needs NAME UNIT XDPMUX BASELINE BASELINE_NAME HIGHER_IS_BETTER"
	_bench_is_number "$mux" || xm_fail "bench_record $name: xdpmux value '$mux' is not a number"
	_bench_is_number "$base" || xm_fail "bench_record $name: baseline value '$base' is not a number"
	case $hib in true|false) ;; *) xm_fail "bench_record $name: HIGHER_IS_BETTER '$hib'" ;; esac
	[ -z "$target" ] || _bench_is_number "$target" || xm_fail "bench_record $name: target '$target'"
	ratio=$(awk -v a="$mux" -v b="$base" 'BEGIN { if (b == 0) print "null"; else printf "%.4f\n", a / b }')
	jq -cn --arg name "$name" --arg unit "$unit" --argjson x "$mux" --argjson b "$base" \
		--arg bn "$base_name" --argjson r "$ratio" --argjson h "$hib" \
		--argjson t "${target:-null}" \
		'{name: $name, unit: $unit, xdpmux: $x, baseline: $b, baseline_name: $bn,
		  ratio: $r, higher_is_better: $h, target: $t}' >>"$XM_BENCH_JSONL" ||
		xm_fail "bench_record $name: cannot write $XM_BENCH_JSONL"
	printf 'recorded %s: xdpmux %s %s, %s %s, ratio %s\n' "$name" "$mux" "$unit" \
		"$base_name" "$base" "$ratio"
}

# The CLI can attach when it is built and knows the subcommand.
_bench_have_cli() {
	[ -x "$XM_BUILD/xdpmux" ] && "$XM_BUILD/xdpmux" attach --help >/dev/null 2>&1
}

bench_xdp_attach() {
	local ns=$1 dev=$2 mode=$3 obj=${4:-} sec=${5:-xdp.frags} how

	if [ -z "$obj" ] && _bench_have_cli; then
		how=$(xm_cli "$ns" attach "$dev" --mode "$mode" 2>&1) ||
			xm_fail "xdpmux attach $dev --mode $mode: $how"
		# "DEV: attached in generic mode": what auto resolved to.
		how=$(sed -n 's/.*attached in \([a-z]*\) mode.*/\1/p' <<<"$how")
		echo "cli $mode${how:+ -> $how}"
		return
	fi
	obj=${obj:-$XM_BUILD/bpf/xdpmux.bpf.o}
	[ -f "$obj" ] || xm_fail "no BPF object $obj: build first"
	# auto as the CLI chooses it: generic on veth (native XDP there turns
	# TSO off on the peer, which more than halves kernel TCP), else native.
	if [ "$mode" = auto ]; then
		mode=native
		ip -n "$ns" -d link show dev "$dev" | grep -qw veth && mode=generic
	fi
	case $mode in
	native) how=xdpdrv ;;
	generic) how=xdpgeneric ;;
	*) xm_fail "bench_xdp_attach: mode '$mode'" ;;
	esac
	ip -n "$ns" link set dev "$dev" "$how" obj "$obj" sec "$sec" >&2 ||
		xm_fail "ip link set $dev $how obj $obj sec $sec"
	echo "ip ${how#xdp} $(basename "$obj") $sec"
}

bench_xdp_detach() {
	local ns=$1 dev=$2 out

	if _bench_have_cli && [ -d "$XM_PINS/$dev" ]; then
		out=$(xm_cli "$ns" detach "$dev" 2>&1) || xm_fail "xdpmux detach $dev: $out"
	fi
	# Whatever ip link (or a failed detach) left behind.
	ip -n "$ns" link set dev "$dev" xdpgeneric off 2>/dev/null
	ip -n "$ns" link set dev "$dev" xdpdrv off 2>/dev/null
	if ip -n "$ns" -d link show dev "$dev" | grep -q 'prog/xdp'; then
		xm_fail "an XDP program is still attached to $dev"
	fi
}

bench_iperf_tcp() {
	local ns=$1 addr=$2 secs=$3 out bps

	out=$(xm_in "$ns" iperf3 -c "$addr" -p 5201 -t "$secs" -J 2>&1) ||
		xm_fail "iperf3 -c $addr -t $secs: $(echo "$out" | jq -r '.error? // empty' 2>/dev/null || echo "$out")"
	bps=$(echo "$out" | jq -r '.end.sum_received.bits_per_second') ||
		xm_fail "iperf3: unreadable JSON output"
	_bench_is_number "$bps" || xm_fail "iperf3: no receiver throughput in its output"
	awk -v b="$bps" 'BEGIN { printf "%.3f\n", b / 1e9 }'
}

bench_nginx() {
	local ns=$1 dir=$2 root=$3 port=$4 extra=${5:-}

	command -v nginx >/dev/null || xm_fail "nginx is missing: run scripts/install-deps.sh"
	mkdir -p "$dir" || xm_fail "mkdir $dir"
	cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on;
	$extra
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	server {
		listen $port;
		root $root;
	}
}
EOF
	xm_in "$ns" nginx -c "$dir/nginx.conf" -p "$dir" >"$dir/nginx.log" 2>&1 &
	xm_wait_port "$ns" tcp "$port"
}
