#!/bin/bash
# Guest side of scripts/vmtest.sh. Prepares what the tests need on top of the
# host's read-only root (tmpfs on /tmp and /run, bpffs, veth and sch_netem
# modules) and runs the command.
#
#   As the VM's init (PID 1, qemu path): also mounts /proc, /sys and the
#   writable share (9p tag xmshare) where the host left the command (cmd),
#   runs it, writes its exit status to status there and powers off.
#   Otherwise (vng path): vm-init.sh CMD...  runs CMD, exits with its status.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp TERM=${TERM:-dumb} LC_ALL=C.UTF-8 XM_IN_VM=1
share=/run/xm-vmshare

# mnt TYPE DIR [OPTIONS]: mount unless something already is (vng mounts some).
mnt() {
	mountpoint -q "$2" && return 0
	mkdir -p "$2" 2>/dev/null
	mount -t "$1" ${3:+-o "$3"} "$1" "$2" ||
		echo "vm-init: cannot mount $1 on $2" >&2
}

prepare() {
	local m
	mnt proc /proc
	mnt sysfs /sys
	mnt devtmpfs /dev
	mnt devpts /dev/pts
	mnt tmpfs /dev/shm mode=1777
	# The host's root is read-only; vng already makes these writable.
	[ -w /run ] || mnt tmpfs /run mode=0755
	[ -w /tmp ] || mnt tmpfs /tmp mode=1777
	[ -w /var/tmp ] || mnt tmpfs /var/tmp mode=1777
	mnt bpf /sys/fs/bpf mode=0700
	mnt debugfs /sys/kernel/debug
	mnt tracefs /sys/kernel/tracing
	# Built in on Debian's kernel (namespaces, BPF, XDP, AF_XDP); modules:
	for m in veth sch_netem; do
		modprobe -q "$m" || echo "vm-init: cannot load module $m" >&2
	done
	ip link set lo up
	hostname xm-vm 2>/dev/null
}

if [ $$ -ne 1 ]; then
	prepare
	exec "$@"
fi

prepare
status=125
if mkdir -p "$share" &&
	mount -t 9p -o trans=virtio,version=9p2000.L xmshare "$share"; then
	echo "vm-init: $(uname -r) up after $(cut -d' ' -f1 /proc/uptime)s"
	bash "$share/cmd" </dev/null
	status=$?
	echo "$status" >"$share/status.tmp" && mv "$share/status.tmp" "$share/status"
	umount "$share"
else
	echo "vm-init: cannot mount the host's share (9p tag xmshare)" >&2
fi
sync
# Power off at once; the host reads the status from the share.
busybox poweroff -f 2>/dev/null || echo o >/proc/sysrq-trigger
sleep 60
