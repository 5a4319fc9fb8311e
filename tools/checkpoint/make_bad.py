#!/usr/bin/env python3
"""Small checkpoints for tests/test_checkpoint.c and the of3-inspect command-line cases.

Writes tests/fixtures/checkpoint/{ok,bad,layout}_*.pt (a few KB each):
  ok_*      good checkpoints in every form the reader accepts (bf16, fp16, EMA-wrapped,
            "model."-prefixed, a module's OrderedDict state dict, parameters, shared and offset
            storages, 0-d and empty tensors, pickle protocol 4, ZIP64 records, a misaligned
            storage, the duplicated sample_diffusion.diffusion_module.* keys);
  layout_*  the distinguishing keys of p2, OpenBind and an unknown layout (1-element tensors);
  bad_*     one fault each (not a zip, no data.pkl, GLOBAL os.system, a forbidden opcode,
            truncated storage / file / pickle, float64 and int64 weights, a non-contiguous
            tensor, a compressed entry, the legacy format, big-endian, a training checkpoint
            without EMA weights, a repeated key, sample_diffusion twins of different shapes).
The expected values of the ok_ and layout_ files come from torch.load, by make_expected.py.
Nothing here is ever unpickled with the plain pickle module: the hostile files are checked
against torch.load(weights_only=True), which refuses them without running anything.

    python3 tools/checkpoint/make_bad.py [--out tests/fixtures/checkpoint]
"""

import argparse
import os
import struct
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ziputil  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def rand(*shape, dtype=torch.float32, gen=None):
    return torch.randn(*shape, generator=gen, dtype=torch.float64).to(dtype)


def save(obj, path, **kw):
    """torch.save to a file, so the archive's folder is named after the file (not 'archive')."""
    torch.save(obj, path, **kw)


def torch_refuses(path):
    try:
        torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        return True
    return False


class Shared(torch.nn.Module):
    """OpenFold3's arrangement (model.py:97-104): the sampler holds the diffusion module."""

    class Sampler(torch.nn.Module):
        def __init__(self, dm):
            super().__init__()
            self.diffusion_module = dm

    def __init__(self):
        super().__init__()
        self.diffusion_module = torch.nn.Linear(3, 2)
        self.sample_diffusion = Shared.Sampler(self.diffusion_module)
        self.aux_heads = torch.nn.Linear(2, 1, bias=False)


def good(out, g):
    save({"a": rand(3, 4, dtype=torch.bfloat16, gen=g), "b": rand(5, dtype=torch.bfloat16, gen=g)},
         out / "ok_bf16.pt")
    save({"a": rand(3, 4, dtype=torch.float16, gen=g), "b": rand(7, dtype=torch.float16, gen=g),
          "c": rand(2, dtype=torch.float32, gen=g)}, out / "ok_f16.pt")

    params = {"x.weight": rand(4, 3, gen=g), "x.bias": rand(4, gen=g)}
    training = {"model." + k: rand(*v.shape, gen=g) for k, v in params.items()}
    save({"ema": {"params": params, "decay": 0.999}, "state_dict": training, "epoch": 3,
          "global_step": 1000, "pytorch-lightning_version": "2.1.0"}, out / "ok_ema.pt")
    save({"model.x.weight": rand(4, 3, gen=g), "model.y": rand(2, gen=g)},
         out / "ok_model_prefix.pt")

    m = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.LayerNorm(2))
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(rand(*p.shape, gen=g))
    save(m.state_dict(), out / "ok_module.pt")          # OrderedDict + _metadata (BUILD)
    save({"w": torch.nn.Parameter(rand(2, 3, gen=g))}, out / "ok_parameter.pt")

    base = rand(3, 5, gen=g)
    save({"whole": base, "row1": base[1], "row2": base[2], "tail": base.view(-1)[7:12]},
         out / "ok_shared_storage.pt")
    save({"scalar": torch.tensor(3.5), "empty": torch.zeros(0, 3), "ones": torch.ones(1, 1, 2),
          "eight": rand(1, 2, 1, 2, 1, 1, 2, 1, gen=g)}, out / "ok_shapes.pt")
    save({"p4": rand(3, 2, gen=g), "q": rand(2, gen=g)}, out / "ok_protocol4.pt",
         pickle_protocol=4)

    # ZIP64 records throughout (torch writes them per entry only past 4 GiB).
    src = out / "ok_zip64.pt"
    save({"z.weight": rand(6, 5, gen=g), "z.bias": rand(6, gen=g)}, src)
    items = ziputil.entries(src)
    ziputil.write_zip64(src, items)
    assert torch.load(src, weights_only=True)["z.bias"].shape == (6,)

    # A storage at an odd offset: Python's zipfile does not align, and an extra field of the
    # right length moves the float32 storage off any 4-byte boundary.
    src = out / "ok_unaligned.pt"
    save({"u": rand(2, 3, gen=g), "v": rand(3, dtype=torch.float16, gen=g)}, src)
    items = ziputil.entries(src)
    u_name = next(n for n, _ in items if n.endswith("/data/0"))
    for k in range(1, 8):
        ziputil.write_plain(src, items, extra={u_name: struct.pack("<HH", 0xCAFE, k) + b"\0" * k})
        if ziputil.data_offsets(src)[u_name] % 4:
            break
    assert ziputil.data_offsets(src)[u_name] % 4
    assert torch.load(src, weights_only=True)["u"].shape == (2, 3)

    # The duplicated diffusion keys, with copies that differ, so a test can tell which copy a
    # strict load_state_dict leaves in the model (make_expected.py loads it into Shared).
    sd = {k: v.clone() for k, v in Shared().state_dict().items()}
    for k, v in sd.items():
        v.copy_(rand(*v.shape, gen=g))
    save(sd, out / "ok_dup_sample_diffusion.pt")


def layouts(out):
    one = torch.ones(1)
    apb = "attention_pair_bias.layer_norm_z.weight"
    p1_keys = [f"input_embedder.atom_attn_enc.atom_transformer.blocks.0.{apb}",
               f"diffusion_module.diffusion_transformer.blocks.0.{apb}"]
    p2_keys = ["input_embedder.atom_attn_enc.atom_transformer.layer_norm_z.weight",
               "diffusion_module.atom_attn_enc.atom_transformer.layer_norm_z.weight",
               "diffusion_module.atom_attn_dec.atom_transformer.layer_norm_z.weight",
               f"diffusion_module.diffusion_transformer.blocks.0.{apb}",
               f"sample_diffusion.diffusion_module.diffusion_transformer.blocks.0.{apb}"]
    ob_keys = p2_keys[:3] + ["diffusion_module.diffusion_transformer.layer_norm_z.weight",
                             "sample_diffusion.diffusion_module.diffusion_transformer."
                             "layer_norm_z.weight"]
    save({k: one.clone() for k in p1_keys}, out / "layout_p1.pt")
    save({k: one.clone() for k in p2_keys}, out / "layout_p2.pt")
    ob = {k: one.clone() for k in ob_keys}
    ob["version_tensor"] = torch.tensor([2, 0, 0])
    save(ob, out / "layout_openbind.pt")
    save({"encoder.weight": one.clone()}, out / "layout_unknown.pt")


def hostile_pickle(out, name, pkl):
    """An archive whose data.pkl is `pkl`, beside the usual records."""
    root = name[:-3]
    ziputil.write_plain(out / name, [(f"{root}/data.pkl", pkl), (f"{root}/byteorder", b"little"),
                                     (f"{root}/version", b"3\n")])
    assert torch_refuses(out / name), name


def bad(out, g):
    (out / "bad_not_zip.pt").write_bytes(b"this is a text file, not a checkpoint\n" * 4)

    src = out / "bad_no_pickle.pt"
    save({"a": rand(2, gen=g)}, src)
    ziputil.write_plain(src, [(n, d) for n, d in ziputil.entries(src)
                              if not n.endswith("data.pkl")])

    # GLOBAL os.system, REDUCE: what a malicious pickle runs; the reader must refuse it.
    cmd = b"echo owned"
    evil = (b"\x80\x02" + b"cos\nsystem\n" + b"X" + struct.pack("<I", len(cmd)) + cmd
            + b"\x85" + b"R" + b".")
    hostile_pickle(out, "bad_global_os_system.pt", evil)
    # INST (protocol 0 object creation) inside an otherwise fine dict.
    inst = b"\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01(ibuiltins\nobject\nq\x02u."
    hostile_pickle(out, "bad_opcode_inst.pt", inst)

    src = out / "bad_truncated_storage.pt"
    save({"first": rand(4, gen=g), "weight": rand(8, 8, gen=g)}, src)
    items = [(n, d[:100] if n.endswith("/data/1") else d) for n, d in ziputil.entries(src)]
    ziputil.write_plain(src, items)   # torch.load (2.9) reads this without complaint: garbage

    src = out / "bad_truncated_file.pt"
    save({"a": rand(64, gen=g)}, src)
    data = src.read_bytes()
    src.write_bytes(data[: len(data) // 2])

    src = out / "bad_truncated_pickle.pt"
    save({"a": rand(2, gen=g), "b": rand(2, gen=g)}, src)
    items = [(n, d[: len(d) - 30] if n.endswith("data.pkl") else d)
             for n, d in ziputil.entries(src)]
    ziputil.write_plain(src, items)

    save({"ok": rand(2, gen=g), "w64": rand(3, dtype=torch.float64, gen=g)}, out / "bad_double.pt")
    save({"ok": rand(2, gen=g), "steps": torch.tensor([1, 2, 3])}, out / "bad_int64.pt")
    save({"t": rand(3, 4, gen=g).t()}, out / "bad_noncontiguous.pt")

    src = out / "bad_compressed.pt"
    save({"a": torch.zeros(64)}, src)
    ziputil.write_plain(src, ziputil.entries(src), compress=True)

    save({"a": rand(2, gen=g)}, out / "bad_legacy.pt", _use_new_zipfile_serialization=False)

    src = out / "bad_big_endian.pt"
    save({"a": rand(2, gen=g)}, src)
    ziputil.write_plain(src, [(n, b"big" if n.endswith("/byteorder") else d)
                              for n, d in ziputil.entries(src)])

    save({"state_dict": {"model.a": rand(2, gen=g)}, "epoch": 1}, out / "bad_no_ema.pt")
    save({"x": rand(2, gen=g), "model.x": rand(2, gen=g)}, out / "bad_repeated_key.pt")
    save({"diffusion_module.w": rand(4, 3, gen=g),
          "sample_diffusion.diffusion_module.w": rand(4, 2, gen=g)}, out / "bad_dup_shape.pt")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(REPO / "tests" / "fixtures" / "checkpoint"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(7)
    good(out, g)
    layouts(out)
    bad(out, g)
    total = sum(p.stat().st_size for p in out.glob("*.pt"))
    print(f"{len(list(out.glob('*.pt')))} checkpoints, {total} bytes, in {out}")


if __name__ == "__main__":
    main()
