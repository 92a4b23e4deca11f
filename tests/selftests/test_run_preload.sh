#!/usr/bin/env bash
# Unmodified programs from Debian under `xdpmux run`, against kernel peers in
# the other namespace; each transfer is checked end to end, and the device's
# "redirect" counter (xdpmux stats) must grow by at least the transfer's
# packets, so the traffic went through xdpmux and not the kernel:
#  - socat as a TCP server (SYSTEM:cat echo) with tcp_stream -e as the
#    kernel client: the echo is exactly the $XM_RUN_MIB MiB sent;
#  - socat as a TCP client (active open), sending to and receiving from
#    kernel socat: tcp_stream -c checks the bytes;
#  - curl downloading a file from a kernel HTTP server over IPv4 and IPv6
#    (sha256);
#  - iperf3 -s with the kernel iperf3 client: TCP both ways (-R) and UDP,
#    the client's own report;
#  - redis-server: redis-cli values read back (one of 1 MiB), redis-benchmark
#    SET/GET with a BGSAVE (a fork) in the middle that succeeds while the
#    clients keep going;
#  - nginx, one process (master_process off), sendfile and tcp_nopush on:
#    a $XM_RUN_NGINX_MIB MiB file (default 1024) by curl, sha256 checked,
#    and wrk with no error and no non-2xx answer;
#  - a Python program (its socket module calls libc as any C program does):
#    a signal ends a blocking recvfrom (EINTR); a forked child using an
#    inherited xdpmux socket gets EBADF and a message, and closes it
#    without harm to the parent; two threads serve a UDP and a TCP socket
#    at once; dup and close of a moved socket;
#  - a socket put in an epoll set before its connect moved it stays in the
#    set (non-blocking connect, EPOLLOUT, then EPOLLIN after MOD);
#  - exec: a program that moved a socket execs socat, which binds the same
#    port on a stack of its own and receives on it (then idles out: -T 2);
#  - a reply sent after a poll that returned leaves though the program
#    then sleeps (time.sleep) or blocks reading a pipe nobody writes,
#    without calling the library again;
#  - SA_RESTART: a blocking recv restarts after a handler installed with
#    it and fails with EINTR after one without (tools/sig_restart);
#  - tools/sock_features, run on the kernel (the oracle) and then under
#    xdpmux run, each against its peer mode in the other namespace:
#    FIONREAD/SIOCINQ, SIOCOUTQ/SIOCOUTQNSD, TCP_INFO (and a short optlen),
#    MSG_PEEK/MSG_TRUNC/MSG_WAITALL, TCP_QUICKACK, TCP_DEFER_ACCEPT,
#    SO_PRIORITY, IP_TOS, IP_TTL; SO_REUSEPORT (two TCP listeners and two
#    UDP sockets on one port each get some of 64 flows, a third socket
#    without it EADDRINUSE); UDP ancillary data (PKTINFO in and out on a
#    wildcard server, IPv4 and IPv6, TOS/TCLASS both ways, TTL, receive
#    timestamps, MSG_CTRUNC, EINVAL for an unknown control message);
#    sendfile (offset or file position, past the end, a rewritten and a
#    truncated file, corked after a header, EBADF, EINVAL);
#  - XDPMUX_DEBUG=1 logs the decisions: a wildcard bind moves, a loopback
#    connect stays with the kernel (and works);
#  - no binding is left once each program has exited;
#  - xdpmux run's own errors: exit 2 for usage (no "--", a bad port), 1
#    for a missing device, a device without xdpmux, a missing program.
# xm-vm: skip (libc interposition, and its AF_XDP path is test_daemon_run's in the VM; redis, nginx and 1 GiB are too slow on an emulated CPU)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ns_a=xm-h15run-a ns_b=xm-h15run-b dev_a=xmrun0a dev_b=xmrun0b
xm_netns_pair "$ns_a" "$ns_b" "$dev_a" "$dev_b" 226
for tool in socat curl iperf3 jq python3 redis-server redis-cli redis-benchmark nginx wrk; do
	command -v $tool >/dev/null || xm_fail "no $tool (scripts/install-deps.sh)"
done
stream=$XM_BUILD/tools/tcp_stream
[ -x "$stream" ] || xm_fail "no $stream: build first"
[ -f "$XM_BUILD/libxdpmux-preload.so" ] || xm_fail "no $XM_BUILD/libxdpmux-preload.so: build first"
work=$(mktemp -d /tmp/xm-h15run.XXXXXX)
xm_on_exit "rm -rf '$work'"
mib=${XM_RUN_MIB:-64}
bytes=$((mib << 20))
# A full-sized frame carries at most 1448 bytes of a TCP stream.
min_pkts=$((bytes / 1448))

xm_cli "$ns_a" attach "$dev_a" --mode generic >/dev/null || xm_fail "attach $dev_a"
xm_on_exit "xm_cli $ns_a detach $dev_a"

# redirected [packets|bytes]: the device's redirect counter (default packets).
# Count bytes where the kernel peer sends the stream to xdpmux: at its
# default offloads it sends TSO superpackets of up to 64 KB, so the packets
# are fewer than the stream's segments, but its bytes all come through.
redirected() {
	xm_cli "$ns_a" stats "$dev_a" -j | jq ".devices[0].counters.redirect.${1:-packets}"
}
# expect_redirected BEFORE MIN WHAT [packets|bytes]
expect_redirected() {
	local unit=${4:-packets} now
	now=$(redirected "$unit")
	[ $((now - $1)) -ge "$2" ] ||
		xm_fail "$3: only $((now - $1)) $unit redirected to xdpmux, expected >= $2"
	echo "  $3: $((now - $1)) $unit through xdpmux"
}
no_bindings_left() {
	local n
	n=$(xm_cli "$ns_a" list "$dev_a" -j | jq '.bindings | length')
	xm_expect_eq "$n" 0 "bindings left after $1 exited"
}
# run_a ARGS...: PROGRAM ARGS under xdpmux run in ns_a.
run_a() { xm_in "$ns_a" "$XM_BUILD/xdpmux" run "$dev_a" -- "$@"; }
# wait_listen PORT PID LOG: until the program PID, under xdpmux run with
# XDPMUX_DEBUG=1 (LOG its stderr), listens on PORT on xdpmux.
wait_listen() {
	for _ in $(seq 100); do
		grep -qE "tcp listen .*:$1: xdpmux" "$3" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || xm_fail "server exited: $(cat "$3")"
		sleep 0.1
	done
	xm_fail "no listener on tcp/$1 on xdpmux: $(cat "$3")"
}

xm_step "xdpmux run: usage and errors"
# expect_run STATUS PATTERN ARGS...: xdpmux run ARGS exits STATUS saying PATTERN.
expect_run() {
	local want=$1 pat=$2 out st; shift 2
	out=$(xm_cli "$ns_a" run "$@" 2>&1); st=$?
	xm_expect_eq "$st" "$want" "exit status of xdpmux run $*"
	echo "$out" | grep -q "$pat" || xm_fail "xdpmux run $*: '$out' does not say '$pat'"
}
expect_run 2 "missing '-- PROGRAM" "$dev_a" socat
expect_run 2 "invalid port 'x'" "$dev_a" --ports 80,x -- true
expect_run 1 "no device 'xmnosuch0'" xmnosuch0 -- true
expect_run 1 "not attached to lo" lo -- true
expect_run 1 "cannot run '/nonexistent'" "$dev_a" -- /nonexistent
echo "  usage errors exit 2, failures 1, each with its reason"

xm_step "socat TCP server under xdpmux run, kernel echo client ($mib MiB)"
before=$(redirected bytes)
XDPMUX_DEBUG=1 nsenter --net="/run/netns/$ns_a" "$XM_BUILD/xdpmux" run "$dev_a" -- \
	socat TCP-LISTEN:7001,reuseaddr SYSTEM:cat 2>"$work/socat-s.log" &
spid=$!
wait_listen 7001 $spid "$work/socat-s.log"
grep -q "tcp bind 0.0.0.0:7001: xdpmux (wildcard address)" "$work/socat-s.log" ||
	xm_fail "no decision logged: $(cat "$work/socat-s.log")"
xm_in "$ns_b" timeout 120 "$stream" -e "$XM_A4" 7001 $bytes ||
	xm_fail "echo through socat under xdpmux run: $(cat "$work/socat-s.log")"
wait $spid || xm_fail "socat server: $(cat "$work/socat-s.log")"
expect_redirected "$before" $bytes "socat server" bytes
no_bindings_left "socat server"

xm_step "socat TCP client under xdpmux run: send and receive $mib MiB (active open)"
xm_in "$ns_b" socat -u TCP-LISTEN:7002,reuseaddr STDOUT 2>"$work/sink.err" |
	"$stream" -c $bytes >"$work/sink.out" 2>&1 &
sink=$!
xm_wait_port "$ns_b" tcp 7002
before=$(redirected)
"$stream" $bytes | XDPMUX_DEBUG=1 run_a socat -u STDIN "TCP:$XM_B4:7002" 2>"$work/socat-c.log" ||
	xm_fail "socat client send: $(cat "$work/socat-c.log")"
wait $sink || xm_fail "kernel sink: $(cat "$work/sink.out" "$work/sink.err")"
grep -q "tcp connect $XM_B4:7002: xdpmux (routed out of the device)" "$work/socat-c.log" ||
	xm_fail "no decision logged: $(cat "$work/socat-c.log")"
# the ACKs of the kernel's side are what comes back to xdpmux (the peer
# acknowledges GRO-merged superframes: one ACK per up to 64 KiB or so)
expect_redirected "$before" $((min_pkts / 256)) "socat client send"
"$stream" $bytes | xm_in "$ns_b" socat -u STDIN TCP6-LISTEN:7003,reuseaddr 2>"$work/src.err" &
src=$!
xm_wait_port "$ns_b" tcp 7003
before=$(redirected bytes)
run_a socat -u "TCP:[$XM_B6]:7003" STDOUT 2>"$work/socat-c6.log" | "$stream" -c $bytes ||
	xm_fail "socat client receive over IPv6: $(cat "$work/socat-c6.log" "$work/src.err")"
wait $src
expect_redirected "$before" $bytes "socat client receive (IPv6)" bytes
no_bindings_left "socat client"

xm_step "curl under xdpmux run downloads from a kernel HTTP server"
mkdir -p "$work/www"
"$stream" $bytes >"$work/www/file.bin"
want=$(sha256sum "$work/www/file.bin" | cut -d' ' -f1)
(cd "$work/www" && exec nsenter --net="/run/netns/$ns_b" python3 -m http.server 8081 --bind :: \
	>"$work/http.log" 2>&1) &
xm_wait_port "$ns_b" tcp 8081
for url in "http://$XM_B4:8081/file.bin" "http://[$XM_B6]:8081/file.bin"; do
	before=$(redirected bytes)
	got=$(run_a curl -sS --max-time 120 "$url" 2>"$work/curl.err" | sha256sum | cut -d' ' -f1)
	xm_expect_eq "$got" "$want" "sha256 of $url via curl under xdpmux run ($(cat "$work/curl.err"))"
	expect_redirected "$before" $bytes "curl $url" bytes
done
no_bindings_left "curl"

xm_step "iperf3 -s under xdpmux run, kernel iperf3 client: TCP both ways, UDP"
# nsenter and xdpmux exec: $! is iperf3 itself
XDPMUX_DEBUG=1 nsenter --net="/run/netns/$ns_a" "$XM_BUILD/xdpmux" run "$dev_a" -- \
	iperf3 -s -p 5201 >"$work/iperf-s.log" 2>&1 &
ipid=$!
wait_listen 5201 $ipid "$work/iperf-s.log"
for args in "" "-R" "-u -b 100M"; do
	before=$(redirected)
	# shellcheck disable=SC2086 # args are words
	xm_in "$ns_b" timeout 60 iperf3 -c "$XM_A4" -p 5201 -t 2 $args -J >"$work/iperf-c.json" ||
		xm_fail "iperf3 -c $args: $(jq -r .error "$work/iperf-c.json" 2>/dev/null) $(tail -5 "$work/iperf-s.log")"
	recv=$(jq '.end.sum_received.bytes // .end.sum.bytes' "$work/iperf-c.json")
	[ "${recv:-0}" -gt 0 ] || xm_fail "iperf3 -c $args: nothing received"
	echo "  iperf3 $args: $(jq '(.end.sum_received.bits_per_second // .end.sum.bits_per_second) / 1e9 * 100 | floor / 100' "$work/iperf-c.json") Gbit/s, $recv bytes"
	expect_redirected "$before" 100 "iperf3 $args"
done
kill -INT $ipid
wait $ipid
no_bindings_left "iperf3"

xm_step "redis-server under xdpmux run: redis-cli, redis-benchmark, BGSAVE"
mkdir -p "$work/redis"
XDPMUX_DEBUG=1 nsenter --net="/run/netns/$ns_a" "$XM_BUILD/xdpmux" run "$dev_a" -- \
	redis-server --port 6379 --bind 0.0.0.0 --protected-mode no --save "" \
	--appendonly no --dir "$work/redis" --daemonize no >"$work/redis.log" 2>&1 &
rpid=$!
wait_listen 6379 $rpid "$work/redis.log"
rcli() { xm_in "$ns_b" timeout 30 redis-cli -h "$XM_A4" -p 6379 "$@"; }
xm_expect_eq "$(rcli set greeting "hello xdpmux")" OK "redis SET"
xm_expect_eq "$(rcli get greeting)" "hello xdpmux" "redis GET"
xm_expect_eq "$(rcli incrby counter 41)" 41 "redis INCRBY"
head -c $((1 << 20)) /dev/urandom | base64 -w0 >"$work/big.val"
xm_in "$ns_b" timeout 30 redis-cli -h "$XM_A4" -p 6379 -x set big <"$work/big.val" >/dev/null ||
	xm_fail "redis SET of 1 MiB"
# redis-cli ends the value with a newline
[ "$(rcli get big)" = "$(cat "$work/big.val")" ] || xm_fail "redis GET of 1 MiB: not what was set"
before=$(redirected)
xm_in "$ns_b" timeout 120 redis-benchmark -h "$XM_A4" -p 6379 -t set,get -n 100000 -q \
	>"$work/rb.out" 2>&1 &
rb=$!
sleep 1
xm_expect_eq "$(rcli bgsave)" "Background saving started" "BGSAVE"
wait $rb || xm_fail "redis-benchmark: $(tail -3 "$work/rb.out")"
tr '\r' '\n' <"$work/rb.out" | grep -E "^(SET|GET): [0-9.]+ requests per second" | sed 's/^/  /'
[ "$(tr '\r' '\n' <"$work/rb.out" | grep -cE "^(SET|GET): [0-9.]+ requests per second")" = 2 ] ||
	xm_fail "redis-benchmark: $(tail -3 "$work/rb.out")"
rcli info persistence | tr -d '\r' | grep -q "^rdb_last_bgsave_status:ok" ||
	xm_fail "BGSAVE: $(rcli info persistence)"
[ -s "$work/redis/dump.rdb" ] || xm_fail "BGSAVE wrote no dump.rdb"
xm_expect_eq "$(rcli get greeting)" "hello xdpmux" "redis GET after the benchmark"
expect_redirected "$before" 200000 "redis-benchmark"
rcli shutdown nosave >/dev/null 2>&1
wait $rpid
no_bindings_left "redis-server"

nmib=${XM_RUN_NGINX_MIB:-1024}
xm_step "nginx (one process, sendfile) under xdpmux run: curl $nmib MiB, wrk"
mkdir -p "$work/nginx/root" "$work/nginx/tmp"
"$stream" $((nmib << 20)) >"$work/nginx/root/big.bin"
nwant=$(sha256sum "$work/nginx/root/big.bin" | cut -d' ' -f1)
echo "hello from nginx" >"$work/nginx/root/index.html"
cat >"$work/nginx/nginx.conf" <<NGINX
master_process off;
daemon off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path $work/nginx/tmp;
    proxy_temp_path $work/nginx/tmp;
    fastcgi_temp_path $work/nginx/tmp;
    uwsgi_temp_path $work/nginx/tmp;
    scgi_temp_path $work/nginx/tmp;
    server {
        listen 8080;
        listen [::]:8080;
        root $work/nginx/root;
    }
}
NGINX
XDPMUX_DEBUG=1 nsenter --net="/run/netns/$ns_a" "$XM_BUILD/xdpmux" run "$dev_a" -- \
	nginx -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" >"$work/nginx.log" 2>&1 &
npid=$!
wait_listen 8080 $npid "$work/nginx.log"
before=$(redirected)
got=$(xm_in "$ns_b" timeout 300 curl -sS --max-time 280 "http://$XM_A4:8080/big.bin" 2>"$work/curl.err" |
	sha256sum | cut -d' ' -f1)
xm_expect_eq "$got" "$nwant" "sha256 of $nmib MiB from nginx ($(cat "$work/curl.err"))"
echo "  $nmib MiB, sha256 $nwant"
expect_redirected "$before" $(((nmib << 20) / 1448 / 256)) "nginx download (ACKs)"
xm_expect_eq "$(xm_in "$ns_b" curl -sS "http://[$XM_A6]:8080/index.html")" "hello from nginx" \
	"index.html over IPv6"
before=$(redirected)
xm_in "$ns_b" timeout 60 wrk -t1 -c20 -d2 "http://$XM_A4:8080/index.html" >"$work/wrk.out" 2>&1 ||
	xm_fail "wrk: $(cat "$work/wrk.out")"
grep -E "Requests/sec" "$work/wrk.out" | sed 's/^/  /'
! grep -qE "Socket errors|Non-2xx" "$work/wrk.out" || xm_fail "wrk saw errors: $(cat "$work/wrk.out")"
expect_redirected "$before" 1000 "wrk"
kill -TERM $npid
wait $npid
no_bindings_left "nginx"

xm_step "threads, a signal, a fork (Python under xdpmux run)"
cat >"$work/probe.py" <<'PY'
import os, signal, socket, sys, threading
# Under xdpmux run: threads serving two sockets, a fork whose child can
# only close the sockets, a signal that ends a blocking call.
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("0.0.0.0", 7010))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("0.0.0.0", 7011))
t.listen(8)
print("ready", flush=True)

class Alarm(Exception):
    pass
def on_alarm(sig, frame):
    raise Alarm()
signal.signal(signal.SIGALRM, on_alarm)
signal.setitimer(signal.ITIMER_REAL, 0.3)
try:
    u.recvfrom(100)
    sys.exit("recvfrom returned without data")
except Alarm:
    print("signal ended a blocking recvfrom", flush=True)

pid = os.fork()
if pid == 0:
    try:
        u.recvfrom(100, socket.MSG_DONTWAIT)
        os._exit(3)
    except OSError as e:
        if e.errno != 9:
            os._exit(4)
    u.close()
    t.close()
    os._exit(0)
_, st = os.waitpid(pid, 0)
if st != 0:
    sys.exit("fork child: status %d" % st)
print("fork child got EBADF and closed its copies", flush=True)

def udp_echo():
    for _ in range(3):
        d, a = u.recvfrom(2048)
        u.sendto(d.upper(), a)
def tcp_echo():
    c, _ = t.accept()
    d = b""
    while True:
        x = c.recv(65536)
        if not x:
            break
        d += x
    c.sendall(d[::-1])
    c.close()
th = [threading.Thread(target=udp_echo), threading.Thread(target=tcp_echo)]
for x in th:
    x.start()
for x in th:
    x.join()
d2 = os.dup(u.fileno())
os.set_inheritable(d2, False)
os.close(d2)
print("threads done", flush=True)
PY
nsenter --net="/run/netns/$ns_a" "$XM_BUILD/xdpmux" run "$dev_a" -- \
	python3 "$work/probe.py" >"$work/probe.log" 2>&1 &
ppid_=$!
for _ in $(seq 100); do
	grep -q "fork child got EBADF" "$work/probe.log" && break
	kill -0 $ppid_ 2>/dev/null || xm_fail "probe: $(cat "$work/probe.log")"
	sleep 0.1
done
grep -q "signal ended a blocking recvfrom" "$work/probe.log" || xm_fail "probe: $(cat "$work/probe.log")"
grep -q "a forked child can only close it" "$work/probe.log" ||
	xm_fail "no message for the child's use: $(cat "$work/probe.log")"
for i in 1 2 3; do
	got=$(echo "dgram $i" | xm_in "$ns_b" timeout 5 socat -T2 - "UDP:$XM_A4:7010")
	xm_expect_eq "$got" "DGRAM $i" "UDP echo from the probe's thread"
done &
udp=$!
got=$(printf abcdef | xm_in "$ns_b" timeout 10 socat -t5 - "TCP:$XM_A4:7011")
xm_expect_eq "$got" fedcba "TCP answer from the probe's other thread"
wait $udp || xm_fail "UDP echo from the probe's thread"
wait $ppid_ || xm_fail "probe: $(cat "$work/probe.log")"
grep -q "threads done" "$work/probe.log" || xm_fail "probe: $(cat "$work/probe.log")"
sed 's/^/  /' "$work/probe.log"
no_bindings_left "the probe"

xm_step "epoll: a socket registered before its connect moved it"
xm_echo_server "$ns_b" tcp 7070 &
xm_wait_port "$ns_b" tcp 7070
cat >"$work/ep.py" <<'PY'
import errno, select, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setblocking(False)
ep = select.epoll()
ep.register(s.fileno(), select.EPOLLOUT)      # before the connect moves it
r = s.connect_ex((host, port))
assert r == errno.EINPROGRESS, r
ev = ep.poll(5)
assert ev and ev[0][1] & select.EPOLLOUT, ev
assert s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
s.send(b"registered before connect")
ep.modify(s.fileno(), select.EPOLLIN)
ev = ep.poll(5)
assert ev and ev[0][1] & select.EPOLLIN, ev
print(s.recv(100).decode())
PY
got=$(run_a python3 "$work/ep.py" "$XM_B4" 7070 2>"$work/ep.log") ||
	xm_fail "epoll before connect: $(cat "$work/ep.log")"
xm_expect_eq "$got" "registered before connect" "echo through a socket registered before it moved"
echo "  EPOLLOUT at connect, EPOLLIN for the echo"

xm_step "exec: the new program uses xdpmux again"
cat >"$work/exec.py" <<'PY'
import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 7050))
print("bound, exec", flush=True)
os.execvp("socat", ["socat", "-T", "2", "-u", "UDP-RECV:7050", "STDOUT"])
PY
XDPMUX_DEBUG=1 nsenter --net="/run/netns/$ns_a" "$XM_BUILD/xdpmux" run "$dev_a" -- \
	python3 "$work/exec.py" >"$work/exec.out" 2>"$work/exec.log" &
ex=$!
for _ in $(seq 100); do
	[ "$(grep -c "udp bind 0.0.0.0:7050: xdpmux" "$work/exec.log")" = 2 ] && break
	kill -0 $ex 2>/dev/null || xm_fail "exec: $(cat "$work/exec.log")"
	sleep 0.1
done
[ "$(grep -c "udp bind 0.0.0.0:7050: xdpmux" "$work/exec.log")" = 2 ] ||
	xm_fail "the exec'd program did not move its socket: $(cat "$work/exec.log")"
echo "after exec" | xm_in "$ns_b" socat -u - "UDP:$XM_A4:7050"
wait $ex || xm_fail "socat after exec: $(cat "$work/exec.log")"
xm_expect_eq "$(tail -1 "$work/exec.out")" "after exec" "datagram received after exec"
no_bindings_left "the exec'd socat"

xm_step "a reply sent in an event-loop turn leaves before the program blocks elsewhere"
# The replies of a turn are held until the next wait; a loop that sends and
# then sleeps outside the library (here 60 s), or blocks in a read of a
# kernel fd that never becomes readable, must not keep them.
cat >"$work/tick.py" <<'PY'
import os, select, signal, socket, sys, time
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
idle_r, idle_w = os.pipe()   # never written
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("0.0.0.0", 7012))
p = select.poll()
p.register(u.fileno(), select.POLLIN)
print("ready", flush=True)
while True:
    if p.poll(10000):
        d, a = u.recvfrom(2048)
        u.sendto(d.upper(), a)   # no other I/O between the wait and the send
        if d.startswith(b"sleep"):
            time.sleep(60)
        elif d.startswith(b"pipe"):
            os.read(idle_r, 1)
PY
for tick_case in sleep pipe; do
	nsenter --net="/run/netns/$ns_a" "$XM_BUILD/xdpmux" run "$dev_a" -- \
		python3 "$work/tick.py" >"$work/tick.log" 2>&1 &
	tick=$!
	xm_wait_log $tick "$work/tick.log" '^ready' "the UDP server that blocks ($tick_case)"
	# the first answer resolves the route and neighbour; the second is held
	for d in warm ${tick_case}; do
		got=$(echo $d | xm_in "$ns_b" timeout 10 socat -T5 - "UDP:$XM_A4:7012")
		xm_expect_eq "$got" "${d^^}" "the reply to '$d' (then the server blocks: $tick_case)"
	done
	kill $tick
	wait $tick || xm_fail "the blocked server ($tick_case): $(cat "$work/tick.log")"
	no_bindings_left "the blocked server ($tick_case)"
done

xm_step "SA_RESTART: a blocking recv restarts, or ends with EINTR, as on the kernel"
# In a sanitizer build the tool carries ASan, whose runtime would have to
# load before the preloaded library: let it load after (the check only).
asan_opts=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
for mode in restart norestart; do
	ASAN_OPTIONS=$asan_opts nsenter --net="/run/netns/$ns_a" "$XM_BUILD/xdpmux" run "$dev_a" -- \
		"$XM_BUILD/tools/sig_restart" 7030 $mode >"$work/sig.log" 2>&1 &
	sig=$!
	# the alarm fires 200 ms after the program is ready; send after it
	for _ in $(seq 50); do grep -q waiting "$work/sig.log" && break; sleep 0.1; done
	sleep 1
	echo datagram | xm_in "$ns_b" socat -u - "UDP:$XM_A4:7030"
	wait $sig || xm_fail "sig_restart $mode: $(cat "$work/sig.log")"
	echo "  $mode: $(tail -1 "$work/sig.log")"
done

# features MODE PORT PEER_ARGS...: tools/sock_features MODE-server PORT on
# the kernel (the oracle), then under xdpmux run, each against MODE-peer in
# the other namespace; under xdpmux run its sockets must have moved and
# the traffic come through xdpmux.
feat=$XM_BUILD/tools/sock_features
features() {
	local mode=$1 port=$2 how out pid before; shift 2
	for how in kernel xdpmux; do
		out=$work/feat-$mode-$how.log
		before=$(redirected)
		if [ $how = kernel ]; then
			xm_in "$ns_a" "$feat" "$mode-server" "$port" >"$out" 2>&1 &
		else
			XDPMUX_DEBUG=1 ASAN_OPTIONS=$asan_opts nsenter --net="/run/netns/$ns_a" \
				"$XM_BUILD/xdpmux" run "$dev_a" -- "$feat" "$mode-server" "$port" >"$out" 2>&1 &
		fi
		pid=$!
		for _ in $(seq 100); do
			grep -q '^listening' "$out" && break
			kill -0 $pid 2>/dev/null || break
			sleep 0.1
		done
		xm_in "$ns_b" timeout 90 "$feat" "$mode-peer" "$@" >"$out.peer" 2>&1 ||
			xm_fail "sock_features $mode-peer against the $how: $(cat "$out" "$out.peer")"
		wait $pid || xm_fail "sock_features $mode-server on the $how: $(cat "$out")"
		if [ $how = xdpmux ]; then
			grep -q ":$port: xdpmux" "$out" ||
				xm_fail "$mode-server's sockets did not move: $(cat "$out")"
			expect_redirected "$before" 4 "sock_features $mode"   # udp: 4 datagrams
		fi
		echo "  $how:"
		grep -vE '^(listening|ok|xdpmux[:[])' "$out" | sed 's/^/    /'
	done
	no_bindings_left "sock_features $mode-server"
}

xm_step "TCP: FIONREAD, TCP_INFO, SIOCOUTQ/SIOCOUTQNSD, MSG_PEEK/TRUNC/WAITALL, options (as on the kernel)"
features tcp 7040 "$XM_A4" 7040
xm_step "SO_REUSEPORT: two TCP listeners and two UDP sockets on one port share the flows"
features reuse 7041 "$XM_A4" 7041
xm_step "UDP ancillary data: PKTINFO in and out, TOS/TCLASS, TTL, timestamps, MSG_CTRUNC"
features udp 7042 "$XM_A4" "$XM_A6" 7042
xm_step "sendfile: offset or file position, past the end, rewritten, corked, truncated, errors"
features sendfile 7043 "$XM_A4" 7043

xm_step "a loopback connection stays with the kernel"
xm_in "$ns_a" socat -u TCP-LISTEN:7004,bind=127.0.0.1 STDOUT >"$work/lo.out" 2>&1 &
lo=$!
xm_wait_port "$ns_a" tcp 7004
echo "over loopback" | XDPMUX_DEBUG=1 run_a socat -u STDIN TCP:127.0.0.1:7004 2>"$work/lo.log" ||
	xm_fail "loopback client: $(cat "$work/lo.log")"
wait $lo
xm_expect_eq "$(cat "$work/lo.out")" "over loopback" "bytes over loopback"
grep -q "tcp connect 127.0.0.1:7004: kernel" "$work/lo.log" ||
	xm_fail "loopback decision not logged: $(cat "$work/lo.log")"

echo "PASS"
