#!/usr/bin/env bash
# The man pages and the programs' --help never disagree on options: every
# command of `xdpmux --help` has its subsection in xdpmux(8) and the reverse;
# each command's long options (`xdpmux CMD --help`) are the ones its
# subsection names; the global options match xdpmux(8)'s OPTIONS; `xdpmux
# run` matches xdpmux-run(8) and `xdpmuxd --help` xdpmuxd(8) when this build
# has them. Pages are read as man renders them (build/man, scdoc's output).
# No namespace, no root needed.
# xm-vm: skip (man pages against --help: userspace only)
set -u
. "$(dirname "$0")/lib.sh"

cli=$XM_BUILD/xdpmux
[ -x "$cli" ] || xm_fail "no $cli: build first"
for p in xdpmux.8 xdpmux-run.8 xdpmuxd.8 libxdpmux.3; do
	[ -s "$XM_BUILD/man/$p" ] || xm_fail "no $XM_BUILD/man/$p: build first (needs scdoc)"
done
command -v man >/dev/null || xm_fail "no man (man-db) to render the pages"

# render PAGE: the page as a reader sees it, in plain ASCII.
render() {
	LC_ALL=C MANWIDTH=200 man -l "$XM_BUILD/man/$1" 2>/dev/null | col -bx
}
# section TEXT NAME: the body of the section (SH, at column 0) NAME.
section() {
	awk -v want="$2" '/^[A-Z]/ { on = ($0 == want); next } on' <<<"$1"
}
# subsection TEXT NAME: the body of the subsection (SS, 3 spaces) NAME.
subsection() {
	awk -v want="   $2" '/^[A-Z]/ || /^   [^ ]/ { on = ($0 == want); next } on' <<<"$1"
}
# longopts: the sorted long options (--name) in stdin, but --help.
longopts() {
	grep -oE -- '--[a-z][a-z0-9-]*' | grep -vx -- '--help' | sort -u
}
# agree WHAT HELP_OPTS MAN_OPTS: fail, listing each side's extras, unless equal.
agree() {
	local only_help only_man
	only_help=$(comm -23 <(echo "$2") <(echo "$3") | tr '\n' ' ')
	only_man=$(comm -13 <(echo "$2") <(echo "$3") | tr '\n' ' ')
	[ -z "$only_help$only_man" ] ||
		xm_fail "$1: only in --help: '${only_help}'; only in the man page: '${only_man}'"
	echo "  $1: $(echo "$2" | tr '\n' ' ')"
}

page=$(render xdpmux.8)
[ -n "$page" ] || xm_fail "man renders nothing for xdpmux.8"

xm_step "commands: xdpmux --help against xdpmux(8) COMMANDS"
help_cmds=$("$cli" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' | sort)
man_cmds=$(section "$page" COMMANDS | awk '/^   [^ ]/ { print $1 }' | sort)
[ -n "$help_cmds" ] || xm_fail "no commands in xdpmux --help"
# `run` is documented here and in xdpmux-run(8); a build without it (the
# command comes with the preload library) checks the rest.
if ! grep -qx run <<<"$help_cmds"; then
	echo "  (this build has no 'xdpmux run': its page is not checked)"
	man_cmds=$(grep -vx run <<<"$man_cmds")
fi
agree "commands" "$help_cmds" "$man_cmds"

xm_step "each command's options: xdpmux CMD --help against its subsection"
for c in $help_cmds; do
	h=$("$cli" "$c" --help) || xm_fail "xdpmux $c --help failed"
	m=$(subsection "$page" "$c")
	[ "$c" = run ] && m=$(render xdpmux-run.8)
	agree "$c" "$(longopts <<<"$h")" "$(longopts <<<"$m")"
done

xm_step "global options: xdpmux --help against xdpmux(8) SYNOPSIS and OPTIONS"
h=$("$cli" --help | sed '/^commands:/,$d')
m=$(section "$page" SYNOPSIS; section "$page" OPTIONS)
agree "global" "$(longopts <<<"$h")" "$(longopts <<<"$m")"
xm_expect_eq "$("$cli" --version)" "xdpmux $(sed -n 's/^VERSION *:= *//p' "$XM_TOP/Makefile")" \
	"xdpmux --version"

xm_step "xdpmuxd --help against xdpmuxd(8)"
if [ -x "$XM_BUILD/xdpmuxd" ]; then
	d=$(render xdpmuxd.8)
	agree "xdpmuxd" "$("$XM_BUILD/xdpmuxd" --help | longopts)" \
		"$( (section "$d" SYNOPSIS; section "$d" OPTIONS) | longopts)"
else
	echo "  (this build has no xdpmuxd: not checked)"
fi
echo "PASS"
