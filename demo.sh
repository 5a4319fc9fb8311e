#!/usr/bin/env bash
# demo.sh (`make demo`): the README's first command. Predicts two structures with the driver,
#   bin/of3 predict QUERIES -w WEIGHTS -o demo-out
# which runs of3-parse | of3-featurize | of3-trunk | of3-diffuse | of3-writecif for each query:
# ubiquitin (examples/query_ubiquitin.json, 76 residues) and a small protein+ligand complex
# (tests/fixtures/queries/protein_ligand.json: a 20-residue peptide, a SMILES ligand and Mg2+;
# the protein+ligand examples in examples/ have 737 tokens, which the single-threaded CPU trunk
# takes tens of minutes over).
# Weights: OF3_WEIGHTS=/path/to/of3_ft3_v1.pt (default: the tiny test checkpoint, random values).
set -u
cd "$(dirname "$0")"
out=demo-out
queries=(examples/query_ubiquitin.json tests/fixtures/queries/protein_ligand.json)
weights=${OF3_WEIGHTS:-tests/fixtures/of3_tiny_random.pt}
extra=()
# The tiny checkpoint's configuration has num_recycles 2: 3 trunk cycles, as its fixtures.
[ -z "${OF3_WEIGHTS:-}" ] && extra=(--cycles 3)

echo "demo: bin/of3 predict ${queries[*]} -w $weights -o $out ${extra[*]}"
bin/of3 predict "${queries[@]}" -w "$weights" -o "$out" ${extra[@]+"${extra[@]}"}
status=$?
echo
if [ $status = 0 ]; then
	echo "demo: structures, confidences and rankings are in $out/<query>/ (ranking.csv: best first):"
	ls "$out"/*/ranking.csv "$out"/*/seed_*/*_sample_1_model.cif 2>/dev/null | sed 's/^/  /'
else
	echo "demo: of3 predict failed (exit status $status; the messages above say why)."
fi
if [ -z "${OF3_WEIGHTS:-}" ]; then
	cat <<EOF

demo: NOTE: these weights ($weights) are a tiny checkpoint with RANDOM values,
      made for the tests: the pipeline runs end to end, but the structures and confidences
      it predicts are NOT meaningful.
      For real predictions use OpenFold3's released checkpoint of3_ft3_v1.pt (~2.3 GB),
      public on AWS S3 (OpenFold3's scripts/download_openfold3_params.sh fetches it so):
        aws s3 cp --no-sign-request s3://openfold/openfold3_params/of3_ft3_v1.pt .
        # or: curl -O https://openfold.s3.amazonaws.com/openfold3_params/of3_ft3_v1.pt
      and give it with -w:
        bin/of3 predict examples/query_ubiquitin.json -w of3_ft3_v1.pt -o out/
      (or OF3_WEIGHTS=\$PWD/of3_ft3_v1.pt make demo). At full size the trunk is slow on the
      CPU backend (minutes per cycle for ubiquitin); with an NVIDIA GPU the trunk and the
      diffusion run there (--device auto, the default).
EOF
fi
exit $status
