#!/usr/bin/env bash
# xdpmuxd@.service (dist/xdpmuxd@.service.in) started as systemd would start
# xdpmuxd@DEV: its ExecStart line, parsed from the unit, with %i the device,
# run with the unit's execution settings applied by hand, since the host has
# no systemd to do it:
#   CapabilityBoundingSet, NoNewPrivileges     setpriv
#   LimitMEMLOCK, UMask                        prlimit, umask
#   ProtectSystem=strict + ReadWritePaths,     a private mount namespace whose
#   RuntimeDirectory, PrivateTmp               root is read-only but for the
#                                              unit's writable paths
# (RestrictAddressFamilies and the other seccomp/namespace settings are not
# reproduced). The paths are the test's: the unit's sbin is this build, and
# /etc/xdpmux/ a scratch directory. Checked: the daemon starts on a veth in
# a namespace, logs its policy, serves its socket (root's and an allowed
# user's program echo datagrams through it; a port outside the policy is
# refused), and on SIGTERM exits 0, removes its socket and detaches xdpmux.
# xm-vm: skip (the unit's settings: userspace only)
set -u
. "$(dirname "$0")/lib.sh"

unit_in=$XM_TOP/dist/xdpmuxd@.service.in
build_daemon=$XM_BUILD/xdpmuxd
echo_bin=$XM_BUILD/xdpmux-echo
[ -f "$unit_in" ] || xm_fail "no $unit_in"
[ -x "$build_daemon" ] || xm_fail "no $build_daemon: this build has no xdpmuxd (user/daemon/); build it first"
[ -x "$echo_bin" ] || xm_fail "no $echo_bin: build first"

ns_a=xm-svcunit-a ns_b=xm-svcunit-b dev_a=xmsvc0a dev_b=xmsvc0b
xm_netns_pair "$ns_a" "$ns_b" "$dev_a" "$dev_b" 85
# Not under /tmp: the daemon gets a private one (PrivateTmp), which would
# hide a build under /tmp (a CI clone) too: the daemon runs from here.
work=$(mktemp -d /run/xm-svcunit.XXXXXX)
chmod 755 "$work"
xm_on_exit "rm -rf '$work'"
daemon=$work/xdpmuxd
cp "$build_daemon" "$daemon" || xm_fail "copy $build_daemon"

# setting NAME: the value of the unit's NAME= line (the last one).
setting() {
	sed -n "s/^$1=//p" "$unit_in" | tail -n 1
}

xm_step "the unit's settings"
exec_start=$(setting ExecStart)
[ -n "$exec_start" ] || xm_fail "no ExecStart= in $unit_in"
caps=$(setting CapabilityBoundingSet)
rundir=/run/$(setting RuntimeDirectory)
rw_paths=$(setting ReadWritePaths)
[ "$(setting ProtectSystem)" = strict ] || xm_fail "the unit does not say ProtectSystem=strict"
[ "$(setting NoNewPrivileges)" = yes ] || xm_fail "the unit does not say NoNewPrivileges=yes"
[ -n "$caps" ] || xm_fail "no CapabilityBoundingSet= in $unit_in"
memlock=$(setting LimitMEMLOCK)
memlock=${memlock:-infinity}
memlock=${memlock/infinity/unlimited}
# A container may forbid raising the hard limit even to root: keep its own.
if ! prlimit --memlock="$memlock" true 2>/dev/null; then
	echo "  (LimitMEMLOCK=$memlock not allowed here: the limits stay $(ulimit -l) KiB)"
	memlock=
fi
umask_v=$(setting UMask)
echo "  ExecStart=$exec_start"
echo "  CapabilityBoundingSet=$caps"

# %i -> the device; the unit's paths -> this build and a scratch /etc/xdpmux.
cmdline=${exec_start//%i/$dev_a}
cmdline=${cmdline//@SBINDIR@\/xdpmuxd/$daemon}
cmdline=${cmdline//\/etc\/xdpmux\//$work\/}
read -ra argv <<<"$cmdline"
[ "${argv[0]}" = "$daemon" ] || xm_fail "ExecStart does not start @SBINDIR@/xdpmuxd: $exec_start"
policy=$work/$dev_a.policy
cat >"$policy" <<POLICY
# the test's policy: nobody may bind udp/9000-9001
allow 65534:9000-9001
POLICY
chmod 644 "$policy"

bounding=-all
for c in $caps; do
	c=${c#CAP_}
	bounding+=",+${c,,}"
done
sock=$rundir/$dev_a.sock

xm_step "start the ExecStart line as systemd would"
mkdir -p -m 0755 "$rundir" # RuntimeDirectory= (kept: RuntimeDirectoryPreserve=yes)
log=$work/daemon.log
# In a private mount namespace: the runtime directory and the writable
# paths become their own mounts, /tmp a private tmpfs, then / read-only.
# shellcheck disable=SC2016
unshare --mount --propagation private sh -c '
	set -e
	rundir=$1 rw=$2 ns=$3 bounding=$4 memlock=$5 um=$6
	shift 6
	mount --bind "$rundir" "$rundir"
	for p in $rw; do mount --bind "$p" "$p"; done
	mount -t tmpfs tmpfs /tmp
	mount -o remount,bind,ro /
	[ -n "$um" ] && umask "$um"
	limit=
	[ -n "$memlock" ] && limit="prlimit --memlock=$memlock"
	exec nsenter --net="/run/netns/$ns" $limit \
		setpriv --bounding-set "$bounding" --no-new-privs -- "$@"
' _ "$rundir" "$rw_paths" "$ns_a" "$bounding" "$memlock" "$umask_v" \
	"${argv[@]}" >"$log" 2>&1 &
dpid=$!
xm_on_exit "kill $dpid 2>/dev/null; rm -f '$sock'"
xm_wait_log $dpid "$log" "serving on" xdpmuxd
sed 's/^/  | /' "$log"
grep -q "policy:.*9000-9001" "$log" || xm_fail "xdpmuxd did not log its policy: $(cat "$log")"
[ -S "$sock" ] || xm_fail "no socket at $sock"
# The hardening holds: the daemon's process has only the unit's capabilities.
dpid_daemon=$(pgrep -f "^$daemon $dev_a" | head -n 1)
[ -n "$dpid_daemon" ] || xm_fail "no xdpmuxd process found"
bnd=$(awk '/^CapBnd/ { print $2 }' "/proc/$dpid_daemon/status")
# (Those of the unit this test's own bounding set has: a container may lack some.)
ours=$(capsh --decode="$(awk '/^CapBnd/ { print $2 }' /proc/self/status)" | sed 's/.*=//' | tr ',' '\n')
xm_expect_eq "$(capsh --decode="$bnd" | sed 's/.*=//' | tr ',' '\n' | sort | tr '\n' ' ')" \
	"$(for c in $caps; do grep -x "${c,,}" <<<"$ours"; done | sort | tr '\n' ' ')" \
	"the daemon's bounding set"
[ "$(awk '/^NoNewPrivs/ { print $2 }' "/proc/$dpid_daemon/status")" = 1 ] ||
	xm_fail "the daemon runs without no_new_privs"
echo "  serving $sock; bounding set and no_new_privs as the unit says"

# echo_through USER PORT: xdpmux-echo as USER (root or nobody) on udp/PORT
# through the daemon, one datagram from ns_b echoed, clean exit.
echo_through() {
	local user=$1 port=$2 elog=$work/echo.$1.$2.log pid reply as=()
	[ "$user" = nobody ] && as=(setpriv --reuid 65534 --regid 65534 --clear-groups)
	nsenter --net="/run/netns/$ns_a" "${as[@]}" "$echo_bin" "$dev_a" --udp "$port" >"$elog" 2>&1 &
	pid=$!
	xm_wait_log $pid "$elog" serving "xdpmux-echo as $user on udp/$port"
	for _ in 1 2 3 4 5; do
		reply=$(echo "to $port as $user" | xm_in "$ns_b" socat -T1 - "UDP:$XM_A4:$port")
		[ -n "$reply" ] && break
	done
	kill -INT $pid
	wait $pid || xm_fail "xdpmux-echo as $user exit status $?: $(cat "$elog")"
	xm_expect_eq "$reply" "to $port as $user" "echo through the daemon as $user on udp/$port"
	echo "  $user: udp/$port echoed through the daemon"
}

xm_step "programs use the daemon: root, and nobody within the policy"
echo_through root 7300
echo_through nobody 9000
xm_step "a port outside the policy is refused"
out=$(nsenter --net="/run/netns/$ns_a" setpriv --reuid 65534 --regid 65534 --clear-groups \
	timeout 10 "$echo_bin" "$dev_a" --udp 9200 2>&1)
rc=$?
[ $rc -ne 0 ] || xm_fail "nobody bound udp/9200, outside the policy: $out"
grep -q "Permission denied" <<<"$out" || xm_fail "udp/9200 as nobody: not EACCES: $out"
echo "  nobody on udp/9200: $(grep -m1 'Permission denied' <<<"$out")"

xm_step "SIGTERM: clean exit, socket removed, xdpmux detached"
kill -TERM $dpid_daemon
wait $dpid
rc=$?
sed 's/^/  | /' "$log" | tail -n 3
xm_expect_eq "$rc" 0 "xdpmuxd exit status after SIGTERM"
[ ! -e "$sock" ] || xm_fail "$sock left after exit"
xm_cli "$ns_a" status "$dev_a" -j | jq -e '.devices[0].attached == false' >/dev/null ||
	xm_fail "xdpmux still attached to $dev_a: $(xm_cli "$ns_a" status "$dev_a")"
echo "PASS"
