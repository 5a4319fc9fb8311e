#!/usr/bin/env bash
# bench/vendor.sh: fills the git-ignored bench/vendor/ with what the reference model needs on the
# GPU machine (the reference-bench README, step 2), so that `make bench` there can time OpenFold3
# itself beside our programs. Nothing here is ever committed; the GPU machine reaches no network,
# so the folder travels with the `run` call (carry bench/vendor).
#
#   bench/vendor.sh [--ref-bench DIR]
#
# bench/vendor/ gets:
#   openfold3/      the OpenFold3 package of aqlaboratory/openfold-3 at commit b7940cb0, without
#                   openfold3/tests/ (test data and tests: the model never imports them), copied
#                   from OF3_SRC (default third_party/openfold-3, fetched as
#                   tools/reference/README.md says) after checking its digest against the one
#                   tools/reference pins
#   ml_collections/ google/ml_collections 1.1.0 (what tools/reference was run with): from
#                   `pip download`, else from the copy installed for this Python
#   bench_ref.py    the reference harness, from DIR (default ../shared/reference-bench beside the
#                   checkout, or REF_BENCH), which does not travel to the GPU machine
#   VENDORED        what was copied, from where, and the sizes
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
ref_bench=${REF_BENCH:-../shared/reference-bench}
[ "${1:-}" = --ref-bench ] && ref_bench=$2
src=${OF3_SRC:-third_party/openfold-3}
dst=bench/vendor
ml_version=1.1.0

die() { echo "bench/vendor.sh: $*" >&2; exit 1; }
[ -f "$src/openfold3/projects/of3_all_atom/model.py" ] ||
	die "no OpenFold3 source at $src (tools/reference/README.md, step 1, says how to get it; or set OF3_SRC)"
[ -f "$ref_bench/bench_ref.py" ] || die "no $ref_bench/bench_ref.py (pass --ref-bench DIR or set REF_BENCH)"

# The pinned commit, by the digest tools/reference checks (its *.py/*.yml/*.json outside tests/).
python3 - "$src" <<'EOF' || die "$src is not OpenFold3 commit b7940cb0 (digest differs)"
import sys
from pathlib import Path
sys.path.insert(0, "tools/reference")
from of3ref.env import EXPECTED_SOURCE_DIGEST, source_digest
sys.exit(source_digest(Path(sys.argv[1])) != EXPECTED_SOURCE_DIGEST)
EOF

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/vendor"
tar -C "$src" --exclude=openfold3/tests --exclude='__pycache__' -cf - openfold3 | tar -C "$tmp/vendor" -xf -

# ml_collections: a wheel from the registry, else the installed package.
ml_from=
if python3 -m pip download -q --no-deps --only-binary=:all: -d "$tmp/whl" \
	"ml_collections==$ml_version" >/dev/null 2>&1; then
	python3 -m zipfile -e "$tmp"/whl/ml_collections-*.whl "$tmp/whl/x"
	cp -r "$tmp/whl/x/ml_collections" "$tmp/vendor/"
	ml_from="pip download ml_collections==$ml_version ($(basename "$tmp"/whl/ml_collections-*.whl))"
else
	ml_dir=$(python3 -c 'import ml_collections, os; print(os.path.dirname(ml_collections.__file__))' 2>/dev/null) ||
		die "ml_collections: pip download failed and it is not installed (pip install ml_collections==$ml_version)"
	cp -r "$ml_dir" "$tmp/vendor/ml_collections"
	ml_from="installed copy $ml_dir ($(python3 -c 'import importlib.metadata as m; print(m.version("ml_collections"))' 2>/dev/null || echo '?'))"
fi
find "$tmp/vendor" -name __pycache__ -type d -prune -exec rm -rf {} +
cp "$ref_bench/bench_ref.py" "$tmp/vendor/bench_ref.py"
{
	echo "openfold3/: $src (aqlaboratory/openfold-3 b7940cb0, digest checked), openfold3/tests/ left out"
	echo "ml_collections/: $ml_from"
	echo "bench_ref.py: $ref_bench/bench_ref.py (sha256 $(sha256sum "$ref_bench/bench_ref.py" | cut -c1-16))"
	echo "made: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$tmp/vendor/VENDORED"

rm -rf "$dst"
mv "$tmp/vendor" "$dst"
size=$(du -sb "$dst" | cut -f1)
du -sh "$dst"/* | sed 's/^/  /'
echo "bench/vendor: $((size / 1024)) KiB (the run tool carries at most 64 MiB with the working tree)"
git -C "$repo" check-ignore -q "$dst" || die "$dst is not git-ignored: add /bench/vendor/ to .gitignore"
