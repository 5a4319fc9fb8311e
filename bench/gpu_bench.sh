#!/usr/bin/env bash
# bench/gpu_bench.sh: the GPU half of `make bench` (issue #10): bench/gpu_bench.py (our of3-trunk
# and of3-diffuse against the reference OpenFold3 model, same card, one run) when this machine has
# a working GPU and the vendored reference (bench/vendor.sh); otherwise one line saying why it
# was not run, and exit status 0, so `make bench` on a CPU machine stays the pipe benchmark.
# Arguments go to bench/gpu_bench.py (`make bench BENCH_ARGS="--sizes 76 256"`).
set -u
cd "$(dirname "$0")/.."
why=
if ! command -v nvidia-smi >/dev/null 2>&1; then
	why="no nvidia-smi on this machine (no NVIDIA GPU or driver)"
elif ! nvidia-smi -L >/dev/null 2>&1; then
	why="nvidia-smi finds no GPU: $(nvidia-smi -L 2>&1 | head -1)"
elif ! python3 -c 'import torch' >/dev/null 2>&1; then
	why="python3 has no torch (the reference model and its random weights need it)"
elif [ ! -f bench/vendor/bench_ref.py ]; then
	why="no bench/vendor/ (run bench/vendor.sh where the OpenFold3 sources are, then carry bench/vendor to this machine)"
fi
if [ -n "$why" ]; then
	echo "GPU benchmark (issue #10): not run: $why"
	exit 0
fi
echo "GPU benchmark (issue #10): bench/gpu_bench.py $*"
exec python3 bench/gpu_bench.py "$@"
