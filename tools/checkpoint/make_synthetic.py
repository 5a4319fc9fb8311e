#!/usr/bin/env python3
"""A full-size checkpoint in the released p1 layout with random values, for timing the reader
(docs/PERFORMANCE.md) and for trying the stages on real shapes without the released file.

Every key and shape of tests/fixtures/checkpoint/default_state_dict_keys.tsv (the default
OpenFold3 model's state dict, duplicated sample_diffusion.diffusion_module.* entries included),
each its own float32 (or --dtype bf16) storage, N(0, 1/fan_in) values from --seed; torch.save of
the flat dict, as the released of3_ft3_v1.pt is (spec/trunk.md §1). About 2.3 GB in fp32: write it
outside the repository.

    python3 tools/checkpoint/make_synthetic.py /tmp/of3_synthetic.pt [--dtype bf16] [--seed 1]
"""

import argparse
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
KEYS = REPO / "tests" / "fixtures" / "checkpoint" / "default_state_dict_keys.tsv"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    dtype = torch.float32 if args.dtype == "f32" else torch.bfloat16
    g = torch.Generator().manual_seed(args.seed)
    sd = {}
    for line in KEYS.read_text().splitlines():
        if line.startswith("#"):
            continue
        key, shape = line.split("\t")
        shape = [int(d) for d in shape.split(",")] if shape else []
        t = torch.randn(shape, generator=g, dtype=torch.float32)
        if len(shape) >= 2:
            t /= shape[-1] ** 0.5
        sd[key] = t.to(dtype)
    torch.save(sd, args.out)
    print(f"{args.out}: {len(sd)} tensors, {sum(t.numel() for t in sd.values())} values, "
          f"{Path(args.out).stat().st_size} bytes")


if __name__ == "__main__":
    main()
