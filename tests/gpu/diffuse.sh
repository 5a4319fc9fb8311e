#!/usr/bin/env bash
# diffuse.sh: of3-diffuse on the GPU (issue #10), run by `make test-gpu` after the op tests:
#   - the diffuse parity tests (tests/test_diffuse_{module,sampler,heads}) on CUDA through
#     tests/test_device.h, in fp32 (the CPU's bars: 1e-4 relative, 1e-3 Å RMSD) and in bf16
#     (5e-2 relative, 0.1 Å; the sampler also checks bf16 within 0.1 Å RMSD of fp32 with the
#     same replayed noise, the issue's bar);
#   - of3-diffuse --device auto takes the GPU;
#   - determinism: of3-diffuse --device cuda twice with the same seed gives identical bytes, in
#     both precisions, and the same bytes with the step's CUDA graphs off (OF3_CUDA_GRAPHS=0)
#     (the trunk bundle comes from of3-parse | of3-featurize | of3-trunk on the CPU, as
#     tests/run.sh makes it);
#   - a query that does not fit (OF3_CUDA_FREE_MIB=1) is refused with the estimate and the free
#     memory in its message, and nothing is written.
# Prints the tests' error lines and "# diffuse on GPU: N passed, N failed"; exits 1 on a failure.
set -u
cd "$(dirname "$0")/../.."
build=${BUILD:-build/release}
bin=${BIN:-bin}
w=tests/fixtures/of3_tiny_random.pt
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }

for prec in fp32 bf16; do
	for t in module sampler heads; do
		echo "# test_diffuse_$t on cuda, $prec"
		OF3_TEST_DEVICE=cuda OF3_TEST_PRECISION=$prec "$build/tests/test_diffuse_$t" >"$T/log" 2>&1
		status=$?
		n_ok=$(grep -c '^ok' "$T/log")
		n_bad=$(grep -c '^not ok' "$T/log")
		passed=$((passed + n_ok))
		failed=$((failed + n_bad))
		grep -E '^not ok|^# backend|x_denoised vs|x_denoised of every|RMSD|PAE vs|pLDDT vs|distogram vs' "$T/log" |
			sed "s/^/  [$prec] /"
		awk -v p="$prec" -v t="$t" '/relative Frobenius error/ {
			for (i = 1; i < NF; i++) if ($i == "error") { v = $(i + 1) + 0; if (v > m) m = v } }
			END { if (m) printf "  [%s] test_diffuse_%s: largest relative Frobenius error %.3e\n", p, t, m }' "$T/log"
		if [ "$status" != 0 ] && [ "$n_bad" = 0 ]; then
			not_ok "test_diffuse_$t ($prec) exited $status"
			tail -5 "$T/log"
		fi
	done
done

echo "# of3-diffuse on the GPU"
trunk=$T/trunk.bundle
if "$bin/of3-parse" tests/fixtures/queries/protein_ligand.json | "$bin/of3-featurize" -q |
	"$bin/of3-trunk" -w "$w" --cycles 3 --device cpu -q -o "$trunk" 2>"$T/err"; then
	if "$bin/of3-diffuse" -w "$w" -v --steps 2 --samples 1 -o "$T/auto.bundle" "$trunk" 2>&1 |
		grep -q 'running on cuda'; then
		ok "of3-diffuse --device auto runs on the GPU"
	else
		not_ok "of3-diffuse --device auto did not take the GPU"
	fi
	for prec in bf16 fp32; do
		for k in 1 2; do
			start=$(date +%s%N)
			"$bin/of3-diffuse" -w "$w" --device cuda --precision $prec --steps 50 --samples 5 \
				--seed 7 -q -o "$T/$prec.$k.bundle" "$trunk" || not_ok "of3-diffuse --precision $prec failed"
			echo "#   run $k, $prec: $((($(date +%s%N) - start) / 1000000)) ms (5 samples x 50 steps)"
		done
		if cmp -s "$T/$prec.1.bundle" "$T/$prec.2.bundle"; then
			ok "determinism: of3-diffuse --device cuda --precision $prec twice, seed 7: identical bytes ($(wc -c <"$T/$prec.1.bundle") bytes)"
		else
			not_ok "determinism: of3-diffuse --device cuda --precision $prec twice differ"
		fi
		# the step recorded as CUDA graphs (kernels/graph.h) against every op launched alone
		OF3_CUDA_GRAPHS=0 "$bin/of3-diffuse" -w "$w" --device cuda --precision $prec --steps 50 \
			--samples 5 --seed 7 -q -o "$T/$prec.nograph.bundle" "$trunk" ||
			not_ok "of3-diffuse with OF3_CUDA_GRAPHS=0 --precision $prec failed"
		if cmp -s "$T/$prec.1.bundle" "$T/$prec.nograph.bundle"; then
			ok "CUDA graphs: the replayed step gives the same bytes as the ops one by one ($prec)"
		else
			not_ok "CUDA graphs: the replayed step and the ops one by one differ ($prec)"
		fi
	done
	# a query that does not fit the GPU is refused before any work, with nothing written
	OF3_CUDA_FREE_MIB=1 "$bin/of3-diffuse" -w "$w" --device cuda --steps 2 --samples 5 \
		-o "$T/nofit.bundle" "$trunk" 2>"$T/err"
	st=$?
	if [ "$st" != 0 ] && [ ! -e "$T/nofit.bundle" ] && grep -q 'GiB of GPU memory' "$T/err" &&
		grep -q 'free' "$T/err"; then
		ok "of3-diffuse refuses a query that does not fit (exit $st): $(head -1 "$T/err")"
	else
		not_ok "of3-diffuse with 1 MiB of GPU memory free: exit $st: $(head -3 "$T/err")"
	fi
else
	not_ok "no trunk bundle for the of3-diffuse checks: $(head -3 "$T/err")"
fi
echo "# diffuse on GPU: $passed passed, $failed failed"
[ "$failed" = 0 ]
