#!/bin/bash
# default_parity.sh: parity of of3-trunk and of3-diffuse with OpenFold3 at the default (released)
# configuration, on a random full-size checkpoint (issues #7, #8; docs/PARITY.md). Too slow and
# too large for make test (a 1.5 GB checkpoint; on the CPU backend about 11 min of trunk and
# 5 min of diffusion for ubiquitin): run by `make test-full`.
#
#   tests/full/default_parity.sh [TAPS_DIR]
#
# TAPS_DIR (default build/default-taps) holds what tools/reference/make_fixtures.py --config
# default writes for examples/query_ubiquitin.json (the checkpoint, features, trunk, sample and
# heads records); it is made first when missing, which needs the pinned OpenFold3 source and
# torch (tools/reference/README.md). Then, fed OpenFold3's own inputs at each stage:
#   of3-trunk (4 cycles, fp32, CPU): s_input, s_trunk, z_trunk within 1e-3 relative;
#   of3-diffuse with OpenFold3's recorded draws (10 steps, 2 samples): coordinates within
#   0.01 Å RMSD per sample, the heads' logits within 1e-3 relative.
# Prints every measured error; exits 1 when one is above its bar.
set -euo pipefail
cd "$(dirname "$0")/../.."
taps=${1:-build/default-taps}
bin=${BIN:-bin}
device=${DEVICE:-cpu}
ref=tools/reference
if [ ! -e "$taps/default_ubiquitin_heads.bundle.gz" ]; then
	echo "# making the default-configuration taps in $taps (OpenFold3 on the CPU, float64)"
	python3 "$ref/make_fixtures.py" --config default --only taps \
		--queries examples/query_ubiquitin.json --out "$taps" --threads "$(nproc)"
fi
taps=$(realpath "$taps")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ckpt=$taps/of3_default_random.pt
python3 "$ref/stage_bundle.py" features "$taps/default_ubiquitin_features.bundle.gz" \
	"$work/features.bundle"
python3 "$ref/stage_bundle.py" trunk "$taps/default_ubiquitin_features.bundle.gz" \
	"$taps/default_ubiquitin_trunk.bundle.gz" "$work/trunk_ref.bundle"
gzip -dc "$taps/default_ubiquitin_sample.bundle.gz" >"$work/sample.bundle"
status=0
echo "# of3-trunk, default configuration, ubiquitin, 4 cycles, --device $device --precision fp32"
"$bin/of3-trunk" -w "$ckpt" --device "$device" --precision fp32 -q -o "$work/trunk.bundle" \
	"$work/features.bundle"
python3 "$ref/compare.py" --bar 1e-3 "$work/trunk.bundle" \
	"$taps/default_ubiquitin_trunk.bundle.gz" s_input s_trunk z_trunk || status=1
echo "# of3-diffuse, OpenFold3's trunk outputs and recorded draws, --device $device --precision fp32"
"$bin/of3-diffuse" -w "$ckpt" --device "$device" --precision fp32 -q \
	--noise-replay "$work/sample.bundle" -o "$work/diffuse.bundle" "$work/trunk_ref.bundle"
python3 "$ref/compare.py" --rmsd-bar 0.01 "$work/diffuse.bundle" "$work/sample.bundle" \
	--rmsd atom_positions_predicted || status=1
python3 "$ref/compare.py" --bar 1e-3 "$work/diffuse.bundle" \
	"$taps/default_ubiquitin_heads.bundle.gz" plddt_logits experimentally_resolved_logits \
	pde_logits pae_logits distogram_logits || status=1
[ $status = 0 ] && echo "default-configuration parity: every error within its bar" ||
	echo "default-configuration parity: FAILED (an error above its bar)"
exit $status
