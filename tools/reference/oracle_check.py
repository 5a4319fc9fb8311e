#!/usr/bin/env python3
"""Cross-check generated taps against the readable oracles of shared/oracle/.

  python3 tools/reference/oracle_check.py DIR PREFIX [--oracle-dir ../shared/oracle]

DIR holds PREFIX_{features,trunk,diffusion,sample,heads}.bundle.gz and the checkpoint the
bundles name. The oracles are independent re-derivations of the OpenFold3 math (trunk_ref.py,
diffusion_ref.py, heads_ref.py); they hard-code the default configuration's head counts, so
this works for `--config default` fixtures, and the heads check for protein-only queries
(representative atoms CB / CA for Gly). Prints relative Frobenius and max-abs differences.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from of3ref.bundle import read_file  # noqa: E402


def one(path):
    (h, b), = read_file(path)
    return h, b


def report(name, a, ref):
    a, ref = np.asarray(a, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    r = np.linalg.norm(a - ref) / max(np.linalg.norm(ref), 1e-300)
    print(f"{name:34s} rel {r:.3e}  maxabs {np.abs(a - ref).max():.3e}")
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("prefix")
    ap.add_argument("--oracle-dir", default=str(HERE.parent.parent.parent / "shared" / "oracle"))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    sys.path.insert(0, args.oracle_dir)
    import torch
    import diffusion_ref
    import heads_ref
    import trunk_ref

    torch.set_num_threads(args.threads)
    d = Path(args.dir)
    hdr, F = one(d / f"{args.prefix}_features.bundle.gz")
    _, T = one(d / f"{args.prefix}_trunk.bundle.gz")
    _, D = one(d / f"{args.prefix}_diffusion.bundle.gz")
    _, S = one(d / f"{args.prefix}_sample.bundle.gz")
    _, H = one(d / f"{args.prefix}_heads.bundle.gz")
    meta = hdr["meta"]
    sd = torch.load(d / meta["checkpoint"], map_location="cpu", weights_only=True)
    worst = 0.0

    # trunk (torch, float64)
    f = {}
    for k, v in F.items():
        if isinstance(v, np.ndarray):
            t = torch.from_numpy(v.copy())
            f[k] = t.double() if t.is_floating_point() else t
    sd64 = {k: v.double() for k, v in sd.items()}
    with torch.no_grad():
        s_input, s, z = trunk_ref.run_trunk(sd64, f, num_cycles=meta["n_cycle"],
                                            n_pairformer_blocks=meta["n_pairformer_block"])
    worst = max(worst, report("trunk s_input", s_input.numpy(), T["s_input"]))
    worst = max(worst, report("trunk s_trunk", s.numpy(), T["s_trunk"]))
    worst = max(worst, report("trunk z_trunk", z.numpy(), T["z_trunk"]))

    # one diffusion-module call (NumPy)
    P = {k[len("diffusion_module."):]: v.double().numpy() for k, v in sd.items()
         if k.startswith("diffusion_module.")}
    b = {k: v.astype(np.float64) if v.dtype.kind == "f" else v.astype(np.int64)
         for k, v in F.items() if isinstance(v, np.ndarray)}
    for k in ("ref_mask", "ref_element", "ref_atom_name_chars"):
        b[k] = b[k].astype(np.float64)
    t = float(D["diffusion_t"])
    for i in range(D["diffusion_x_noisy"].shape[0]):
        x = diffusion_ref.diffusion_module(b, D["diffusion_x_noisy"][i], t, T["s_input"],
                                           T["s_trunk"], T["z_trunk"], P)
        worst = max(worst, report(f"diffusion x_denoised[{i}]", x, D["diffusion_x_denoised"][i]))

    # confidence heads (NumPy), protein-only queries
    if F["is_protein"].all() and not F["is_atomized"].any():
        P = {k[len("aux_heads."):]: v.double().numpy() for k, v in sd.items()
             if k.startswith("aux_heads.")}
        gly = F["restype"].argmax(-1) == 7
        rep = F["start_atom_index"].astype(np.int64) + np.where(gly, 1, 4)
        for i in range(S["atom_positions_predicted"].shape[0]):
            o = heads_ref.heads(b, T["s_input"], T["s_trunk"], T["z_trunk"],
                                S["atom_positions_predicted"][i], rep, np.ones(len(rep)), P)
            for k, v in o.items():
                ref = H[k] if k == "distogram_logits" else H[k][i]
                worst = max(worst, report(f"heads {k}[{i}]", v, ref))
    else:
        print("heads: skipped (the check knows representative atoms of proteins only)")
    print(f"worst relative difference {worst:.3e}")
    sys.exit(0 if worst < 1e-10 else 1)


if __name__ == "__main__":
    main()
