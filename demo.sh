#!/usr/bin/env bash
# demo.sh (`make demo`): the main job on a bundled example, predicting ubiquitin's structure:
#   of3-parse | of3-featurize | of3-trunk | of3-diffuse | of3-writecif
# Each stage's bundle is kept in demo-out/ so any stage can be rerun alone. Until every stage
# exists the demo runs as far as the pipeline goes, says where and why it stopped, and shows
# what a bundle looks like with of3-inspect.
# Weights: OF3_WEIGHTS=/path/to/of3_ft3_v1.pt (default: the tiny test checkpoint, random values).
set -u
cd "$(dirname "$0")"
query=examples/query_ubiquitin.json
out=demo-out
weights=${OF3_WEIGHTS:-tests/fixtures/of3_tiny_random.pt}
mkdir -p "$out"

stage() { # name, then the command; stops the demo when a stage fails
	local name=$1
	shift
	echo "demo: $*"
	if ! "$@"; then
		echo
		echo "demo: the pipeline stops at $name (see the message above)."
		echo "demo: still to come: of3-diffuse (issue #8); of3-writecif is ready for its output."
		show_format
		exit 0
	fi
}

show_format() {
	local sample
	if [ -s "$out/ubiquitin.trunk" ]; then
		echo
		echo "demo: what of3-trunk made with the weights in $weights"
		echo "      (the default is the tiny test checkpoint: random weights, so the numbers mean nothing;"
		echo "      OF3_WEIGHTS=/path/to/of3_ft3_v1.pt runs the released model, slowly on the CPU):"
		bin/of3-inspect "$out/ubiquitin.trunk" | grep -E "bundle|meta|s_input|s_trunk|z_trunk"
	fi
	if [ -s "$out/ubiquitin.features" ]; then
		echo
		echo "demo: what of3-parse and of3-featurize made: the features the model reads, equal to"
		echo "      OpenFold3's but for the reference conformers (docs/DEVIATIONS.md):"
		echo "demo: bin/of3-inspect $out/ubiquitin.features"
		bin/of3-inspect "$out/ubiquitin.features"
	fi
	sample=$(ls tests/fixtures/features_query_ubiquitin.bundle.gz 2>/dev/null)
	[ -n "$sample" ] || return 0
	echo
	echo "demo: for comparison, the features OpenFold3's own data pipeline made for this query"
	echo "      (a reference fixture):"
	echo "demo: gzip -dc $sample | bin/of3-inspect"
	gzip -dc "$sample" | bin/of3-inspect | grep -E "bundle|ref_pos|msa |restype"
}

stage of3-parse bin/of3-parse "$query" -o "$out/ubiquitin.assembly"
stage of3-featurize bin/of3-featurize "$out/ubiquitin.assembly" -o "$out/ubiquitin.features"
stage of3-trunk bin/of3-trunk -w "$weights" "$out/ubiquitin.features" -o "$out/ubiquitin.trunk"
stage of3-diffuse bin/of3-diffuse -w "$weights" "$out/ubiquitin.trunk" -o "$out/ubiquitin.diffuse"
stage of3-writecif bin/of3-writecif -o "$out" "$out/ubiquitin.diffuse"
echo "demo: done; structures in $out/"
