#!/usr/bin/env python3
"""What torch.load makes of the test checkpoints, for tests/test_checkpoint.c to compare with.

Writes into tests/fixtures/checkpoint/:
  tiny_expected.tsv   every key of tests/fixtures/of3_tiny_random.pt, as torch.load returns it
                      (sample_diffusion.diffusion_module.* copies included);
  small_expected.tsv  every tensor of the ok_*.pt and layout_*.pt files (make_bad.py), after
                      the unwrapping OpenFold3's loader does (get_state_dict_from_checkpoint with
                      init_from_ema_weights=True: ckpt["ema"]["params"] of a training
                      checkpoint), with "model." removed, and for ok_dup_sample_diffusion.pt the
                      values a strict load_state_dict leaves in a module that shares its
                      diffusion module with its sampler, as OpenFold3 does.

Columns: [file,] key, dtype (f32 / bf16 / f16), shape (comma-separated, empty for 0-d), sum and
sum of squares of the values in float64 (%.17g), and the first 4 values (%.9g, exact for these
dtypes), comma-separated. The numbers come from torch, never from the C reader.

    python3 tools/checkpoint/make_expected.py
"""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_bad import Shared  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
FIX = REPO / "tests" / "fixtures" / "checkpoint"
DTYPES = {torch.float32: "f32", torch.bfloat16: "bf16", torch.float16: "f16"}


def row(key, t):
    v = t.detach().reshape(-1).to(torch.float64)
    first = ",".join("%.9g" % x for x in v[:4].tolist())
    shape = ",".join(str(d) for d in t.shape)
    return "\t".join([key, DTYPES[t.dtype], shape, "%.17g" % v.sum().item(),
                      "%.17g" % (v * v).sum().item(), first])


def state_dict(path):
    """As run_openfold predict gets it (spec/trunk.md §1.1), without the "model." it adds."""
    # torch's weights-only unpickler does not know protocol 4's FRAME; that file was written
    # by make_bad.py itself, so loading it unrestricted is safe.
    ckpt = torch.load(path, map_location="cpu", weights_only=path.name != "ok_protocol4.pt")
    if "module" in ckpt or "state_dict" in ckpt:
        ckpt = ckpt["ema"]["params"]
    sd = {}
    for k, v in ckpt.items():
        if k == "version_tensor":
            continue
        sd[k[len("model."):] if k.startswith("model.") else k] = v
    if path.name == "ok_dup_sample_diffusion.pt":
        m = Shared()
        m.load_state_dict(sd, strict=True)
        sd = m.state_dict()
    # The sample_diffusion.diffusion_module.* entries are the same tensors as diffusion_module.*
    # once loaded; the C reader lists them once, under diffusion_module.
    return {k: v for k, v in sd.items() if not k.startswith("sample_diffusion.diffusion_module.")}


def main():
    tiny = torch.load(REPO / "tests" / "fixtures" / "of3_tiny_random.pt", map_location="cpu",
                      weights_only=True)
    with open(FIX / "tiny_expected.tsv", "w") as f:
        f.write("# key\tdtype\tshape\tsum\tsumsq\tfirst values (tools/checkpoint/make_expected.py)\n")
        for k, v in tiny.items():
            f.write(row(k, v) + "\n")
    n = 0
    with open(FIX / "small_expected.tsv", "w") as f:
        f.write("# file\tkey\tdtype\tshape\tsum\tsumsq\tfirst values "
                "(tools/checkpoint/make_expected.py)\n")
        for path in sorted(FIX.glob("ok_*.pt")) + sorted(FIX.glob("layout_*.pt")):
            for k, v in state_dict(path).items():
                f.write(path.name + "\t" + row(k, v) + "\n")
                n += 1
    print(f"tiny_expected.tsv: {len(tiny)} keys; small_expected.tsv: {n} tensors")


if __name__ == "__main__":
    main()
