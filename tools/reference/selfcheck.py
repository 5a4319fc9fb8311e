#!/usr/bin/env python3
"""Consistency checks of generated fixtures, independent of OpenFold3 (NumPy only).

  python3 tools/reference/selfcheck.py tests/fixtures [PREFIX ...]

For each tap set (default: every *_sample.bundle.gz in the directory):
- replays the sampler of spec/diffusion_heads.md §2.2-§2.3 from the recorded draws and the
  recorded module outputs, and compares every noisy input and the final coordinates;
- recomputes pLDDT, PDE and PAE from their logits (§6.1, §6.2, §6.4);
- checks that the final trunk outputs are the last cycle's and that the atom list and the
  features agree (atom_token_id = atom_to_token_index, symmetric token_bonds).
A recording that missed or reordered a draw fails the replay.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from of3ref.bundle import read_file  # noqa: E402


def one(path):
    (h, b), = read_file(path)
    return h, b


def quat_to_rot(q):
    q0, q1, q2, q3 = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.stack([
        np.stack([q0*q0 + q1*q1 - q2*q2 - q3*q3, 2*(q1*q2 - q0*q3), 2*(q1*q3 + q0*q2)], -1),
        np.stack([2*(q1*q2 + q0*q3), q0*q0 - q1*q1 + q2*q2 - q3*q3, 2*(q2*q3 - q0*q1)], -1),
        np.stack([2*(q1*q3 - q0*q2), 2*(q2*q3 + q0*q1), q0*q0 - q1*q1 - q2*q2 + q3*q3], -1),
    ], -2)


def rel(a, b):
    d = np.linalg.norm(a - b)
    n = np.linalg.norm(b)
    return d / n if n else d


def check_sample(S, atom_mask, tol):
    c = S["noise_schedule"]
    T = S["sample_t_hat"].shape[0]
    x = c[0] * S["sample_noise_init"]
    m = atom_mask[None, :, None]
    worst = 0.0
    for i in range(T):
        q = S["sample_aug_quat"][i]
        q = q / np.linalg.norm(q, axis=-1, keepdims=True)
        R = quat_to_rot(q)                                           # [S,3,3]
        mu = (x * m).sum(-2, keepdims=True) / m.sum(-2, keepdims=True)
        x = (np.einsum("sak,sjk->saj", x - mu, R) + S["sample_aug_trans"][i][:, None, :]) * m
        gamma = 0.8 if c[i + 1] > 1.0 else 0.0
        t = c[i] * (gamma + 1)
        worst = max(worst, abs(t - S["sample_t_hat"][i]) / t)
        xi = 1.003 * np.sqrt(t * t - c[i] * c[i]) * S["sample_noise_step"][i]
        xh = x + xi
        worst = max(worst, rel(xh, S["sample_x_noisy"][i]))
        D = S["sample_x_denoised"][i]
        x = S["sample_x_noisy"][i] + 1.5 * (c[i + 1] - t) * (S["sample_x_noisy"][i] - D) / t
    worst = max(worst, rel(x, S["atom_positions_predicted"]))
    return worst


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def check_heads(H):
    k = np.arange(50)
    plddt = 100 * (softmax(H["plddt_logits"]) * (k + 0.5) / 50).sum(-1)
    k = np.arange(64)
    pde = (softmax(H["pde_logits"]) * (0.25 + 0.5 * k)).sum(-1)
    pae = (softmax(H["pae_logits"]) * (0.25 + 0.5 * k)).sum(-1)
    return max(rel(plddt, H["plddt"]), rel(pde, H["pde"]), rel(pae, H["pae"]))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    d = Path(sys.argv[1])
    prefixes = sys.argv[2:] or sorted(p.name[:-len("_sample.bundle.gz")]
                                      for p in d.glob("*_sample.bundle.gz"))
    bad = 0
    for p in prefixes:
        _, F = one(d / f"{p}_features.bundle.gz")
        _, Tr = one(d / f"{p}_trunk.bundle.gz")
        _, S = one(d / f"{p}_sample.bundle.gz")
        _, H = one(d / f"{p}_heads.bundle.gz")
        problems = []
        w = check_sample(S, F["atom_mask"].astype(np.float64), 1e-12)
        if w > 1e-12:
            problems.append(f"sampler replay differs by {w:.2e}")
        w = check_heads(H)
        if w > 1e-12:
            problems.append(f"pLDDT/PDE/PAE from logits differ by {w:.2e}")
        if not (np.array_equal(Tr["s_trunk"], Tr["s_cycle"][-1])
                and np.array_equal(Tr["z_trunk"], Tr["z_cycle"][-1])):
            problems.append("s_trunk/z_trunk are not the last cycle's outputs")
        if not np.array_equal(F["atom_token_id"], F["atom_to_token_index"]):
            problems.append("atom_token_id != atom_to_token_index")
        if not np.array_equal(F["token_bonds"], F["token_bonds"].T):
            problems.append("token_bonds not symmetric")
        if len(F["atom_name"]) != F["atom_mask"].shape[0]:
            problems.append("atom list length != N_atom")
        print(f"{p}: " + ("ok" if not problems else "; ".join(problems)))
        bad += bool(problems)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
