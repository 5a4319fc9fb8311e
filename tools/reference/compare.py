"""Relative Frobenius error between tensors of two bundle files (ours against the reference):

  python3 tools/reference/compare.py OURS REFERENCE NAME[=REFNAME[INDEX]] ...

Both files may be gzipped. NAME is a tensor of OURS; REFNAME (default NAME) is the reference's,
and REFNAME[k] takes its k-th slice along the first axis (a per-cycle tap: s_cycle[3]).
Prints one line per tensor: ||ours - ref|| / ||ref||, the max absolute difference and shapes;
exits 1 if a tensor is missing or the shapes differ. Used for the on-demand full-size parity
checks recorded in docs/PARITY.md."""
import gzip
import re
import sys

import numpy as np

from of3ref.bundle import read_bundles


def load(path):
    f = gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")
    with f:
        return next(iter(read_bundles(f)))[1]


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    ours, ref = load(argv[0]), load(argv[1])
    bad = 0
    for spec in argv[2:]:
        name, _, refspec = spec.partition("=")
        m = re.fullmatch(r"([^\[]+)(?:\[(-?\d+)\])?", refspec or name)
        rname, index = m.group(1), m.group(2)
        if name not in ours or rname not in ref:
            print(f"{spec}: missing in {'ours' if name not in ours else 'the reference'}")
            bad = 1
            continue
        a = np.asarray(ours[name], dtype=np.float64)
        b = np.asarray(ref[rname], dtype=np.float64)
        if index is not None:
            b = b[int(index)]
        if a.shape != b.shape:
            print(f"{spec}: shapes {a.shape} and {b.shape} differ")
            bad = 1
            continue
        rel = np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)
        print(f"{spec}: relative Frobenius error {rel:.3g}, max |difference| "
              f"{np.max(np.abs(a - b)):.3g}, shape {list(a.shape)}")
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
