#!/usr/bin/env bash
# Kernel TCP through a veth with xdpmux attached (nothing bound) and netem
# delaying every packet 20 ms +- 10 ms (normal distribution; the jitter also
# reorders): the file arrives byte-identical.
# No timing is asserted; netem carrying the transfer is checked.
# VM only (sch_netem): scripts/vmtest.sh.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netem.sh"

netem_setup xm-vj1 xm-vj2 xmvj1a xmvj1b 64
netem_transfer "delay 20ms jitter 10ms" 6 7420 true \
	delay 20ms 10ms distribution normal
