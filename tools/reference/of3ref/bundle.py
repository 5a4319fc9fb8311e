"""Writer and reader for the of3 bundle format, version 1 (docs/FORMAT.md).

The writer produces the exact byte layout the format page describes: a header map, then per
tensor a record map followed by its raw little-endian C-order bytes in msgpack bin chunks of at
most 64 MiB, value records for labels, and an end record that counts the records. Files whose
name ends in .gz are written through gzip with a zero timestamp and no file name, so the same
content always gives the same bytes.
"""

import gzip
import io
import os

import msgpack
import numpy as np

FORMAT_VERSION = 1
CHUNK = 64 << 20

DTYPES = {"f64": "<f8", "f32": "<f4", "f16": "<f2", "bf16": "<u2",
          "i64": "<i8", "i32": "<i4", "u8": "u1"}
NP_TO_DTYPE = {np.dtype("float64"): "f64", np.dtype("float32"): "f32",
               np.dtype("float16"): "f16", np.dtype("int64"): "i64",
               np.dtype("int32"): "i32", np.dtype("uint8"): "u8",
               np.dtype("bool"): "u8"}


ZEROS_MIN_BYTES = 64 << 10  # as common/bundle_write.c


def _pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


class BundleWriter:
    """Collects records for one bundle; names must be unique."""

    def __init__(self, kind, query, producer, meta=None):
        self.header = {"of3": "bundle", "version": FORMAT_VERSION, "kind": kind,
                       "query": query, "producer": producer, "meta": dict(meta or {})}
        self.records = []          # (name, kind, payload)
        self.names = set()

    def _claim(self, name):
        if not isinstance(name, str) or not name:
            raise ValueError(f"bad record name {name!r}")
        if name in self.names:
            raise ValueError(f"duplicate record name {name!r}")
        self.names.add(name)

    def tensor(self, name, array, dtype=None):
        """Add a tensor. array: numpy array or torch tensor; dtype: force an of3 dtype."""
        if hasattr(array, "detach"):
            array = array.detach().cpu().numpy()
        a = np.asarray(array)
        if dtype is None:
            if a.dtype not in NP_TO_DTYPE:
                raise TypeError(f"{name}: numpy dtype {a.dtype} has no of3 dtype")
            dtype = NP_TO_DTYPE[a.dtype]
        if a.ndim > 8:
            raise ValueError(f"{name}: {a.ndim} dimensions (at most 8)")
        # (np.ascontiguousarray would turn a 0-d array into shape [1])
        a = np.array(a, dtype=DTYPES[dtype], order="C", copy=True)
        self._claim(name)
        self.records.append((name, "tensor", (dtype, list(a.shape), a)))
        return self

    def value(self, name, value):
        self._claim(name)
        self.records.append((name, "value", value))
        return self

    def encode(self):
        out = io.BytesIO()
        out.write(_pack(self.header))
        for name, kind, payload in self.records:
            if kind == "tensor":
                dtype, shape, a = payload
                raw = a.tobytes(order="C")
                if len(raw) >= ZEROS_MIN_BYTES and not any(raw):
                    # docs/FORMAT.md "zeros": a large all-zero tensor is its record alone
                    out.write(_pack({"type": "tensor", "name": name, "dtype": dtype,
                                     "shape": shape, "nbytes": len(raw), "chunks": 0,
                                     "zeros": True}))
                    continue
                chunks = [raw[i:i + CHUNK] for i in range(0, len(raw), CHUNK)]
                out.write(_pack({"type": "tensor", "name": name, "dtype": dtype,
                                 "shape": shape, "nbytes": len(raw),
                                 "chunks": len(chunks)}))
                for c in chunks:
                    out.write(_pack(c))
            else:
                out.write(_pack({"type": "value", "name": name, "value": payload}))
        out.write(_pack({"type": "end", "records": len(self.records)}))
        return out.getvalue()

    def save(self, path):
        """Write atomically (temporary name, then rename)."""
        data = self.encode()
        if str(path).endswith(".gz"):
            buf = io.BytesIO()
            with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0,
                               compresslevel=9) as gz:
                gz.write(data)
            data = buf.getvalue()
        tmp = f"{path}.tmp{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        return len(data)


def read_bundles(f):
    """The reader of docs/FORMAT.md: yield (header, {name: array or value})."""
    unpacker = msgpack.Unpacker(f, raw=False, max_buffer_size=0)
    for header in unpacker:
        if not isinstance(header, dict) or header.get("of3") != "bundle":
            raise ValueError("not an of3 bundle")
        if header.get("version") != FORMAT_VERSION:
            raise ValueError(f"unknown bundle version {header.get('version')}")
        items = {}
        n = 0
        for rec in unpacker:
            if rec["type"] == "end":
                if rec["records"] != n:
                    raise ValueError(f"end record says {rec['records']} records, saw {n}")
                break
            n += 1
            if rec["type"] == "tensor" and rec.get("zeros"):
                items[rec["name"]] = np.zeros(rec["shape"], DTYPES[rec["dtype"]])
            elif rec["type"] == "tensor":
                raw = b"".join(next(unpacker) for _ in range(rec["chunks"]))
                if len(raw) != rec["nbytes"]:
                    raise ValueError(f"{rec['name']}: nbytes mismatch")
                items[rec["name"]] = np.frombuffer(raw, DTYPES[rec["dtype"]]).reshape(rec["shape"])
            else:
                items[rec["name"]] = rec["value"]
        else:
            raise EOFError("truncated bundle: no end record")
        yield header, items


def read_file(path):
    """All bundles of a file (.gz is decompressed)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        return list(read_bundles(f))
