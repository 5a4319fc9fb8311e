"""Runs the Python reader printed in docs/FORMAT.md against a stream the C code wrote
(`bundle_tool sample`), checking every value against what the sample is defined to hold; then
writes a bundle the way docs/FORMAT.md describes and checks that of3-inspect reads it.

usage: format_reader.py FORMAT.md SAMPLE.bundle OF3-INSPECT SCRATCH-DIR"""
import re
import subprocess
import sys

import msgpack
import numpy as np

fmt_md, sample_path, inspect, scratch = sys.argv[1:5]
failed = 0


def check(cond, what):
    global failed
    print(("ok - " if cond else "not ok - ") + what)
    failed += not cond


blocks = re.findall(r"```python\n(.*?)```", open(fmt_md).read(), re.S)
check(len(blocks) == 1, "docs/FORMAT.md has exactly one python block")
scope = {}
exec(blocks[0], scope)
read_bundles = scope["read_bundles"]

with open(sample_path, "rb") as f:
    bundles = list(read_bundles(f))
check(len(bundles) == 2, "two bundles in the sample stream")
(h1, a), (h2, b) = bundles
check(h1["kind"] == "features" and h1["query"] == "sample-1" and h1["meta"] == {"seed": 42},
      "header 1: kind, query, meta")
check(h1["version"] == 1 and h1["producer"].startswith("bundle_tool "), "header 1: version, producer")
check(h2["kind"] == "trunk" and h2["query"] == "sample-2", "header 2: kind, query")
check(a["arange_f32"].dtype == np.float32 and
      np.array_equal(a["arange_f32"], np.arange(24, dtype=np.float32).reshape(2, 3, 4)),
      "f32 [2,3,4] = arange(24)")
check(a["halves_f64"].dtype == np.float64 and np.array_equal(a["halves_f64"], np.arange(5) * 0.5),
      "f64 [5] = 0, 0.5, ..., 2")
ones = (a["ones_bf16"].astype(np.uint32) << 16).view(np.float32)
check(np.array_equal(ones, np.ones(3, np.float32)), "bf16 [3] widens to ones")
check(a["half_f16"].dtype == np.float16 and np.array_equal(a["half_f16"], [0.5, -2.0]), "f16 [2]")
check(a["ids_i64"].dtype == np.int64 and
      np.array_equal(a["ids_i64"], np.array([-2, -1, 0, 1], np.int64) << 40), "i64 [4]")
check(a["ids_i32"].dtype == np.int32 and np.array_equal(a["ids_i32"], [[1, 2], [3, 4]]), "i32 [2,2]")
check(a["mask_u8"].dtype == np.uint8 and np.array_equal(a["mask_u8"], [0, 1, 1]), "u8 [3]")
check(a["scalar"].shape == () and a["scalar"] == np.float32(3.25), "0-d f32")
check(a["empty"].shape == (0, 3), "empty [0,3]")
check(a["zeros_f32"].shape == (200, 100) and a["zeros_f32"].dtype == np.float32 and
      not a["zeros_f32"].any(), "f32 [200,100] of zeros (a \"zeros\" record)")
check(a["atom_names"] == ["N", "CA", "C"] and a["note"] == "hello", "values")
check(np.array_equal(b["big"], np.arange(1000, dtype=np.float32)), "f32 [1000] in four chunks")

# Truncation is noticed by the documented reader too.
raw = open(sample_path, "rb").read()
import io
try:
    list(read_bundles(io.BytesIO(raw[:-3])))
    check(False, "documented reader notices a cut stream")
except Exception:
    check(True, "documented reader notices a cut stream")

# Writing, as docs/FORMAT.md describes it, read back by the C code.
x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
p = msgpack.Packer()
out = p.pack({"of3": "bundle", "version": 1, "kind": "features", "query": "from-python",
              "producer": "format_reader.py", "meta": {}})
out += p.pack({"type": "tensor", "name": "x", "dtype": "f32", "shape": [3, 4],
               "nbytes": x.nbytes, "chunks": 2})
out += p.pack(x.tobytes()[:20]) + p.pack(x.tobytes()[20:])
out += p.pack({"type": "value", "name": "chain_ids", "value": ["A", "B"]})
out += p.pack({"type": "end", "records": 2})
path = scratch + "/from_python.bundle"
open(path, "wb").write(out)
res = subprocess.run([inspect, path], capture_output=True, text=True)
check(res.returncode == 0 and "query 'from-python'" in res.stdout and
      re.search(r"tensor x +f32 +\[3, 4\] +min -1 +max 1 ", res.stdout) is not None,
      "of3-inspect reads a bundle written by Python: " + (res.stdout + res.stderr).strip().replace("\n", " | "))
sys.exit(1 if failed else 0)
