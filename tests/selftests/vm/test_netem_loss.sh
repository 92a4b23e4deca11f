#!/usr/bin/env bash
# Kernel TCP through a veth with xdpmux attached (nothing bound) and netem
# dropping 1%, 5% and 10% of the packets in both directions: the file arrives
# byte-identical (retransmission recovers every loss) and, at 5% and 10%,
# netem did drop. (At 1% of ~1500 segments netem on 6.1 drops only a handful,
# measured 3; zero is too likely to assert on.)
# VM only (sch_netem): scripts/vmtest.sh.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netem.sh"

dropped() { [ "$(netem_drops)" -gt 0 ]; }

netem_setup xm-vl1 xm-vl2 xmvl1a xmvl1b 61
netem_transfer "loss 1%" 4 7101 true loss 1%
netem_transfer "loss 5%" 6 7105 dropped loss 5%
netem_transfer "loss 10%" 4 7110 dropped loss 10%
