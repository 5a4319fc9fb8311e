"""Relative Frobenius error between tensors of two bundle files (ours against the reference):

  python3 tools/reference/compare.py [--bar X] [--rmsd-bar Y] OURS REFERENCE
                                     NAME[=REFNAME[INDEX]] ... [--rmsd NAME[=REFNAME] ...]

Both files may be gzipped. NAME is a tensor of OURS; REFNAME (default NAME) is the reference's,
and REFNAME[k] takes its k-th slice along the first axis (a per-cycle tap: s_cycle[3]).
Prints one line per tensor: ||ours - ref|| / ||ref||, the max absolute difference and shapes.
Names after --rmsd are coordinates [..., atoms, 3]: one RMSD (Å) per leading index (sample).
Exits 1 if a tensor is missing, the shapes differ, or an error is above --bar / an RMSD above
--rmsd-bar. Used for the on-demand full-size parity checks (tests/full/, docs/PARITY.md)."""
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
    bar = rmsd_bar = None
    while argv and argv[0] in ("--bar", "--rmsd-bar"):
        if argv[0] == "--bar":
            bar = float(argv[1])
        else:
            rmsd_bar = float(argv[1])
        argv = argv[2:]
    if len(argv) < 3:
        sys.exit(__doc__)
    ours, ref = load(argv[0]), load(argv[1])
    bad = 0
    rmsd = False
    for spec in argv[2:]:
        if spec == "--rmsd":
            rmsd = True
            continue
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
        if rmsd:
            d = np.sqrt(((a - b) ** 2).sum(-1).mean(-1)).reshape(-1)
            over = rmsd_bar is not None and d.max() > rmsd_bar
            print(f"{spec}: RMSD " + ", ".join(f"{x:.3g}" for x in d) + " Å"
                  + (f" (bar {rmsd_bar:g})" if rmsd_bar is not None else "")
                  + (" ABOVE THE BAR" if over else ""))
            bad |= int(over)
            continue
        rel = np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)
        over = bar is not None and rel > bar
        print(f"{spec}: relative Frobenius error {rel:.3g}, max |difference| "
              f"{np.max(np.abs(a - b)):.3g}, shape {list(a.shape)}"
              + (f" (bar {bar:g})" if bar is not None else "")
              + (" ABOVE THE BAR" if over else ""))
        bad |= int(over)
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
