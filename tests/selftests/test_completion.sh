#!/usr/bin/env bash
# Bash completion of xdpmux (completion/xdpmux.bash), driven as bash does it
# (COMP_WORDS, COMP_CWORD, then the function): commands, each command's
# options, --mode and --fallback values, the devices of the namespace, and
# for unbind the ports bound on the device, per protocol.
# xm-vm: skip (bash completion: userspace only)
set -u
. "$(dirname "$0")/lib.sh"

comp_file=$XM_TOP/completion/xdpmux.bash
[ -x "$XM_BUILD/xdpmux" ] || xm_fail "no $XM_BUILD/xdpmux: build first"
[ -f "$comp_file" ] || xm_fail "no $comp_file"

ns_a=xm-cpl-a ns_b=xm-cpl-b dev_a=xmcpl0a dev_b=xmcpl0b
xm_netns_pair "$ns_a" "$ns_b" "$dev_a" "$dev_b" 83

# complete HOW LINE: the completions of the last word of LINE (after a
# trailing space: of an empty word), one per line, sorted. HOW: nsenter
# (the host's /sys, so bpffs and the pins) or netns (ip netns exec: /sys of
# the namespace, so /sys/class/net lists its devices only).
complete_line() {
	local how=$1 line=$2 run
	run=(nsenter --net="/run/netns/$ns_a")
	[ "$how" = netns ] && run=(ip netns exec "$ns_a")
	"${run[@]}" env PATH="$XM_BUILD:$PATH" bash -c '
		. "$1"
		read -ra COMP_WORDS <<<"$2"
		[[ $2 == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_xdpmux
		printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$comp_file" "$line"
}
# expect HOW LINE WANT...: the completions are exactly WANT.
expect() {
	local how=$1 line=$2 got want
	shift 2
	got=$(complete_line "$how" "$line" | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	[ "$got" = "$want" ] || xm_fail "'$line': completed '$got', want '$want'"
	echo "  '$line' -> $got"
}

xm_step "commands and their options"
cmds=$("$XM_BUILD/xdpmux" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
[ -n "$cmds" ] || xm_fail "no commands in xdpmux --help"
# shellcheck disable=SC2086
expect nsenter "xdpmux " $cmds -j --json --help --version
expect nsenter "xdpmux at" attach
expect nsenter "xdpmux un" unbind
expect nsenter "xdpmux bind $dev_a udp 7000 --f" --fallback --force
expect nsenter "xdpmux bind $dev_a udp 7000 --fallback " drop pass
expect nsenter "xdpmux attach $dev_a --mode " auto generic native
expect nsenter "xdpmux stats --" --help --json --watch
expect nsenter "xdpmux bind $dev_a " tcp udp

xm_step "devices: those of the system (here: the namespace's)"
expect netns "xdpmux attach " "$dev_a" lo
expect netns "xdpmux -j list xm" "$dev_a"

xm_step "unbind: the ports bound on the device, per protocol"
xm_cli "$ns_a" attach "$dev_a" --mode generic >/dev/null || xm_fail "attach $dev_a"
xm_on_exit "xm_cli $ns_a detach $dev_a"
expect nsenter "xdpmux unbind $dev_a udp "
for b in "udp 7100" "udp 7102-7103" "tcp 8100"; do
	# shellcheck disable=SC2086
	xm_cli "$ns_a" bind "$dev_a" $b >/dev/null || xm_fail "bind $dev_a $b"
done
expect nsenter "xdpmux unbind $dev_a udp " 7100 7102 7103
expect nsenter "xdpmux unbind $dev_a udp 710" 7100 7102 7103
expect nsenter "xdpmux unbind $dev_a tcp " 8100
expect nsenter "xdpmux unbind --addr 198.18.83.1 $dev_a tcp " 8100
xm_cli "$ns_a" unbind "$dev_a" udp 7102 >/dev/null || xm_fail "unbind $dev_a udp 7102"
expect nsenter "xdpmux unbind $dev_a udp " 7100 7103
echo "PASS"
