#!/usr/bin/env bash
# Kernel TCP through a veth with xdpmux attached (nothing bound) and netem
# reordering 25% of the packets (sent at once, the rest 5 ms late): the file
# arrives byte-identical and the receiver did queue out-of-order segments.
# VM only (sch_netem): scripts/vmtest.sh.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netem.sh"

reordered() { [ "$(netem_rx_nstat TcpExtTCPOFOQueue)" -gt 0 ]; }

netem_setup xm-vr1 xm-vr2 xmvr1a xmvr1b 62
netem_transfer "reorder 25%" 6 7225 reordered delay 5ms reorder 25% 50%

