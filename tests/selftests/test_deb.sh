#!/usr/bin/env bash
# The Debian packages (make deb, debian/) installed into a scratch root
# (dpkg -x) work from there:
#  - each package holds what it must (CLI, examples, man pages, completion,
#    unit; the .so.0; headers, .a, .so, .pc, libxdpmux(3)), xdpmuxd and the
#    preload library when the build has them, and depends on the libraries
#    it links (libbpf, libxdp, libmnl);
#  - the installed xdpmux prints its version and `man` renders its page;
#  - the demo's UDP exchange with the installed xdpmux and xdpmux-echo;
#  - a program built out of tree with `pkg-config --cflags --libs xdpmux`
#    against the installed headers and library links, runs on the stack
#    and answers a datagram.
# The packages are (re)built first when $XM_BUILD/deb has none or they are
# older than the tree (a minute or two; in the VM, whose build is read-only,
# they must be there already).
# xm-vm: skip (packaging: the same on every kernel)
set -u
. "$(dirname "$0")/lib.sh"

debs=$XM_BUILD/deb
# stale: no packages, or a file of the tree changed after they were made.
stale() {
	local deb newest
	deb=$(ls "$debs"/xdpmux_*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || return 0
	[ -z "${XM_IN_VM:-}" ] || return 1
	newest=$(cd "$XM_TOP" && git ls-files -z 2>/dev/null | xargs -0 stat -c %Y 2>/dev/null |
		sort -n | tail -n 1)
	[ "${newest:-0}" -gt "$(stat -c %Y "$deb")" ]
}
if stale; then
	# The VM sees the build read-only: the host's run (make check runs it
	# first) leaves the packages there.
	[ -z "${XM_IN_VM:-}" ] || xm_fail "no packages in $debs: run make deb on the host first"
	xm_step "no packages in $debs, or older than the tree: make deb"
	make -C "$XM_TOP" --no-print-directory BUILD="$XM_BUILD" deb >/dev/null ||
		xm_fail "make deb failed (log: $debs/src/build.log)"
fi
root=$(mktemp -d /tmp/xm-deb-root.XXXXXX)
xm_on_exit "rm -rf '$root'"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=/usr/lib/$multiarch

xm_step "contents and dependencies"
# has PKG PATH...: the package holds each PATH.
has() {
	local pkg=$1 list p
	shift
	list=$(dpkg-deb -c "$debs/${pkg}_"*.deb | awk '{ print $6 }' | sed 's|^\./|/|')
	for p in "$@"; do
		grep -qx -- "$p" <<<"$list" || xm_fail "$pkg has no $p"
	done
}
has xdpmux /usr/bin/xdpmux /usr/bin/xdpmux-echo /usr/bin/xdpmux-httpd /usr/bin/xdpmux-perf \
	/usr/share/man/man8/xdpmux.8.gz /usr/share/man/man8/xdpmuxd.8.gz \
	/usr/share/man/man8/xdpmux-run.8.gz /usr/share/bash-completion/completions/xdpmux \
	/lib/systemd/system/xdpmuxd@.service /usr/share/doc/xdpmux/examples/example.policy \
	/etc/xdpmux/
[ ! -x "$XM_BUILD/xdpmuxd" ] || has xdpmux /usr/sbin/xdpmuxd
[ ! -f "$XM_BUILD/libxdpmux-preload.so" ] || has xdpmux /usr/lib/xdpmux/libxdpmux-preload.so
has libxdpmux0 "$libdir/libxdpmux.so.0"
has libxdpmux-dev /usr/include/xdpmux/xdpmux.h "$libdir/libxdpmux.a" "$libdir/libxdpmux.so" \
	"$libdir/pkgconfig/xdpmux.pc" /usr/share/man/man3/libxdpmux.3.gz
for lib in libbpf1 libxdp1 libmnl0; do
	dpkg-deb -f "$debs"/libxdpmux0_*.deb Depends | grep -q "$lib" ||
		xm_fail "libxdpmux0 does not depend on $lib"
done
xm_expect_eq "$(dpkg-deb -f "$debs"/libxdpmux-dev_*.deb Depends | grep -o 'libxdpmux0 ([^)]*)')" \
	"libxdpmux0 (= $(dpkg-deb -f "$debs"/libxdpmux0_*.deb Version))" "libxdpmux-dev's libxdpmux0"
echo "  $(ls "$debs"/*.deb | grep -vc dbgsym) packages, contents and dependencies as expected"

xm_step "install into a scratch root (dpkg -x)"
for d in "$debs"/xdpmux_*.deb "$debs"/libxdpmux0_*.deb "$debs"/libxdpmux-dev_*.deb; do
	dpkg -x "$d" "$root" || xm_fail "dpkg -x $d"
done
xcli=$root/usr/bin/xdpmux
want=$(dpkg-deb -f "$debs"/xdpmux_*.deb Version)
xm_expect_eq "$("$xcli" --version)" "xdpmux ${want%%-*}" "installed xdpmux --version"
LC_ALL=C MANPATH=$root/usr/share/man man -P cat xdpmux 2>/dev/null | grep -q "xdpmux attach" ||
	xm_fail "man xdpmux (MANPATH=$root/usr/share/man) does not render the page"
LC_ALL=C MANPATH=$root/usr/share/man man -P cat 3 libxdpmux 2>/dev/null | grep -q "xm_stack_open" ||
	xm_fail "man 3 libxdpmux does not render the page"
echo "  xdpmux --version: $("$xcli" --version); man xdpmux and man 3 libxdpmux render"

ns_a=xm-deb-srv ns_b=xm-deb-cli dev_a=xmdeb0a dev_b=xmdeb0b
xm_netns_pair "$ns_a" "$ns_b" "$dev_a" "$dev_b" 84
logs=$root/logs
mkdir -p "$logs"

# udp_ask ADDR PORT MSG: MSG in one datagram from ns_b, the answer printed
# (a few tries: the first may wait for neighbour resolution).
udp_ask() {
	local dst=$1 reply
	[[ $dst == *:* ]] && dst="[$dst]"
	for _ in 1 2 3 4 5; do
		reply=$(echo "$3" | xm_in "$ns_b" socat -T1 - "UDP:$dst:$2")
		[ -n "$reply" ] && break
	done
	echo "$reply"
}

xm_step "the demo's UDP exchange with the installed binaries"
xm_in "$ns_a" "$xcli" attach "$dev_a" >/dev/null || xm_fail "installed xdpmux attach $dev_a"
xm_on_exit "xm_in $ns_a $xcli detach $dev_a"
nsenter --net="/run/netns/$ns_a" "$root/usr/bin/xdpmux-echo" "$dev_a" --udp 7777 >"$logs/echo.log" 2>&1 &
echo_pid=$!
xm_wait_log $echo_pid "$logs/echo.log" serving "the installed xdpmux-echo"
for dst in "$XM_A4" "$XM_A6"; do
	for i in 1 2 3; do
		xm_expect_eq "$(udp_ask "$dst" 7777 "datagram $i to $dst")" "datagram $i to $dst" \
			"echo of datagram $i to $dst:7777"
	done
done
xm_in "$ns_a" "$xcli" list "$dev_a" -j | jq -e '.bindings[] | select(.port == 7777)' >/dev/null ||
	xm_fail "installed xdpmux list shows no binding of udp/7777"
kill -INT $echo_pid
wait $echo_pid || xm_fail "installed xdpmux-echo exit status $?: $(cat "$logs/echo.log")"
grep -q "udp/7777  rx 6 " "$logs/echo.log" || xm_fail "echo counters: $(cat "$logs/echo.log")"
grep -q "none leaked" "$logs/echo.log" || xm_fail "echo frames: $(cat "$logs/echo.log")"
echo "  6 datagrams (IPv4, IPv6) echoed by the installed xdpmux-echo; clean exit"

xm_step "a program built out of tree with pkg-config, against the scratch root"
mkdir -p "$root/src"
cat >"$root/src/answer.c" <<'PROG'
/* Answer one UDP datagram on PORT of DEV with "got: " and what came. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xdpmux/xdpmux.h>

int main(int argc, char **argv)
{
	struct xm_stack_opts o = XM_STACK_OPTS_INIT;
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	struct timeval tv = { .tv_sec = 20 };
	struct xm_stack *st;
	char in[512], out[600];
	ssize_t n;
	int fd, err;

	if (argc != 3)
		return 2;
	a.sin6_port = htons((uint16_t)atoi(argv[2]));
	err = xm_stack_open(argv[1], &o, &st);
	if (err) {
		fprintf(stderr, "answer: open %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	fd = xm_socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0 || xm_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    xm_bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "answer: bind: %s\n", strerror(errno));
		return 1;
	}
	printf("answer: ready\n");
	fflush(stdout);
	n = xm_recvfrom(fd, in, sizeof(in) - 1, 0, (struct sockaddr *)&from, &fl);
	if (n < 0) {
		fprintf(stderr, "answer: recv: %s\n", strerror(errno));
		return 1;
	}
	in[n] = '\0';
	n = snprintf(out, sizeof(out), "got: %s", in);
	if (xm_sendto(fd, out, (size_t)n, 0, (struct sockaddr *)&from, fl) < 0) {
		fprintf(stderr, "answer: send: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < 20; i++)
		xm_stack_poll(st);
	xm_close(fd);
	xm_stack_close(st);
	return 0;
}
PROG
export PKG_CONFIG_PATH=$root$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root
flags=$(pkg-config --cflags --libs xdpmux) || xm_fail "pkg-config --cflags --libs xdpmux"
echo "  pkg-config --cflags --libs xdpmux: $flags"
grep -q -- "-I$root/usr/include" <<<"$flags" || xm_fail "cflags do not point into the scratch root"
# shellcheck disable=SC2086
gcc -Wall -Werror -o "$root/src/answer" "$root/src/answer.c" $flags ||
	xm_fail "the out-of-tree program does not build with pkg-config's flags"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
export LD_LIBRARY_PATH=$root$libdir
ldd "$root/src/answer" | grep -q "libxdpmux.so.0 => $root$libdir/libxdpmux.so.0" ||
	xm_fail "the program does not load the installed libxdpmux.so.0: $(ldd "$root/src/answer")"
nsenter --net="/run/netns/$ns_a" "$root/src/answer" "$dev_a" 7800 >"$logs/answer.log" 2>&1 &
answer_pid=$!
xm_wait_log $answer_pid "$logs/answer.log" ready "the out-of-tree program"
xm_expect_eq "$(udp_ask "$XM_A4" 7800 hello)" "got: hello" "the program's answer"
wait $answer_pid || xm_fail "the program's exit status $?: $(cat "$logs/answer.log")"
unset LD_LIBRARY_PATH
echo "  built with the installed headers and library, linked to $root$libdir/libxdpmux.so.0, answered"
echo "PASS"
