"""Writes a trunk bundle (docs/FORMAT.md "trunk") from a reference features record and a
reference trunk record, so that of3-diffuse runs on OpenFold3's own trunk outputs:

  python3 tools/reference/trunk_bundle.py FEATURES TRUNK OUT

FEATURES and TRUNK are tools/reference fixtures (e.g. /tmp/of3-default/default_ubiquitin_
features.bundle.gz and ..._trunk.bundle.gz, kind "fixture", float64 taps); OUT gets kind
"trunk" with every features record and s_input, s_trunk, z_trunk as float32. Used for the
diffusion parity checks in docs/PARITY.md."""
import gzip
import sys

import numpy as np

from of3ref.bundle import BundleWriter, read_bundles


def load(path):
    f = gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")
    with f:
        return next(iter(read_bundles(f)))


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    (fh, feats), (_, trunk) = load(argv[0]), load(argv[1])
    w = BundleWriter("trunk", fh["query"], "tools/reference/trunk_bundle.py", fh.get("meta"))
    for name, item in feats.items():
        if isinstance(item, np.ndarray):
            w.tensor(name, item)
        else:
            w.value(name, item)
    for name in ("s_input", "s_trunk", "z_trunk"):
        w.tensor(name, np.asarray(trunk[name], dtype=np.float32))
    w.save(argv[2])


if __name__ == "__main__":
    main(sys.argv[1:])
