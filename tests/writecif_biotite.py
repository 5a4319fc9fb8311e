"""Reads every structure file of3-writecif --pdb writes back with biotite (what OpenFold3 itself
writes them with) and checks it against the diffuse bundle it came from: atom count, chains,
residues, atom names, elements, hetero flags, charges, coordinates (3 decimals), per-atom pLDDT
as B-factor, entity ids, and the bonds (mmCIF: exactly the bundle's, from chem_comp_bond and
struct_conn; PDB: every bundle bond, from CONECT and biotite's dictionary). Any warning biotite
emits while reading is a failure. Both layouts, both tiny fixtures, plus a made-up assembly of
more than 99999 atoms (hybrid-36 serials and residue numbers).

usage: writecif_biotite.py FORMAT.md TEST_WRITECIF_METRICS TEST_WRITECIF_PDB OF3-WRITECIF SCRATCH
(TEST_WRITECIF_METRICS --make-diffuse builds the bundles from tests/fixtures/,
TEST_WRITECIF_PDB --write-big the large assembly)"""
import glob
import os
import re
import subprocess
import sys
import warnings

import biotite
import biotite.structure as struc
import biotite.structure.io.pdb as pdb
import biotite.structure.io.pdbx as pdbx
import numpy as np

fmt_md, tool, pdb_tool, writecif, scratch = sys.argv[1:6]
failed = 0


def check(cond, what):
    global failed
    print(("ok - " if cond else "not ok - ") + what)
    failed += not cond


scope = {}
with open(fmt_md) as f:
    exec(re.findall(r"```python\n(.*?)```", f.read(), re.S)[0], scope)
read_bundles = scope["read_bundles"]

BondType = struc.BondType


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def read(path):
    """The structure at path as biotite reads it, warnings raised as errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if path.endswith(".pdb"):
            return pdb.PDBFile.read(path).get_structure(
                model=1, include_bonds=True, extra_fields=["b_factor", "charge"])
        return pdbx.get_structure(pdbx.CIFFile.read(path), model=1, include_bonds=True,
                                  extra_fields=["b_factor", "charge", "label_entity_id"])


def bond_set(pairs):
    return {(min(i, j), max(i, j)): t for i, j, t in pairs}


def check_structure(path, b, s):
    name = os.path.relpath(path, scratch)
    is_pdb = path.endswith(".pdb")
    try:
        a = read(path)
    except Exception as e:  # noqa: BLE001 - a warning or parse failure is the finding
        check(False, f"{name}: biotite reads it without warnings ({type(e).__name__}: {e})")
        return
    check(True, f"{name}: biotite reads it without warnings")
    n = len(b["atom_name"])
    check(a.array_length() == n, f"{name}: {n} atoms ({a.array_length()})")
    if a.array_length() != n:
        return
    chains = list(dict.fromkeys(b["atom_chain_id"]))
    check(list(struc.get_chains(a)) == chains, f"{name}: chains {chains}")
    res_name = [r[:3] if is_pdb else r for r in b["atom_res_name"]]
    check(a.chain_id.tolist() == list(b["atom_chain_id"]) and
          a.res_id.tolist() == b["atom_res_id"].tolist() and a.res_name.tolist() == res_name,
          f"{name}: every atom's chain, residue number and residue name"
          + (" (cut to 3 characters)" if is_pdb else ""))
    check(struc.get_residue_count(a) == len(dict.fromkeys(zip(
        b["atom_chain_id"], b["atom_res_id"].tolist(), b["atom_res_name"]))),
        f"{name}: residue count")
    check(a.atom_name.tolist() == list(b["atom_name"]) and
          a.element.tolist() == [e.upper() for e in b["atom_element"]],
          f"{name}: atom names and elements in order")
    check(a.hetero.tolist() == [bool(h) for h in b["atom_hetero"]], f"{name}: ATOM/HETATM")
    check(a.charge.tolist() == b["atom_charge"].tolist(), f"{name}: formal charges")
    x = b["atom_positions_predicted"][s].astype(np.float64)
    dx = np.abs(a.coord - x).max()
    check(dx <= 0.0005 + 1e-5, f"{name}: coordinates within 0.0005 Å (max {dx:.2e})")
    plddt = 100 * (softmax(b["plddt_logits"][s].astype(np.float64)) *
                   ((np.arange(50) + 0.5) / 50)).sum(-1)
    db = np.abs(a.b_factor - plddt).max()
    check(db <= 0.005 + 1e-4, f"{name}: B-factor = per-atom pLDDT (max diff {db:.2e})")
    want = bond_set(b["atom_bonds"].tolist())
    got = bond_set(a.bonds.as_array().tolist())
    if is_pdb:
        # CONECT carries no order; a residue name cut to 3 characters can be another dictionary
        # component ("LIG0" -> LIG), whose bonds biotite adds by atom name
        cut = {i for i, r in enumerate(b["atom_res_name"]) if len(r) > 3}
        extra = [k for k in set(got) - set(want) if k[0] not in cut]
        check(set(want) <= set(got) and not extra,
              f"{name}: every bundle bond read back ({len(want)}), none made up "
              f"(missing {sorted(set(want) - set(got))[:4]}, extra {extra[:4]})")
        return
    check(a.label_entity_id.astype(int).tolist() == b["atom_entity_id"].tolist(),
          f"{name}: label_entity_id = the bundle's entity ids")
    # biotite reads struct_conn's covale as single and derives backbone links as single; mmCIF
    # has no dative order, so intra-residue coordination comes back as single
    res = list(zip(b["atom_chain_id"], b["atom_res_id"].tolist(), b["atom_res_name"]))
    norm = {k: (BondType.SINGLE if res[k[0]] != res[k[1]] and t != BondType.COORDINATION or
                t == BondType.COORDINATION and res[k[0]] == res[k[1]] else t)
            for k, t in want.items()}
    check(got == norm, f"{name}: bonds equal the bundle's ({len(want)}; "
          f"missing {sorted(set(want) - set(got))[:4]}, extra {sorted(set(got) - set(want))[:4]}, "
          f"other type {[k for k in got if k in norm and got[k] != norm[k]][:4]})")


def expected_files(out, layout, h, b):
    """(path, sample index) of every structure file the layout has."""
    q, seed = h["query"], h["meta"]["seed"]
    S = b["atom_positions_predicted"].shape[0]
    files = []
    for ext in ["cif", "pdb"]:
        for k in range(S):
            files.append((f"{out}/{q}/seed_{seed}/{q}_seed_{seed}_sample_{k + 1}_model.{ext}", k)
                         if layout == "openfold3" else
                         (f"{out}/{q}/seed-{seed}_sample-{k}/model.{ext}", k))
        if layout == "alphafold3":
            rows = [r.split(",") for r in open(f"{out}/{q}/ranking_scores.csv").read().split("\n")[1:]
                    if r]
            best = max(rows, key=lambda r: (float(r[2]), -int(r[1])))
            files.append((f"{out}/{q}/{q}_model.{ext}", int(best[1])))
    return files


os.makedirs(scratch, exist_ok=True)
for fixture in ["tiny_protein", "tiny_protein_ligand"]:
    bundle = f"{scratch}/{fixture}.diffuse.bundle"
    subprocess.run([tool, "--make-diffuse", fixture, bundle], check=True)
    with open(bundle, "rb") as f:
        (h, b), = list(read_bundles(f))
    for layout in ["openfold3", "alphafold3"]:
        out = f"{scratch}/{fixture}.{layout}"
        r = subprocess.run([writecif, "-q", "--pdb", "--layout", layout, "-o", out, bundle],
                           capture_output=True, text=True)
        check(r.returncode == 0 and r.stderr == "", f"{fixture}: of3-writecif --pdb --layout "
              f"{layout} exits 0 quietly ({r.returncode} {r.stderr.strip()})")
        files = expected_files(out, layout, h, b)
        written = sorted(glob.glob(f"{out}/**/*.cif", recursive=True) +
                         glob.glob(f"{out}/**/*.pdb", recursive=True))
        check(written == sorted(p for p, _ in files),
              f"{fixture} {layout}: the structure files are {len(files)} (.cif and .pdb)")
        for path, k in files:
            if os.path.exists(path):
                check_structure(path, b, k)

# past 99999 atoms and 9999 residues: hybrid-36 serials and residue numbers
stem = f"{scratch}/big"
subprocess.run([pdb_tool, "--write-big", stem], check=True)
try:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = pdb.PDBFile.read(stem + ".pdb").get_structure(model=1, extra_fields=["atom_id"])
    check(a.array_length() == 100007 and a.atom_id[99999] == 100000 and
          a.atom_id[-1] == 100008 and a.res_id[99999] == 25000 and a.res_name[-2] == "LIG" and
          a.element[-2] == "CL", f"big.pdb: 100007 atoms, serial 100000 and residue 25000 "
          f"decoded from hybrid-36 ({a.array_length()}, {a.atom_id[99999]}, {a.res_id[99999]})")
except Exception as e:  # noqa: BLE001
    check(False, f"big.pdb: biotite reads it without warnings ({type(e).__name__}: {e})")
print(f"# biotite {biotite.__version__}: {'all passed' if not failed else f'{failed} failed'}")
sys.exit(1 if failed else 0)
