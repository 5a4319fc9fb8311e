#!/usr/bin/env bash
# bench/pipe_throughput.sh: how fast a bundle streams between two of3 processes.
# One process writes a 2 GiB f32 tensor as a bundle, another reads it through a pipe into one
# buffer (the library's normal path: read(2) straight into the tensor). Five runs; prints each
# run's wall time for the whole pipeline and the median throughput. Results: docs/PERFORMANCE.md.
set -eu
cd "$(dirname "$0")/.."
tool=build/release/tests/bundle_tool
[ -x "$tool" ] || { echo "build first: make tests" >&2; exit 1; }
bytes=$((2 * 1024 * 1024 * 1024))
runs=${RUNS:-5}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r)"
echo "date: $(date -u +%Y-%m-%d)"
rates=()
for ((i = 1; i <= runs; i++)); do
	t0=$(date +%s%N)
	"$tool" write-big $bytes | "$tool" read-big - --no-check >/dev/null
	t1=$(date +%s%N)
	s=$(awk -v ns=$((t1 - t0)) 'BEGIN {printf "%.3f", ns / 1e9}')
	rate=$(awk -v ns=$((t1 - t0)) -v b=$bytes 'BEGIN {printf "%.2f", b / ns}')
	echo "run $i: $bytes bytes in $s s, $rate GB/s"
	rates+=("$rate")
done
median=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
echo "median: $median GB/s (bar: 1 GB/s)"
awk -v m="$median" 'BEGIN {exit !(m >= 1.0)}'
