#!/usr/bin/env bash
# run_on_device.sh: builds the CUDA build and runs `make test-gpu` in one go on the GPU machine
# (its missing libraries: tools/gpu/deps.sh). Logs go to $OUT (or /tmp): build.log, test-gpu.log.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tools/gpu/deps.sh
out=${OUT:-/tmp}
start=$(date +%s)
make -j"$(nproc)" --no-print-directory build/release/libof3kernels.a build/release/libof3common.a \
	bin/of3-diffuse build/release/tests/test_diffuse_module build/release/tests/test_diffuse_sampler \
	build/release/tests/test_diffuse_heads >"$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
# the CPU programs that make of3-diffuse's input bundle in test-gpu's GPU checks (optional there)
make -j"$(nproc)" -k --no-print-directory bin/of3-parse bin/of3-featurize bin/of3-trunk \
	share/of3/ccd.bundle >>"$out/build.log" 2>&1 || echo "# (some CPU programs did not build: see build.log)"
# of3-trunk's parity tests on the GPU (tests/gpu/trunk.sh)
make -j"$(nproc)" --no-print-directory $(printf 'build/release/tests/test_trunk_%s ' pairformer \
	template msa input_embedder parity) >>"$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
echo "# build: $(($(date +%s) - start)) s"
make --no-print-directory test-gpu 2>&1 | tee "$out/test-gpu.log"
# memcheck and racecheck of the same tests where compute-sanitizer works (SANITIZE=1)
if [ "${SANITIZE:-0}" = 1 ]; then
	for tool in memcheck racecheck; do
		compute-sanitizer --tool "$tool" --error-exitcode 1 \
			build/release/tests/gpu/test_ops_cuda --quick >"$out/sanitize-$tool.log" 2>&1 &&
			echo "# compute-sanitizer $tool: clean" ||
			{ echo "# compute-sanitizer $tool: FAILED"; grep -v '^ok' "$out/sanitize-$tool.log" | head -30; }
	done
fi
# op timings at the trunk's sizes (not a test): BENCH_N=0 skips them
if [ "${BENCH_N:-384}" != 0 ]; then
	make --no-print-directory build/release/tests/gpu/bench_ops >>"$out/build.log" 2>&1
	build/release/tests/gpu/bench_ops "${BENCH_N:-384}" | tee "$out/bench-ops.log"
fi
