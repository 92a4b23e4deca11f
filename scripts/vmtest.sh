#!/usr/bin/env bash
# Run a command (default: the selftests, VM-only netem tests included) inside a
# VM on another kernel, print the guest's output as it comes, and exit with the
# command's exit status.
#
#   scripts/vmtest.sh [--kernel PATH] [--build DIR] [--timeout SECONDS]
#                     [--accel auto|kvm|tcg] [-- CMD ...]
#
#   --kernel PATH   bzImage to boot; its modules must be installed on this host
#                   in /lib/modules/<its release>. Default: Debian's
#                   linux-image-amd64 (/boot/vmlinuz-6.1.*, the newest one).
#   --build DIR     build directory (relative to the repository), already built
#                   on the host; default "build". Only used by the default CMD.
#   --timeout S     kill the VM after S seconds in all (default 2400, or
#                   $XM_VM_TIMEOUT); exit status 124 then.
#   --accel A       auto (default, or $XM_VM_ACCEL): KVM when /dev/kvm is usable
#                   and a trial boot under it succeeds, TCG otherwise.
#   CMD             run in the guest from the repository's root; default
#                   `scripts/run-tests.sh DIR vm` (the selftests plus
#                   tests/selftests/vm/).
#
# $XM_VM_CPUS (default 2) and $XM_VM_MEM (MiB, default 2048) size the guest.
# The guest command sees the host's XM_* and CI variables; under TCG it gets
# XM_TEST_TIMEOUT=1800 (run-tests.sh's per-test limit) unless one is set.
#
# With virtme-ng (`vng`) installed it boots the guest; otherwise this script
# does the same with qemu itself: the host's root file system is shared
# read-only over virtio-9p, a small initramfs (busybox-static plus the virtio
# and 9p modules of the guest kernel) mounts it and hands over to
# scripts/vm-init.sh as init, which mounts tmpfs on /tmp and /run, bpffs and
# the rest, runs CMD, writes its exit status to a second, writable 9p share and
# powers off. Exit status: CMD's, 124 on timeout, 125 when the VM could not run
# it (no status reported: boot failure, guest crash).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kernel=
build=build
timeout_s=${XM_VM_TIMEOUT:-2400}
accel=${XM_VM_ACCEL:-auto}
cpus=${XM_VM_CPUS:-2}
mem=${XM_VM_MEM:-2048}
cmd=()

die() {
	echo "vmtest: $*" >&2
	exit 125
}

usage() {
	sed -n '6,7p' "$0" | sed 's/^#  *//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) [ $# -ge 2 ] || usage; kernel=$2; shift 2 ;;
	--build) [ $# -ge 2 ] || usage; build=$2; shift 2 ;;
	--timeout) [ $# -ge 2 ] || usage; timeout_s=$2; shift 2 ;;
	--accel) [ $# -ge 2 ] || usage; accel=$2; shift 2 ;;
	--) shift; cmd=("$@"); break ;;
	-h|--help) usage ;;
	*) echo "vmtest: unknown argument '$1'" >&2; usage ;;
	esac
done
case $accel in auto|kvm|tcg) ;; *) die "--accel must be auto, kvm or tcg, not '$accel'" ;; esac
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || die "--timeout needs a number of seconds, not '$timeout_s'"
[ ${#cmd[@]} -gt 0 ] || cmd=(scripts/run-tests.sh "$build" vm)

if [ -z "$kernel" ]; then
	kernel=$(ls /boot/vmlinuz-6.1.* 2>/dev/null | sort -V | tail -n 1) || true
	[ -n "$kernel" ] || die "no /boot/vmlinuz-6.1.*: install linux-image-amd64 (Debian 12) or pass --kernel"
fi
[ -r "$kernel" ] || die "cannot read kernel image $kernel"

# The release string of a bzImage: the boot protocol header ("HdrS" at 0x202)
# holds at 0x20e the offset, less 0x200, of the NUL-terminated version string.
bzimage_release() {
	local magic off
	magic=$(dd if="$1" bs=1 skip=$((0x202)) count=4 2>/dev/null)
	[ "$magic" = HdrS ] || return 1
	off=$(od -An -tu2 -j $((0x20e)) -N2 "$1" | tr -d ' ')
	dd if="$1" bs=1 skip=$((off + 0x200)) count=256 2>/dev/null |
		tr '\0' '\n' | head -n 1 | cut -d' ' -f1
}
kver=$(bzimage_release "$kernel") || die "$kernel is not a bzImage (no HdrS header)"
[ -n "$kver" ] || die "cannot read the kernel release from $kernel"
[ -d "/lib/modules/$kver" ] ||
	die "kernel $kernel is $kver but /lib/modules/$kver does not exist: install its modules"

[ "$(id -u)" -eq 0 ] || die "must run as root (the guest shares the host's root file system)"

# What the guest command inherits from here.
guest_env=()
while IFS= read -r v; do
	guest_env+=("$v=${!v}")
done < <(compgen -e | grep -E '^(XM_[A-Z0-9_]+|CI)$' || true)

deadline=$((SECONDS + timeout_s))
tmp=$(mktemp -d /tmp/xm-vmtest.XXXXXX)
vm_pid=
cleanup() {
	[ -n "$vm_pid" ] && kill "$vm_pid" 2>/dev/null && wait "$vm_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "vmtest: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM

# ---- virtme-ng -------------------------------------------------------------

# vng_run ACCEL SECONDS CMD...: the guest's status comes back as vng's own.
vng_run() {
	local a=$1 t=$2 q; shift 2
	local opts=(--run "$kernel" --user root --cpus "$cpus" --memory "${mem}M"
		--cwd "$top" --quiet)
	[ "$a" = tcg ] && opts+=(--disable-kvm)
	q=$(printf '%q ' env "${guest_env[@]}" bash "$top/scripts/vm-init.sh" "$@")
	timeout --kill-after=10 "$t" vng "${opts[@]}" --exec "$q" </dev/null &
	vm_pid=$!
	wait "$vm_pid"
}

# ---- qemu with our own initramfs ----------------------------------------------

# Modules the initramfs loads to mount the root: virtio PCI and 9p over virtio,
# with their dependencies, in load order (nothing listed when built in).
initramfs_modules() {
	modprobe -S "$kver" --show-depends -a virtio_pci 9pnet_virtio 9p |
		awk '$1 == "insmod" && !seen[$2]++ { print $2 }'
}

make_initramfs() {
	local dir=$tmp/initramfs m base n=0
	mkdir -p "$dir"/{bin,dev,proc,sys,newroot,modules}
	cp /bin/busybox "$dir/bin/busybox" 2>/dev/null ||
		die "busybox-static is not installed (/bin/busybox)"
	file_is_static "$dir/bin/busybox" ||
		die "/bin/busybox is dynamically linked: install busybox-static"
	mknod "$dir/dev/console" c 5 1
	for m in $(initramfs_modules); do
		n=$((n + 1))
		base=$(printf '%02d-%s' $n "$(basename "$m")")
		case $m in
		*.ko) cp "$m" "$dir/modules/$base" ;;
		*.ko.xz) xz -dc "$m" >"$dir/modules/${base%.xz}" ;;
		*.ko.zst) zstd -qdc "$m" >"$dir/modules/${base%.zst}" ;;
		*.ko.gz) gzip -dc "$m" >"$dir/modules/${base%.gz}" ;;
		*) die "module $m: unknown compression" ;;
		esac
	done
	# The initramfs init: mount the host's root over 9p, hand over to
	# vm-init.sh. On failure it powers off, so the host sees no status.
	cat >"$dir/init" <<-EOF
	#!/bin/busybox sh
	/bin/busybox --install -s /bin
	export PATH=/bin
	mount -t devtmpfs dev /dev
	mount -t proc proc /proc
	mount -t sysfs sys /sys
	fail() { echo "vmtest initramfs: \$*" >&2; poweroff -f; sleep 60; }
	for m in /modules/*.ko; do
		[ -e "\$m" ] || continue
		insmod "\$m" || fail "insmod \$m failed"
	done
	# The virtio devices may still be probing: retry for a few seconds.
	i=0
	until mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 \\
		xmroot /newroot; do
		i=\$((i + 1))
		if [ \$i -ge 50 ]; then
			ls /sys/bus/virtio/devices /sys/bus/virtio/drivers >&2
			grep 9p /proc/filesystems >&2
			fail "cannot mount the host's root (9p tag xmroot)"
		fi
		sleep 0.2
	done
	mount --move /dev /newroot/dev
	umount /proc /sys
	exec switch_root /newroot /bin/bash "$top/scripts/vm-init.sh"
	EOF
	chmod 755 "$dir/init"
	(cd "$dir" && find . | cpio -o -H newc --quiet | gzip -1) >"$tmp/initramfs.gz"
}

file_is_static() {
	! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}

# qemu_run ACCEL SECONDS CMD...: boots with the command left in the share;
# the status is what the guest wrote back, 125 when it wrote none.
qemu_run() {
	local a=$1 t=$2 share=$tmp/share; shift 2
	rm -rf "$share" && mkdir -p "$share"
	{
		# The guest mounts tmpfs on /tmp and /run: a checkout there (a
		# CI clone in /tmp, say) comes in over its own share.
		printf '[ -d %q ] || { mkdir -p %q && mount -t 9p -o %s xmtop %q; }\n' \
			"$top" "$top" trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 "$top"
		echo "cd $(printf '%q' "$top") || exit 125"
		printf 'exec env'; printf ' %q' "${guest_env[@]}" "$@"; echo
	} >"$share/cmd"
	local qopts=(-nodefaults -no-user-config -display none -no-reboot
		-m "$mem" -smp "$cpus"
		-kernel "$kernel" -initrd "$tmp/initramfs.gz"
		-append "console=ttyS0 quiet loglevel=3 panic=-1 mitigations=off"
		-serial stdio
		-virtfs "local,path=/,mount_tag=xmroot,security_model=none,readonly=on,multidevs=remap"
		-virtfs "local,path=$share,mount_tag=xmshare,security_model=none"
		-virtfs "local,path=$top,mount_tag=xmtop,security_model=none,readonly=on,multidevs=remap")
	if [ "$a" = kvm ]; then
		qopts+=(-accel kvm -cpu host)
	else
		qopts+=(-accel tcg,thread=multi -cpu max)
	fi
	# The serial console ends lines with CR LF.
	timeout --kill-after=10 "$t" qemu-system-x86_64 "${qopts[@]}" </dev/null \
		> >(sed -u 's/\r$//') 2>&1 &
	vm_pid=$!
	wait "$vm_pid" || true
	vm_pid=
	wait # for the sed above to print the last lines
	if [ -s "$share/status" ]; then
		return "$(cat "$share/status")"
	fi
	return 125
}

if command -v vng >/dev/null && [ -z "${XM_VM_NO_VNG:-}" ]; then
	runner=vng_run
else
	command -v qemu-system-x86_64 >/dev/null ||
		die "neither vng (virtme-ng) nor qemu-system-x86_64 is installed"
	runner=qemu_run
	make_initramfs
fi

# KVM can be present and still not boot the guest (it hangs or dies early
# here), so a trial boot running `true` decides; TCG needs no trial.
if [ "$accel" = auto ]; then
	accel=tcg
	if [ -w /dev/kvm ]; then
		echo "vmtest: trying KVM (trial boot)"
		if $runner kvm 60 true >/dev/null 2>&1; then
			accel=kvm
		else
			echo "vmtest: KVM did not run the trial guest; using TCG (slower)"
		fi
	fi
fi

# The selftests run several times slower under TCG than on the host.
[ "$accel" = tcg ] && [ -z "${XM_TEST_TIMEOUT:-}" ] && guest_env+=(XM_TEST_TIMEOUT=1800)

left=$((deadline - SECONDS))
[ "$left" -gt 0 ] || { echo "vmtest: timed out before the run" >&2; exit 124; }
echo "vmtest: booting $kver ($accel, $cpus cpus, ${mem} MiB, via ${runner%_run}) to run: ${cmd[*]}"
start=$SECONDS
set +e
$runner "$accel" "$left" "${cmd[@]}"
rc=$?
set -e
if [ "$SECONDS" -ge "$deadline" ]; then
	echo "vmtest: timed out after ${timeout_s}s; VM killed" >&2
	exit 124
fi
[ "$rc" -eq 125 ] && [ "$runner" = qemu_run ] &&
	echo "vmtest: the guest reported no exit status (boot failure or crash?)" >&2
echo "vmtest: exit status $rc after $((SECONDS - start))s"
exit "$rc"
