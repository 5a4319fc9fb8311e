"""Finding the pinned OpenFold3 source and putting the process into reference mode."""

import hashlib
import os
import random
import sys
import warnings
from pathlib import Path

import numpy as np

TOOL_DIR = Path(__file__).resolve().parent.parent          # tools/reference
REPO_DIR = TOOL_DIR.parent.parent                           # repository root
DEFAULT_SRC = REPO_DIR / "third_party" / "openfold-3"

# sha256 over the sorted (path, bytes) of every openfold3/**/*.py and *.yml file of
# aqlaboratory/openfold-3 at commit b7940cb0 (see source_digest); tells a wrong checkout apart.
EXPECTED_SOURCE_DIGEST = "d7631744657b8d52e36d40b671868b56e48a949934131c36389c437f5b5e4c99"


def source_digest(src: Path) -> str:
    h = hashlib.sha256()
    root = src / "openfold3"
    files = sorted(p for p in root.rglob("*")
                   if p.is_file() and p.suffix in (".py", ".yml", ".yaml", ".json")
                   and "tests" not in p.relative_to(root).parts)
    for p in files:
        h.update(str(p.relative_to(src)).encode() + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def setup(src=None, threads=1, check_source=True):
    """Put the pinned source on sys.path, switch off TF32 and fused kernels, fix threads.

    Returns a dict describing the environment (goes into every bundle's meta).
    """
    src = Path(src or os.environ.get("OF3_SRC") or DEFAULT_SRC).resolve()
    if not (src / "openfold3" / "projects" / "of3_all_atom" / "model.py").is_file():
        sys.exit(f"tools/reference: no OpenFold3 source at {src}; see tools/reference/README.md "
                 "(check out commit b7940cb0 of the public repository into third_party/openfold-3 "
                 "or pass --of3-src / set OF3_SRC)")
    digest = source_digest(src)
    if check_source and EXPECTED_SOURCE_DIGEST and digest != EXPECTED_SOURCE_DIGEST:
        sys.exit(f"tools/reference: the OpenFold3 source at {src} is not commit b7940cb0 "
                 f"(digest {digest[:16]}…, expected {EXPECTED_SOURCE_DIGEST[:16]}…); "
                 "pass --any-source to run anyway")
    if str(src) not in sys.path:
        sys.path.insert(0, str(src))

    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    warnings.simplefilter("ignore")       # OpenFold3 warns about every dummy MSA it writes
    import logging
    logging.getLogger().setLevel(logging.ERROR)

    import biotite
    import rdkit

    return {
        "openfold3_commit": "b7940cb0",
        "openfold3_source_digest": digest,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "biotite": biotite.__version__,
        "rdkit": rdkit.__version__,
        "threads": threads,
        "tf32": False,
        "deepspeed_evo_attention": False,
        "cueq_triangle_kernels": False,
    }


def seed_all(seed):
    """What pl.seed_everything does: Python random, NumPy and torch."""
    import torch
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
