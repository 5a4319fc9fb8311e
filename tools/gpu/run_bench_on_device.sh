#!/usr/bin/env bash
# run_bench_on_device.sh: the GPU benchmark of issue #10 (`make bench`: the pipe benchmark, then
# bench/gpu_bench.py: our of3-trunk / of3-diffuse and the reference OpenFold3 model on the same
# card) in one go on the lent GPU machine, which lacks msgpack-c and cJSON and reaches no network.
#
# Before, here (CPU machine): bench/vendor.sh (fills the git-ignored bench/vendor/: OpenFold3's
# sources, ml_collections, bench_ref.py; about 3 MB) and the Debian packages in third_party/debs
# (see tools/gpu/run_on_device.sh for the apt-get download line). Then two run calls, one after
# the other so that the second finds the machine warm (build and weights kept; cold, it redoes
# them, about 3 min more). Each fits the run tool's 10-minute limit:
#
#   run(command="BENCH_SIZES='76 256 512' tools/gpu/run_bench_on_device.sh",
#       carry=["third_party/debs", "bench/vendor"], kind="nvidia-h100-x1", timeout_s=600)
#   run(command="BENCH_SIZES=1024 tools/gpu/run_bench_on_device.sh",
#       carry=["third_party/debs", "bench/vendor"], kind="nvidia-h100-x1", timeout_s=600)
#
# (One call with BENCH_SIZES='76 256 512 1024' is what `make bench` means, but the reference alone
# needs about 6 min for that plus the build, so it would not end inside 10 minutes.) Each call
# returns in $OUT: build.log, bench.log (everything printed), gpu_bench.json, gpu_bench.md,
# gpu_bench.log (every stage's stderr). Copy both gpu_bench.json files out of files_at before
# the next call, then combine them here:
#   python3 bench/gpu_bench.py --merge A/gpu_bench.json B/gpu_bench.json --out bench/out
# and quote bench/out/gpu_bench.md (card and date are in it) in docs/PERFORMANCE.md.
#
# Variables: BENCH_SIZES (default '76 256 512 1024'), BENCH_ARGS (more bench/gpu_bench.py
# arguments, e.g. '--ref-modes fp32 bf16' or '--precision fp32'), BENCH_BUDGET (seconds from this
# script's start after which no new stage starts, default 570: the results written so far still
# come back), DEBS, PREFIX as in tools/gpu/deps.sh.
set -euo pipefail
start=$(date +%s)
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/of3-bench-out}
mkdir -p "$out"
. tools/gpu/deps.sh
[ -f bench/vendor/bench_ref.py ] || echo "note: no bench/vendor (carry it): the reference will not run"
make -j"$(nproc)" --no-print-directory all tests >"$out/build.log" 2>&1 ||
	{ tail -40 "$out/build.log"; exit 1; }
echo "# build: $(($(date +%s) - start)) s"
deadline=$((start + ${BENCH_BUDGET:-570}))
set -o pipefail
# shellcheck disable=SC2086 # BENCH_SIZES and BENCH_ARGS are word lists
make --no-print-directory bench \
	BENCH_ARGS="--sizes ${BENCH_SIZES:-76 256 512 1024} --deadline-at $deadline --out $out ${BENCH_ARGS:-}" \
	2>&1 | tee "$out/bench.log" || echo "# make bench: exit status $?"
echo "# total: $(($(date +%s) - start)) s"
