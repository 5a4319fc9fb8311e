#!/usr/bin/env python3
"""Writes data/ccd.bundle.gz, the Chemical Component Dictionary that of3 ships (tools/ccd/README.md
has the schema; data/README.md the source).

Source: the CCD that biotite bundles (biotite/structure/info/components.bcif; biotite 1.2.0 is the
one the reference OpenFold3 run used, shared spec/data.md §2.3). Per component it keeps the type,
the heavy atoms in CCD row order (element H and D dropped) with name, element, formal charge,
leaving flag and coordinates, and the bonds among the kept atoms. The coordinate rule is biotite's
get_component(): the ideal coordinates when every atom (hydrogens included) has all three, else
the model ones when every atom has those, else none (zeros).

A developer tool: of3 never runs it. Same input, same output bytes (gzip with mtime 0).
    python3 tools/ccd/make_ccd.py [-o data/ccd.bundle.gz] [--bcif PATH]
"""

import argparse
import gzip
import hashlib
import io
import os
import sys

import msgpack
import numpy as np

PRODUCER = "tools/ccd/make_ccd.py"
COORDS_IDEAL, COORDS_MODEL, COORDS_NONE = 0, 1, 2
BOND_ORDERS = {"SING": 1, "DOUB": 2, "TRIP": 3, "QUAD": 4}
NAME_BYTES, ELEMENT_BYTES, ID_BYTES = 4, 2, 5


def default_bcif():
    import biotite.structure.info.ccd as ccd

    return str(ccd._CCD_FILE)


def write_bundle(path, kind, query, meta, records):
    """The of3 bundle format (docs/FORMAT.md): header, records, end; gzip with mtime 0.
    records: (name, value) where value is a numpy array (tensor) or a plain value."""
    dtypes = {np.dtype("u1"): "u8", np.dtype("<i4"): "i32"}
    out = io.BytesIO()
    pack = lambda o: msgpack.packb(o, use_bin_type=True)
    out.write(pack({"of3": "bundle", "version": 1, "kind": kind, "query": query,
                    "producer": PRODUCER, "meta": meta}))
    for name, v in records:
        if isinstance(v, np.ndarray):
            raw = np.ascontiguousarray(v).tobytes()
            assert len(raw) < (64 << 20), name  # one chunk
            out.write(pack({"type": "tensor", "name": name, "dtype": dtypes[v.dtype],
                            "shape": list(v.shape), "nbytes": len(raw),
                            "chunks": 1 if raw else 0}))
            if raw:
                out.write(pack(raw))
        else:
            out.write(pack({"type": "value", "name": name, "value": v}))
    out.write(pack({"type": "end", "records": len(records)}))
    data = out.getvalue()
    gz = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=gz, mtime=0, compresslevel=9) as f:
        f.write(data)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(gz.getvalue())
    os.replace(tmp, path)
    return len(data), len(gz.getvalue())


def group_starts(ids, order):
    """Row ranges of each id in a category whose rows are grouped by id; checks the grouping."""
    change = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    starts = np.concatenate(([0], change, [len(ids)]))
    ranges = {}
    for s, e in zip(starts[:-1], starts[1:]):
        key = str(ids[s])
        if key in ranges:
            sys.exit(f"make_ccd: rows of {key} are not contiguous")
        ranges[key] = (int(s), int(e))
    unknown = set(ranges) - set(order)
    if unknown:
        sys.exit(f"make_ccd: rows for components not in chem_comp: {sorted(unknown)[:5]}")
    return ranges


def fixed_bytes(strings, width, what):
    out = np.zeros((len(strings), width), np.uint8)
    for i, s in enumerate(strings):
        b = s.encode("ascii")
        if len(b) > width:
            sys.exit(f"make_ccd: {what} '{s}' longer than {width} characters")
        out[i, :len(b)] = np.frombuffer(b, np.uint8)
    return out


def milli(column, n):
    """A coordinate column as exact integer milli-Ångström, and the rows where it is missing."""
    missing = np.zeros(n, bool) if column.mask is None else column.mask.array != 0
    x = column.as_array(np.float64, masked_value=0.0)
    m = np.rint(x * 1000.0)
    if np.abs(m - x * 1000.0).max(initial=0) > 1e-6:
        sys.exit("make_ccd: a coordinate has more than three decimals")
    return m.astype(np.int64), missing


def build(bcif):
    from biotite.structure.io.pdbx.bcif import BinaryCIFFile

    block = BinaryCIFFile.read(bcif).block
    cc, ca, cb = block["chem_comp"], block["chem_comp_atom"], block["chem_comp_bond"]
    ids = [str(s) for s in cc["id"].as_array(str)]
    types = [str(s).upper() for s in cc["type"].as_array(str)]
    order = sorted(range(len(ids)), key=lambda i: ids[i].encode("ascii"))

    n = ca.row_count
    atom_comp = ca["comp_id"].as_array(str)
    atom_ranges = group_starts(atom_comp, ids)
    names = ca["atom_id"].as_array(str)
    elements = np.char.upper(ca["type_symbol"].as_array(str))
    charges = ca["charge"].as_array(np.int64, 0)
    leaving = ca["pdbx_leaving_atom_flag"].as_array(str, "N") == "Y"
    ideal = [milli(ca[f"pdbx_model_Cartn_{d}_ideal"], n) for d in "xyz"]
    model = [milli(ca[f"model_Cartn_{d}"], n) for d in "xyz"]
    ideal_xyz = np.stack([c for c, _ in ideal], 1)
    model_xyz = np.stack([c for c, _ in model], 1)
    ideal_missing = ideal[0][1] | ideal[1][1] | ideal[2][1]
    model_missing = model[0][1] | model[1][1] | model[2][1]
    heavy = (elements != "H") & (elements != "D")

    bond_comp = cb["comp_id"].as_array(str)
    bond_ranges = group_starts(bond_comp, ids)
    b1 = cb["atom_id_1"].as_array(str)
    b2 = cb["atom_id_2"].as_array(str)
    vorder = np.char.upper(cb["value_order"].as_array(str))
    arom = cb["pdbx_aromatic_flag"].as_array(str, "N") == "Y"

    type_table = sorted(set(types))
    if len(type_table) > 256:
        sys.exit("make_ccd: more than 256 distinct types")
    type_index = {t: i for i, t in enumerate(type_table)}

    comp_type, comp_coords, atom_start, bond_start = [], [], [0], [0]
    keep_rows, xyz_parts = [], []
    bond_pairs, bond_order, bond_arom = [], [], []
    for ci in order:
        code = ids[ci]
        comp_type.append(type_index[types[ci]])
        s, e = atom_ranges.get(code, (0, 0))
        rows = np.arange(s, e)
        if e == s:
            coords = COORDS_NONE
        elif not ideal_missing[s:e].any():
            coords = COORDS_IDEAL
        elif not model_missing[s:e].any():
            coords = COORDS_MODEL
        else:
            coords = COORDS_NONE
        comp_coords.append(coords)
        kept = rows[heavy[s:e]]
        if len(kept) > 255:
            sys.exit(f"make_ccd: {code} has {len(kept)} heavy atoms; bond_atoms is u8")
        keep_rows.append(kept)
        src = {COORDS_IDEAL: ideal_xyz, COORDS_MODEL: model_xyz}.get(coords)
        xyz_parts.append(src[kept] if src is not None else np.zeros((len(kept), 3), np.int64))
        atom_start.append(atom_start[-1] + len(kept))

        # bonds: atom names -> index among all atoms, then among the kept ones
        index = {}
        for r in rows:
            index.setdefault(str(names[r]), r)
        local = {int(r): i for i, r in enumerate(kept)}
        bs, be = bond_ranges.get(code, (0, 0))
        for r in range(bs, be):
            try:
                i, j = index[str(b1[r])], index[str(b2[r])]
            except KeyError as err:
                sys.exit(f"make_ccd: {code}: bond to unknown atom {err}")
            if vorder[r] not in BOND_ORDERS:
                sys.exit(f"make_ccd: {code}: value_order {vorder[r]}")
            if i not in local or j not in local:
                continue  # a bond to a hydrogen
            a, b = sorted((local[i], local[j]))
            bond_pairs.append((a, b))
            bond_order.append(BOND_ORDERS[vorder[r]])
            bond_arom.append(1 if arom[r] else 0)
        bond_start.append(len(bond_pairs))

    kept = np.concatenate(keep_rows)
    xyz = np.concatenate(xyz_parts)
    if np.abs(xyz).max() >= 2**31:
        sys.exit("make_ccd: a coordinate does not fit i32 milli-Ångström")
    if charges[kept].min() < -128 or charges[kept].max() > 127:
        sys.exit("make_ccd: a formal charge outside -128..127")
    sorted_ids = [ids[i] for i in order]
    tensors = [
        ("comp_id", fixed_bytes(sorted_ids, ID_BYTES, "component id")),
        ("comp_type", np.array(comp_type, np.uint8)),
        ("comp_coords", np.array(comp_coords, np.uint8)),
        ("comp_atom_start", np.array(atom_start, "<i4")),
        ("comp_bond_start", np.array(bond_start, "<i4")),
        ("atom_name", fixed_bytes([str(s) for s in names[kept]], NAME_BYTES, "atom name")),
        ("atom_element", fixed_bytes([str(s) for s in elements[kept]], ELEMENT_BYTES, "element")),
        ("atom_charge", charges[kept].astype(np.int8).view(np.uint8)),
        ("atom_leaving", leaving[kept].astype(np.uint8)),
        ("atom_xyz", xyz.astype("<i4")),
        ("bond_atoms", np.array(bond_pairs, np.uint8).reshape(-1, 2)),
        ("bond_order", np.array(bond_order, np.uint8)),
        ("bond_aromatic", np.array(bond_arom, np.uint8)),
    ]
    dates = [str(d) for name in ("pdbx_modified_date", "pdbx_initial_date")
             for d in cc[name].as_array(str) if str(d)[:1].isdigit()]
    stats = {"components": len(ids), "atoms": int(len(kept)), "bonds": len(bond_pairs),
             "newest_date": max(dates),
             "coords": {k: comp_coords.count(v) for k, v in
                        (("ideal", COORDS_IDEAL), ("model", COORDS_MODEL), ("none", COORDS_NONE))}}
    return type_table, tensors, stats


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("-o", default=os.path.join(here, "..", "..", "data", "ccd.bundle.gz"))
    ap.add_argument("--bcif", default=None, help="components.bcif (default: biotite's)")
    args = ap.parse_args()
    import biotite

    bcif = args.bcif or default_bcif()
    sha = hashlib.sha256(open(bcif, "rb").read()).hexdigest()
    type_table, tensors, stats = build(bcif)
    source = (f"wwPDB CCD as bundled by biotite {biotite.__version__} (components.bcif, "
              f"newest entry {stats['newest_date']})")
    meta = {"source": source, "biotite": biotite.__version__, "bcif_sha256": sha,
            "newest_entry_date": stats["newest_date"], "n_components": stats["components"]}
    raw, packed = write_bundle(args.o, "ccd", "ccd", meta, [("types", type_table)] + tensors)
    print(f"{args.o}: {stats['components']} components, {stats['atoms']} heavy atoms, "
          f"{stats['bonds']} bonds, coordinates {stats['coords']}; "
          f"{raw} bytes, {packed} gzipped", file=sys.stderr)


if __name__ == "__main__":
    main()
