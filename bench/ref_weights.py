#!/usr/bin/env python3
"""The reference benchmark's random model as a checkpoint our programs load.

    OF3_REF_VENDOR=bench/vendor python3 bench/ref_weights.py OUT.pt [--seed 0] [--device cuda]

Builds the OpenFold3 model exactly as bench_ref.py does (its build_config / build_model /
randomize_parameters, presets predict + pae_enabled, the same --seed and device, so the
same generator draws the same parameters), and writes torch.save(model.state_dict()) to OUT.pt
(written under a temporary name, renamed when complete). That flat {key: float32 tensor} dict is
the layout of the released of3_ft3_v1.pt (p1); the sample_diffusion.diffusion_module.* entries
share their storage with diffusion_module.*, so torch.save writes them once (about 1.47 GB).

One difference stays: the two fourier-embedding buffers of the diffusion conditioning are drawn
from torch's global generator when the model is constructed, which bench_ref.py does not seed;
they are not parameters, so randomize_parameters leaves them, and each process has its own.
The arithmetic, and so the timing, is the same.

Needs torch and the vendored sources (bench/vendor.sh); bench_ref.py is read from the vendor
folder (or --bench-ref FILE)."""

import argparse
import importlib.util
import json
import os
import sys
import time


def load_bench_ref(path):
    spec = importlib.util.spec_from_file_location("bench_ref", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0, help="bench_ref.py's --seed (default 0)")
    ap.add_argument("--device", default="cuda",
                    help="where the parameters are drawn, as bench_ref.py --device (default "
                         "cuda): a CUDA generator and a CPU one draw different numbers")
    ap.add_argument("--bench-ref", default=None, help="bench_ref.py (default: in the vendor folder)")
    args = ap.parse_args()

    vendor = os.environ.get("OF3_REF_VENDOR", os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "vendor"))
    ref = load_bench_ref(args.bench_ref or os.path.join(vendor, "bench_ref.py"))
    sys.path.insert(0, vendor)
    ref.install_stubs()
    import torch

    t0 = time.perf_counter()
    cfg_args = argparse.Namespace(presets=["predict", "pae_enabled"], recycles=None, steps=None,
                                  samples=None, pairformer_blocks=None, diffusion_blocks=None)
    cfg, _ = ref.build_config(cfg_args)
    model = ref.build_model(cfg)
    device = torch.device(args.device)
    model = model.to(device).eval()
    ref.randomize_parameters(model, args.seed)
    t_build = time.perf_counter() - t0

    sd = {k: v.detach().to("cpu", torch.float32) for k, v in model.state_dict().items()}
    # Keep the shared storage of the duplicated diffusion module: after .to("cpu") each tensor
    # has its own copy, so point the sample_diffusion twins back at the first one.
    pfx = "sample_diffusion."
    for k in sd:
        if k.startswith(pfx) and k[len(pfx):] in sd:
            sd[k] = sd[k[len(pfx):]]
    del model
    tmp = f"{args.out}.tmp{os.getpid()}"
    t1 = time.perf_counter()
    try:
        torch.save(sd, tmp)
        os.replace(tmp, args.out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    info = {"file": args.out, "bytes": os.path.getsize(args.out), "keys": len(sd),
            "seed": args.seed, "device": args.device, "build_randomize_s": round(t_build, 2),
            "save_s": round(time.perf_counter() - t1, 2), "torch": torch.__version__}
    print(json.dumps(info), flush=True)


if __name__ == "__main__":
    main()
