#!/usr/bin/env python3
"""Reference fixtures for of3: run the pinned OpenFold3 (commit b7940cb0) on CPU and write
what it computes as of3 bundles (docs/FORMAT.md).

  python3 tools/reference/make_fixtures.py --out tests/fixtures
      everything committed under tests/fixtures: the tiny checkpoint, the tiny-configuration
      taps of tests/fixtures/queries/*.json, the featurization records of examples/*.json

  python3 tools/reference/make_fixtures.py --config default --only taps \\
          --queries examples/query_ubiquitin.json --out /tmp/of3-default
      default-configuration (full-size) random checkpoint and taps, on demand (not committed)

See tools/reference/README.md.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from of3ref import PRODUCER, env  # noqa: E402

REPO = env.REPO_DIR


def log(msg):
    print(f"make_fixtures: {msg}", file=sys.stderr, flush=True)


def rel(p):
    p = Path(p).resolve()
    try:
        return str(p.relative_to(REPO))
    except ValueError:
        return p.name


def writer(query, meta):
    from of3ref.bundle import BundleWriter
    return BundleWriter("fixture", query, PRODUCER, meta)


def save(w, out, name):
    path = Path(out) / name
    n = w.save(path)
    log(f"wrote {rel(path)} ({n / 1e6:.2f} MB, {len(w.records)} records)")
    return path


# ------------------------------------------------------------------------------------------
# featurization records of the example queries
# ------------------------------------------------------------------------------------------
def featurization_records(args, env_meta):
    from of3ref import featurize as F

    fz = F.Featurizer()
    files = sorted(Path(args.examples).glob("*.json"))
    if not files:
        sys.exit(f"make_fixtures: no query files in {args.examples}")
    for path in files:
        raw = F.raw_queries(path)
        bundles = []
        for qid, query, overrides in F.prepared_queries(fz, path):
            t0 = time.time()
            feats, atom_array = fz.features(query, args.seed)
            meta = dict(env_meta)
            meta.update(F.feature_meta(feats, atom_array))
            meta.update({
                "seed": args.seed,
                "source_file": rel(path),
                "msa_mode": "msa-free: query-only dummy MSA per protein/RNA chain "
                            "(run_openfold predict --use_msa_server=False)",
                "templates": "none (--use_templates=False): all template features zero",
                "query_overrides": overrides,
            })
            w = writer(qid, meta)
            w.value("query_json", json.dumps(raw[qid], sort_keys=True))
            F.atom_records(w, atom_array)
            F.feature_records(w, feats)
            bundles.append(w)
            log(f"featurized {qid} ({meta['n_token']} tokens, {meta['n_atom']} atoms, "
                f"{time.time() - t0:.1f} s)")
        name = f"features_{path.stem}.bundle.gz"
        _save_stream(bundles, Path(args.out) / name)
    fz.close()


def _save_stream(writers, path):
    """Several bundles back to back in one (gzip) file."""
    import gzip
    import io
    import os
    data = b"".join(w.encode() for w in writers)
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(buf.getvalue())
    os.replace(tmp, path)
    log(f"wrote {rel(path)} ({len(buf.getvalue()) / 1e6:.2f} MB, {len(writers)} bundle(s))")


# ------------------------------------------------------------------------------------------
# model taps
# ------------------------------------------------------------------------------------------
TRUNK = ["s_input", "s_init", "z_init", "z_recycled_cycle0", "template_embedder_out",
         "msa_module_in_m", "msa_module_in_mask", "msa_module_in_z", "msa_module_out_z",
         "s_recycled_cycle0", "pairformer_block0_out_s", "pairformer_block0_out_z",
         "s_cycle", "z_cycle", "s_trunk", "z_trunk"]
DIFFUSION = ["diffusion_t", "diffusion_x_noisy", "diffusion_cond_s", "diffusion_cond_z",
             "diffusion_enc_c", "diffusion_enc_q", "diffusion_enc_a", "diffusion_transformer_a",
             "diffusion_dec_r_update", "diffusion_x_denoised"]
SAMPLE = ["noise_schedule", "sample_noise_init", "sample_aug_quat", "sample_aug_trans",
          "sample_noise_step", "sample_t_hat", "sample_x_noisy", "sample_x_denoised",
          "atom_positions_predicted"]
HEADS = ["confidence_pairformer_s", "confidence_pairformer_z", "distogram_logits",
         "plddt_logits", "experimentally_resolved_logits", "pde_logits", "pae_logits",
         "has_frame", "plddt", "pde", "pae", "gpde", "ptm", "iptm", "disorder", "has_clash",
         "sample_ranking_score", "chain_asym_id", "chain_ptm", "chain_pair_asym_id",
         "chain_pair_iptm", "bespoke_iptm"]


def model_taps(args, env_meta):
    import torch

    from of3ref import featurize as F
    from of3ref import model as M
    from of3ref import taps as T

    cfg = M.make_config(args.config)
    cmeta = M.config_meta(cfg, args.config)
    model = M.build_model(cfg)
    M.randomize_(model, args.weight_seed)
    ckpt = Path(args.out) / f"of3_{args.config}_random.pt"
    nbytes, nkeys = M.save_checkpoint(model, ckpt)
    log(f"wrote {rel(ckpt)} ({nbytes / 1e6:.2f} MB, {nkeys} tensors, weight seed "
        f"{args.weight_seed})")
    del model
    if args.only == "checkpoint":
        return

    dtype = torch.float64
    fz = F.Featurizer()
    for qfile in args.queries:
        raw = F.raw_queries(qfile)
        for qid, query, overrides in F.prepared_queries(fz, qfile):
            feats, atom_array = fz.features(query, args.seed)
            model = M.load_checkpoint_into(M.build_model(cfg), ckpt)
            t0 = time.time()
            R = T.run(model, feats, atom_array, qid, args.seed, n_step=args.steps,
                      n_sample=args.samples, t_fixed=args.t_fixed, dtype=dtype)
            log(f"ran {args.config} model on {qid} in {time.time() - t0:.1f} s")
            fmeta = F.feature_meta(feats, atom_array)
            base = dict(env_meta)
            base.update(cmeta)
            base.update(fmeta)
            base.update({
                "seed": args.seed,
                "weight_seed": args.weight_seed,
                "checkpoint": ckpt.name,
                "source_file": rel(qfile),
                "precision": "float64 (model.double(); features cast from their float32 "
                             "values); disorder uses float32 coordinates (rasa.py casts)",
                "msa_mode": "msa-free: query-only dummy MSA per protein/RNA chain",
                "templates": "none: all template features zero",
                "query_overrides": overrides,
            })
            prefix = f"{args.config}_{qid}"

            w = writer(qid, base)
            w.value("query_json", json.dumps(raw[qid], sort_keys=True))
            F.atom_records(w, atom_array)
            F.feature_records(w, feats)
            save(w, args.out, f"{prefix}_features.bundle.gz")

            m = dict(base)
            m["n_msa_sub"] = int(R["msa_module_in_m"].shape[0])
            m["inputs"] = f"{prefix}_features.bundle.gz"
            w = writer(qid, m)
            for k in TRUNK:
                w.tensor(k, R[k])
            save(w, args.out, f"{prefix}_trunk.bundle.gz")

            m = dict(base)
            m.update({"n_sample": args.samples, "t_hat": args.t_fixed,
                      "inputs": f"{prefix}_features.bundle.gz + {prefix}_trunk.bundle.gz "
                                "(s_input, s_trunk, z_trunk)",
                      "x_noisy": "t_hat * N(0, I) from torch.Generator(seed + 1), float64"})
            w = writer(qid, m)
            for k in DIFFUSION:
                w.tensor(k, R[k])
            save(w, args.out, f"{prefix}_diffusion.bundle.gz")

            m = dict(base)
            m.update({"n_sample": args.samples, "n_step": args.steps,
                      "n_schedule": args.steps + 1,
                      "inputs": f"{prefix}_features.bundle.gz + {prefix}_trunk.bundle.gz",
                      "draws": "every torch.randn/randn_like of SampleDiffusion.forward in "
                               "order: noise_init, then per step quat, trans, noise"})
            w = writer(qid, m)
            for k in SAMPLE:
                w.tensor(k, R[k])
            save(w, args.out, f"{prefix}_sample.bundle.gz")

            m = dict(base)
            m.update({"n_sample": args.samples,
                      "n_chain": int(R["chain_asym_id"].shape[0]),
                      "n_chain_pair": int(R["chain_pair_asym_id"].shape[0]),
                      "inputs": f"{prefix}_features.bundle.gz + {prefix}_trunk.bundle.gz + "
                                f"atom_positions_predicted of {prefix}_sample.bundle.gz"})
            w = writer(qid, m)
            for k in HEADS:
                w.tensor(k, R[k])
            save(w, args.out, f"{prefix}_heads.bundle.gz")
    fz.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--config", choices=["tiny", "default"], default="tiny")
    ap.add_argument("--only", choices=["all", "checkpoint", "taps", "features"], default="all",
                    help="taps includes the checkpoint; all = taps + featurization records")
    ap.add_argument("--queries", nargs="*", default=None,
                    help="query files for the model taps (default: tests/fixtures/queries/"
                         "protein.json and protein_ligand.json)")
    ap.add_argument("--examples", default=str(REPO / "examples"),
                    help="directory of example queries for the featurization records")
    ap.add_argument("--seed", type=int, default=42, help="data pipeline and model seed")
    ap.add_argument("--weight-seed", type=int, default=1234, help="seed of the random weights")
    ap.add_argument("--steps", type=int, default=10, help="diffusion steps of the sampling run")
    ap.add_argument("--samples", type=int, default=2, help="diffusion samples")
    ap.add_argument("--t-fixed", type=float, default=10.0,
                    help="noise level of the single diffusion-module call")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch CPU threads (1 gives bit-identical reruns)")
    ap.add_argument("--of3-src", default=None,
                    help="OpenFold3 source checkout (default third_party/openfold-3 or $OF3_SRC)")
    ap.add_argument("--any-source", action="store_true",
                    help="run even if the source is not commit b7940cb0")
    args = ap.parse_args()

    Path(args.out).mkdir(parents=True, exist_ok=True)
    env_meta = env.setup(args.of3_src, threads=args.threads, check_source=not args.any_source)
    if args.queries is None:
        args.queries = [str(REPO / "tests/fixtures/queries" / f"{q}.json")
                        for q in ("protein", "protein_ligand")]

    if args.only in ("all", "checkpoint", "taps"):
        model_taps(args, env_meta)
    if args.only in ("all", "features") and args.config == "tiny":
        featurization_records(args, env_meta)
    elif args.only == "features":
        featurization_records(args, env_meta)


if __name__ == "__main__":
    main()
