#!/usr/bin/env bash
# run_on_device.sh: builds the CUDA build and runs `make test-gpu` in one go on a GPU machine that
# lacks the build's libraries (msgpack-c, cJSON) and cannot reach a package registry. The Debian
# packages come along in DEBS (default third_party/debs, git-ignored), fetched beforehand where
# apt works:
#   mkdir -p third_party/debs && (cd third_party/debs &&
#       apt-get download libmsgpackc2 libmsgpack-dev libcjson1 libcjson-dev)
# They are unpacked into PREFIX (default /tmp/of3-deps), never into /, and found through CPATH,
# LIBRARY_PATH and LD_LIBRARY_PATH. Logs go to $OUT (or /tmp): build.log, test-gpu.log.
set -euo pipefail
cd "$(dirname "$0")/../.."
debs=${DEBS:-third_party/debs}
prefix=${PREFIX:-/tmp/of3-deps}
if ! printf '#include <msgpack.h>\n#include <cjson/cJSON.h>\n' | cc -E - >/dev/null 2>&1; then
	for f in "$debs"/*.deb; do
		dpkg -x "$f" "$prefix"
	done
	lib=$prefix/usr/lib/$(cc -print-multiarch)
	export CPATH="$prefix/usr/include${CPATH:+:$CPATH}"
	export LIBRARY_PATH="$lib${LIBRARY_PATH:+:$LIBRARY_PATH}"
	export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
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
