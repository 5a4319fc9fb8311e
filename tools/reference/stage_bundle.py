"""Writes a stage input bundle from reference records, so that our programs run on OpenFold3's
own features and trunk outputs:

  python3 tools/reference/stage_bundle.py features FEATURES OUT
  python3 tools/reference/stage_bundle.py trunk FEATURES TRUNK OUT

FEATURES and TRUNK are tools/reference fixtures (e.g. /tmp/of3-default/default_ubiquitin_
features.bundle.gz and ..._trunk.bundle.gz, kind "fixture", float64 taps). OUT gets kind
"features" (every features record, for of3-trunk) or "trunk" (the same plus s_input, s_trunk,
z_trunk as float32, for of3-diffuse). Used by the full-size parity checks (tests/full/,
docs/PARITY.md)."""
import gzip
import sys

import numpy as np

from of3ref.bundle import BundleWriter, read_bundles


def load(path):
    f = gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")
    with f:
        return next(iter(read_bundles(f)))


def main(argv):
    if not (len(argv) == 3 and argv[0] == "features") and not (
            len(argv) == 4 and argv[0] == "trunk"):
        sys.exit(__doc__)
    kind, out = argv[0], argv[-1]
    fh, feats = load(argv[1])
    w = BundleWriter(kind, fh["query"], "tools/reference/stage_bundle.py", fh.get("meta"))
    for name, item in feats.items():
        if isinstance(item, np.ndarray):
            w.tensor(name, item)
        else:
            w.value(name, item)
    if kind == "trunk":
        _, trunk = load(argv[2])
        for name in ("s_input", "s_trunk", "z_trunk"):
            w.tensor(name, np.asarray(trunk[name], dtype=np.float32))
    w.save(out)


if __name__ == "__main__":
    main(sys.argv[1:])
