#!/usr/bin/env bash
# trunk.sh: of3-trunk on the GPU (issue #10), run by `make test-gpu` after the op tests. The
# trunk parity tests (tests/test_trunk_{pairformer,template,msa,input_embedder,parity}.c) on
# --device cuda in fp32 (the CPU's bars against the reference) and in bf16 (1e-2; the whole
# trunk also against an fp32 run on the same card and run twice for identical bytes); then the
# program on the tiny protein-ligand query's features (of3-parse | of3-featurize): two runs in
# each precision give identical bundles (cmp), the memory estimate is printed (--verbose), and
# the wall time of each run; a query that does not fit (OF3_CUDA_FREE_MIB=1) is refused with
# the estimate and the free memory in its message, and nothing is written.
# Prints "# trunk on the GPU: N failed"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.."
build=${BUILD:-build/release}
bin=${BIN:-bin}
failed=0
for p in fp32 bf16; do
	for t in pairformer template msa input_embedder parity; do
		echo "# test_trunk_$t on cuda, $p"
		OF3_TEST_DEVICE=cuda OF3_TEST_PRECISION=$p "$build/tests/test_trunk_$t" ||
			failed=$((failed + 1))
	done
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$bin/of3-parse" tests/fixtures/queries/protein_ligand.json 2>"$tmp/log" |
	"$bin/of3-featurize" >"$tmp/f.bundle" 2>>"$tmp/log"; then
	echo "not ok - the features of the tiny protein_ligand query (of3-parse | of3-featurize):"
	cat "$tmp/log"
	echo "# trunk on the GPU: $((failed + 1)) failed"
	exit 1
fi
w=tests/fixtures/of3_tiny_random.pt
for p in bf16 fp32; do
	for k in 1 2; do
		t0=$(date +%s.%N)
		"$bin/of3-trunk" -w "$w" --cycles 3 --device cuda --precision "$p" --verbose \
			-o "$tmp/$p.$k.bundle" "$tmp/f.bundle" 2>"$tmp/log" || {
			echo "not ok - of3-trunk --device cuda --precision $p failed:"
			cat "$tmp/log"
			failed=$((failed + 1))
			continue
		}
		t1=$(date +%s.%N)
		grep -E 'estimated|running on' "$tmp/log" | sed 's/^/# /'
		echo "# of3-trunk tiny protein_ligand, 3 cycles, cuda $p, run $k: $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s wall"
	done
	if cmp -s "$tmp/$p.1.bundle" "$tmp/$p.2.bundle"; then
		echo "ok - of3-trunk --device cuda --precision $p twice: identical bytes"
	else
		echo "not ok - of3-trunk --device cuda --precision $p twice: bundles differ"
		failed=$((failed + 1))
	fi
done
# a query that does not fit the GPU is refused before any work, with nothing written
# (OF3_CUDA_FREE_MIB makes the backend report only 1 MiB free)
OF3_CUDA_FREE_MIB=1 "$bin/of3-trunk" -w "$w" --cycles 3 --device cuda -o "$tmp/nofit.bundle" \
	"$tmp/f.bundle" 2>"$tmp/log"
st=$?
if [ "$st" != 0 ] && [ ! -e "$tmp/nofit.bundle" ] && grep -q 'GiB of GPU memory' "$tmp/log" &&
	grep -q 'free' "$tmp/log"; then
	echo "ok - of3-trunk refuses a query that does not fit (exit $st): $(head -1 "$tmp/log")"
else
	echo "not ok - of3-trunk with 1 MiB of GPU memory free: exit $st, output $(ls "$tmp/nofit.bundle" 2>/dev/null || echo none):"
	cat "$tmp/log"
	failed=$((failed + 1))
fi
"$bin/of3-trunk" -w "$w" --cycles 3 --device cpu -o "$tmp/cpu.bundle" "$tmp/f.bundle" 2>/dev/null &&
	echo "# (cpu run for comparison: $(stat -c %s "$tmp/cpu.bundle") bytes)"
echo "# trunk on the GPU: $failed failed"
[ "$failed" = 0 ]
