#!/usr/bin/env bash
# Kernel TCP through a veth with xdpmux attached (nothing bound) and netem
# duplicating 5% of the packets: the file arrives byte-identical, once, and
# the receiver did see duplicate data (it answered with D-SACKs, RFC 2883).
# VM only (sch_netem): scripts/vmtest.sh.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netem.sh"

duplicated() {
	[ $(($(netem_rx_nstat TcpExtTCPDSACKOldSent) +
		$(netem_rx_nstat TcpExtTCPDSACKOfoSent))) -gt 0 ]
}

netem_setup xm-vd1 xm-vd2 xmvd1a xmvd1b 63
netem_transfer "duplicate 5%" 4 7305 duplicated duplicate 5%
