#!/usr/bin/env bash
# Every refusal of the CLI: one line on stderr starting "xdpmux: ", exit 2 for
# usage errors and 1 for failures, and nothing changed (the bindings, as
# `list -j` shows them, are the same before and after).
set -u
. "$(dirname "$0")/lib.sh"

xm_netns_pair xm-c5 xm-c6 xmc5a xmc5b 35

cli() { xm_cli xm-c5 "$@"; }

# refused RC PATTERN ARGS...: the command exits RC with exactly one stderr line
# matching PATTERN, prints nothing on stdout, and leaves the bindings alone.
refused() {
	local want_rc=$1 pat=$2 before after out err rc
	shift 2
	before=$(cli list -j 2>/dev/null)
	out=$(cli "$@" 2>"$XM_ERR"); rc=$?
	err=$(cat "$XM_ERR")
	after=$(cli list -j 2>/dev/null)
	xm_expect_eq "$rc" "$want_rc" "exit status of 'xdpmux $*'"
	xm_expect_eq "$out" "" "stdout of 'xdpmux $*'"
	xm_expect_eq "$(wc -l <<<"$err")" 1 "stderr lines of 'xdpmux $*' ($err)"
	grep -qE "^xdpmux: $pat" <<<"$err" ||
		xm_fail "'xdpmux $*': stderr '$err' does not match '$pat'"
	xm_expect_eq "$after" "$before" "bindings after the refused 'xdpmux $*'"
}

XM_ERR=$(mktemp)
xm_on_exit rm -f "$XM_ERR"

xm_step "usage errors (exit 2)"
refused 2 "unknown command 'frob'" frob
refused 2 "bind: missing PROTOCOL" bind xmc5a
refused 2 "attach: invalid mode 'turbo'" attach xmc5a --mode turbo
refused 2 "stats: invalid .*'-1'" stats xmc5a --watch -1
refused 2 ".*unknown option '--nope'" list --nope

xm_step "a device that is not attached"
refused 1 "bind xmc5a: xdpmux is not attached to xmc5a; run 'xdpmux attach xmc5a' first" \
	bind xmc5a udp 9000
refused 1 "list xmc5a: xdpmux is not attached to xmc5a" list xmc5a
refused 1 "detach xmc5a: xdpmux is not attached to xmc5a" detach xmc5a

xm_step "a missing device"
refused 1 "attach xmc5nope: no such device" attach xmc5nope
refused 1 "bind xmc5nope: no such device" bind xmc5nope udp 9000

cli attach xmc5a >/dev/null || xm_fail "attach"
cli bind xmc5a udp 9000 >/dev/null || xm_fail "bind udp/9000"

xm_step "bad ports, ranges and protocols (exit 2)"
refused 2 "bind: invalid port '0': ports are 1-65535" bind xmc5a udp 0
refused 2 "bind: invalid port '65536': ports are 1-65535" bind xmc5a udp 65536
refused 2 "bind: invalid port '99999999999999999999'" bind xmc5a udp 99999999999999999999
refused 2 "bind: invalid port 'http'" bind xmc5a udp http
refused 2 "bind: invalid port range '9200-9100': start is above end" bind xmc5a udp 9200-9100
refused 2 "bind: invalid port.*'0-5'" bind xmc5a tcp 0-5
refused 2 "bind: unknown protocol 'sctp': expected udp or tcp" bind xmc5a sctp 9000
refused 2 "bind: invalid fallback 'maybe'" bind xmc5a udp 9001 --fallback maybe
refused 2 "bind: invalid address '198.18.1'" bind xmc5a udp 9001 --addr 198.18.1
refused 2 "unbind: invalid port '0'" unbind xmc5a udp 0

xm_step "a port already bound, alone and inside a range (nothing of the range is bound)"
refused 1 "bind xmc5a udp/9000: already bound; unbind it first" bind xmc5a udp 9000
refused 1 "bind xmc5a udp/9000: already bound" bind xmc5a udp 8998-9002
refused 1 "unbind xmc5a udp/9001: not bound" unbind xmc5a udp 9001

xm_step "a port a kernel socket uses is refused unless --force"
xm_in xm-c5 socat -u TCP-LISTEN:9100,reuseaddr,fork /dev/null &
xm_in xm-c5 socat -u UDP-RECV:9101 /dev/null &
xm_wait_port xm-c5 tcp 9100
xm_wait_port xm-c5 udp 9101
refused 1 "bind xmc5a tcp/9100: port already used by a kernel socket .*socat.*--force" \
	bind xmc5a tcp 9100
refused 1 "bind xmc5a udp/9101: port already used by a kernel socket" \
	bind xmc5a udp 9095-9105
# Only the protocol of the kernel socket conflicts.
cli bind xmc5a udp 9100 >/dev/null || xm_fail "udp/9100 with only a TCP listener"
cli bind xmc5a tcp 9100 --force >/dev/null || xm_fail "bind --force over a listener"
xm_expect_eq "$(cli list -j | jq '[.bindings[] | select(.port == 9100)] | length')" 2 \
	"bindings of port 9100 after --force"

xm_step "without privileges"
chmod 755 "$XM_BUILD" 2>/dev/null
for args in "list" "bind xmc5a udp 9300" "attach xmc5a" "stats -j"; do
	before=$(cli list -j)
	# nsenter itself needs root, so enter the namespace first and drop
	# privileges inside it.
	err=$(xm_in xm-c5 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$XM_BUILD/xdpmux" $args 2>&1 >/dev/null); rc=$?
	xm_expect_eq "$rc" 1 "exit status of unprivileged 'xdpmux $args'"
	grep -qE '^xdpmux: .*(needs root|permission denied)' <<<"$err" ||
		xm_fail "unprivileged 'xdpmux $args' said: $err"
	xm_expect_eq "$(cli list -j)" "$before" "bindings after unprivileged 'xdpmux $args'"
done
# The pins themselves are closed to other users.
xm_in xm-c5 setpriv --reuid=nobody --regid=nogroup --clear-groups \
	ls "$XM_PINS/xmc5a" >/dev/null 2>&1 && xm_fail "nobody can list the pins"

cli detach xmc5a >/dev/null || xm_fail "detach"
echo "PASS"
