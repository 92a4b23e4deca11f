#!/usr/bin/env bash
# Install every build, test and benchmark dependency of xdpmux from Debian
# packages. Idempotent: apt-get skips what is already installed.
set -euo pipefail

pkgs=(
	# build
	make gcc clang llvm pkg-config libbpf-dev libxdp-dev bpftool
	libelf-dev zlib1g-dev libmnl-dev scdoc
	# tests
	libcriterion-dev iproute2 socat netcat-openbsd curl jq procps
	util-linux ethtool iputils-ping python3 redis-server redis-tools
	# benchmarks
	iperf3 nginx-light wrk tcpdump gnuplot-nox
	# Debian packages (make deb) and the man pages read by the tests
	debhelper dpkg-dev fakeroot man-db
	# VM selftests (scripts/vmtest.sh)
	qemu-system-x86 busybox-static linux-image-amd64 kmod cpio
)

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: must run as root (apt-get)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Packages such as nginx start their service on install; the benchmarks run
# their own instances in namespaces and nothing may listen on the host, so
# forbid service starts while installing (policy-rc.d, exit 101).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
apt-get update -q
apt-get install -y -q --no-install-recommends "${pkgs[@]}"
