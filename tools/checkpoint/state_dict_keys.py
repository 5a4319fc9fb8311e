#!/usr/bin/env python3
"""Every state-dict key and shape of the default-configuration OpenFold3 model (the released
p1 layout, spec/trunk.md §1.2), for the tests that check what the stages expect of a released
checkpoint without the 1.5 GB file.

Builds OpenFold3(config) of the pinned source (commit b7940cb0, found as tools/reference finds it:
third_party/openfold-3, --of3-src or $OF3_SRC; tools/reference/README.md) at the predict +
pae_enabled configuration, on the meta device (no memory for the weights), and writes

    tests/fixtures/checkpoint/default_state_dict_keys.tsv    key <TAB> shape (comma-separated)

in state_dict() order: what torch.save(model.state_dict()) of the released model holds, the
duplicated sample_diffusion.diffusion_module.* entries included.

    python3 tools/checkpoint/state_dict_keys.py [--of3-src DIR] [--out FILE]
"""

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools" / "reference"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--of3-src", default=None)
    ap.add_argument("--any-source", action="store_true",
                    help="skip the check that the source is commit b7940cb0")
    ap.add_argument("--out", default=str(REPO / "tests" / "fixtures" / "checkpoint" /
                                         "default_state_dict_keys.tsv"))
    args = ap.parse_args()

    from of3ref import env
    env.setup(args.of3_src, threads=1, check_source=not args.any_source)
    import torch
    from of3ref import model as of3model

    cfg = of3model.make_config("default")
    with torch.device("meta"):
        m = of3model.build_model(cfg)
    sd = m.state_dict()
    n_values = 0
    with open(args.out, "w") as f:
        f.write("# key\tshape: OpenFold3 b7940cb0, default predict+pae_enabled configuration "
                "(tools/checkpoint/state_dict_keys.py)\n")
        for k, v in sd.items():
            f.write(f"{k}\t{','.join(str(d) for d in v.shape)}\n")
            n_values += v.numel()
    print(f"{args.out}: {len(sd)} keys, {n_values} values")


if __name__ == "__main__":
    main()
