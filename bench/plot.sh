#!/usr/bin/env bash
# Plot BUILD/bench.json into BUILD/bench.svg (gnuplot): per measure, the
# baseline as 1 and xdpmux as its ratio to it, side by side on a log axis, the ratio
# written above and the bar green where xdpmux does better (higher, or
# lower for latencies and costs), red where it does worse. The measure's
# label carries both figures in its unit. Measures without a baseline are
# left out. `make bench` runs it; `make bench-plot` alone redoes it.
#   bench/plot.sh BUILD
set -euo pipefail

build=${1:?usage: bench/plot.sh BUILD}
json=$build/bench.json
svg=$build/bench.svg
[ -s "$json" ] || { echo "plot: no $json: run make bench first" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "plot: gnuplot is not installed (gnuplot-nox)" >&2; exit 1; }

data=$(mktemp)
trap 'rm -f "$data"' EXIT
# One line per measure: index, label, ratio, better (1/0). A ratio of 0
# (a count xdpmux kept at zero) has no place on a log axis: left out.
jq -r '
	def fig: if (. | fabs) >= 100 then (. | round | tostring)
		 else (. * 1000 | round / 1000 | tostring) end;
	[.[] | select(.baseline != null and .xdpmux != null and .baseline != 0 and .xdpmux > 0)]
	| to_entries[] | .value as $m
	| ($m.ratio // ($m.xdpmux / $m.baseline)) as $r
	| [.key, "\($m.name): \($m.xdpmux | fig) vs \($m.baseline | fig) \($m.unit) (\($m.baseline_name))",
	   $r, (if ($m.higher_is_better and $r >= 1) or
		   ($m.higher_is_better | not) and $r <= 1 then 1 else 0 end)]
	| @tsv' "$json" >"$data"
n=$(wc -l <"$data")
[ "$n" -gt 0 ] || { echo "plot: no measure with a baseline in $json" >&2; exit 1; }

gnuplot <<GP
set terminal svg size 1100,$((150 + 46 * n)) dynamic noenhanced font "sans,12" background "white"
set output "$svg.tmp"
set datafile separator "\t"
stats "$data" using 3 nooutput
# Ratios span orders of magnitude (ns per packet, tail latencies): a log
# axis, from a power of two below the smallest to one above the largest.
lo = 2**floor(log(STATS_min < 1 ? STATS_min : 1) / log(2) - 0.5)
hi = 2**ceil(log(STATS_max > 1 ? STATS_max : 1) / log(2) + 0.5)
set title "xdpmux beside its baseline (baseline = 1)"
set xlabel "xdpmux / baseline (log scale)"
set logscale x 2
set xrange [lo:hi]
set format x "%g"
set style fill solid 0.85 border -1
set yrange [$n - 0.4:-0.6]
set grid xtics
set ytics nomirror font ",11"
set lmargin 62
set key outside top center horizontal
set arrow from 1, graph 0 to 1, graph 1 nohead dt 2 lc rgb "#555555"
plot "$data" using (1):(\$1 - 0.19):(lo):(1):(\$1 - 0.36):(\$1 - 0.02):ytic(2) \
	with boxxyerror lc rgb "#b0b0b0" title "baseline", \
     "" using (\$3):(\$1 + 0.19):(lo):(\$3):(\$1 + 0.02):(\$1 + 0.36):(\$4 > 0 ? 0x2e8b57 : 0xc0392b) \
	with boxxyerror lc rgb variable title "xdpmux (green: better, red: worse)", \
     "" using 3:(\$1 + 0.19):(sprintf(" %.2fx", \$3)) with labels left font ",11" notitle
GP
mv "$svg.tmp" "$svg"
echo "plot: $svg ($n measures)"
