#!/usr/bin/env bash
# xdpmuxd's port policy: a user (--allow USER:PORTS) and a group
# (--allow @GROUP:PORTS, and a --policy file) bind their ports without any
# capability; a bind outside the policy fails with EACCES, a user the policy
# does not name is refused; each refusal is one line in the daemon's log and
# in the program's error; root binds any port; bad rules are usage errors.
# xm-vm: skip (the policy is userspace only)
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"

xmd_setup xm-dpol-a xm-dpol-b xmdpa xmdpb 91
udp_ask() { echo "$2" | xm_in "$xmd_peer" socat -t 1 - "UDP4:$XM_A4:$1" 2>/dev/null; }
# as USER PROG ARGS...: run an example to completion (it must fail) as USER.
as() {
	local user=$1
	shift
	xm_in "$xmd_ns" setpriv --reuid="$user" --regid="$(id -gn "$user")" --clear-groups \
		--inh-caps=-all --bounding-set=-all timeout 10 "$XM_BUILD/$1" "$xmd_dev" "${@:2}"
}

xm_step "bad rules are refused before anything starts"
out=$(xm_in "$xmd_ns" "$XM_BUILD/xdpmuxd" "$xmd_dev" --allow nobody:70000 2>&1); rc=$?
xm_expect_eq "$rc" 2 "exit status for a port out of range"
grep -q -- "--allow nobody:70000" <<<"$out" || xm_fail "no reason given: $out"
out=$(xm_in "$xmd_ns" "$XM_BUILD/xdpmuxd" "$xmd_dev" --allow no-such-user-here:80 2>&1); rc=$?
xm_expect_eq "$rc" 2 "exit status for an unknown user"
printf 'allow nobody:7000-7010\nallow bogus\n' >"$xmd_logs/bad.policy"
out=$(xm_in "$xmd_ns" "$XM_BUILD/xdpmuxd" "$xmd_dev" --policy "$xmd_logs/bad.policy" 2>&1); rc=$?
xm_expect_eq "$rc" 1 "exit status for a bad policy file"
grep -q "bad.policy.*2" <<<"$out" || xm_fail "the error does not name the file's line 2: $out"

xm_step "policy: nobody 7000-7010 (command line), group daemon 7500 (file)"
printf '# who may use xdpmux on this device\n\nallow @daemon:7500\n' >"$xmd_logs/ok.policy"
xmd_start --allow nobody:7000-7010 --policy "$xmd_logs/ok.policy"
grep -q "policy: .*nobody.*7000-7010.*@daemon.*7500" "$xmd_logs/xdpmuxd.log" ||
	xm_fail "start-up line does not give the policy: $(cat "$xmd_logs/xdpmuxd.log")"

xm_step "allowed binds work without capabilities"
xmd_prog nb nobody xdpmux-echo --udp 7005
xmd_prog dm daemon xdpmux-echo --udp 7500
xmd_prog rt root xdpmux-echo --udp 9999
xm_expect_eq "$(udp_ask 7005 a)" a "nobody's echo"
xm_expect_eq "$(udp_ask 7500 b)" b "group daemon's echo"
xm_expect_eq "$(udp_ask 9999 c)" c "root's echo on a port no rule names"

xm_step "a bind outside the policy: EACCES, one line on each side"
out=$(as nobody xdpmux-echo --udp 7100 2>&1); rc=$?
xm_expect_eq "$rc" 1 "exit status of a refused bind"
grep -q "bind udp/7100 on $xmd_dev: Permission denied (xdpmuxd: port 7100 is outside" <<<"$out" ||
	xm_fail "program's error: $out"
grep -q "refused udp/7100 to pid .* uid 65534.*outside what the policy allows" \
	"$xmd_logs/xdpmuxd.log" || xm_fail "daemon's log: $(cat "$xmd_logs/xdpmuxd.log")"
out=$(as daemon xdpmux-echo --tcp 7005 2>&1)
grep -q "Permission denied" <<<"$out" || xm_fail "group daemon bound nobody's port: $out"

xm_step "a user the policy does not name is refused at connect"
out=$(as bin xdpmux-echo --udp 7005 2>&1); rc=$?
xm_expect_eq "$rc" 1 "exit status of a refused program"
grep -q "open stack on $xmd_dev: Permission denied (xdpmuxd $xmd_dev: uid 2 may not use xdpmux" <<<"$out" ||
	xm_fail "program's error: $out"
grep -q "refused pid .* uid 2): uid 2 may not use xdpmux" "$xmd_logs/xdpmuxd.log" ||
	xm_fail "daemon's log: $(cat "$xmd_logs/xdpmuxd.log")"

xm_step "a port another program holds: EADDRINUSE naming it"
out=$(as nobody xdpmux-echo --udp 7005 2>&1)
grep -q "Address already in use (xdpmuxd: the port is bound by pid ${xmd_pids[nb]})" <<<"$out" ||
	xm_fail "second bind of udp/7005: $out"
xm_expect_eq "$(udp_ask 7005 still)" still "the first owner keeps its port"
xm_expect_eq "$(xmd_clients)" 3 "programs served after the refusals"
echo PASS
