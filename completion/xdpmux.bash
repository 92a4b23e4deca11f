# bash completion for xdpmux(8): commands, options, devices, and the bound
# ports of a device for unbind. Commands and options are read from the
# program's own --help, so they follow the binary installed.
# shellcheck shell=bash

_xdpmux_commands() {
	"$1" --help 2>/dev/null |
		awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'
}

_xdpmux_options() {
	"$1" "$2" --help 2>/dev/null | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}

_xdpmux_devices() {
	local d
	for d in /sys/class/net/*; do
		[ -e "$d" ] && printf '%s\n' "${d##*/}"
	done
}

# The ports of PROTO bound on DEV, from `xdpmux list DEV -j` (its keys come
# in a fixed order: "proto", then "port").
_xdpmux_bound_ports() {
	"$1" list "$2" -j 2>/dev/null | grep -oE "\"proto\": ?\"$3\", ?\"port\": ?[0-9]+" |
		grep -oE '[0-9]+$' | sort -un
}

_xdpmux() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local prog=${COMP_WORDS[0]} cmd= i n=0 words=() dashdash=0

	# The command, then the positional words after it (options skipped,
	# with the value of those that take one).
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--) [ "$cmd" = run ] && dashdash=$i ;;
		--mode | --addr | --fallback | --watch | --ports | --spin-us) i=$((i + 1)) ;;
		-*) ;;
		*)
			if [ -z "$cmd" ]; then
				cmd=${COMP_WORDS[i]}
			else
				words[n++]=${COMP_WORDS[i]}
			fi
			;;
		esac
	done

	# xdpmux run DEV -- PROGRAM ARGS: a command, then its files.
	if [ "$dashdash" -gt 0 ]; then
		if [ "$dashdash" -eq $((COMP_CWORD - 1)) ]; then
			COMPREPLY=($(compgen -c -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
		return 0
	fi
	case $prev in
	--mode)
		COMPREPLY=($(compgen -W "auto native generic" -- "$cur"))
		return 0 ;;
	--fallback)
		COMPREPLY=($(compgen -W "pass drop" -- "$cur"))
		return 0 ;;
	--addr | --watch | --ports | --spin-us)
		return 0 ;;
	esac

	if [ -z "$cmd" ]; then
		COMPREPLY=($(compgen -W "$(_xdpmux_commands "$prog") -j --json --help --version" -- "$cur"))
		return 0
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_xdpmux_options "$prog" "$cmd")" -- "$cur"))
		return 0
	fi
	case $cmd:$n in
	*:0)
		COMPREPLY=($(compgen -W "$(_xdpmux_devices)" -- "$cur")) ;;
	bind:1 | unbind:1)
		COMPREPLY=($(compgen -W "udp tcp" -- "$cur")) ;;
	unbind:2)
		COMPREPLY=($(compgen -W "$(_xdpmux_bound_ports "$prog" "${words[0]}" "${words[1]}")" -- "$cur")) ;;
	esac
	return 0
}
complete -F _xdpmux xdpmux
