"""Reads every file of3-writecif writes back with gemmi (Debian's python3-gemmi) and checks it
against the diffuse bundle it came from: atom count, chains, residues, atom names, elements,
coordinates (3 decimals), per-atom pLDDT in B_iso_or_equiv, the global pLDDT, entities; the
--pdb files the same way (residue names cut to 3 characters, pLDDT in the B-factor column); and
the JSON files' keys and shapes, for both layouts and both tiny fixtures. Then the made-up
assembly of more than 99999 atoms (hybrid-36 serials) as PDB and mmCIF.

usage: writecif_gemmi.py FORMAT.md TEST_WRITECIF_METRICS TEST_WRITECIF_PDB OF3-WRITECIF SCRATCH
(TEST_WRITECIF_METRICS --make-diffuse builds the bundles from tests/fixtures/,
TEST_WRITECIF_PDB --write-big the large assembly)"""
import glob
import json
import os
import re
import subprocess
import sys

import gemmi
import numpy as np

fmt_md, tool, pdb_tool, writecif, scratch = sys.argv[1:6]
failed = 0


def check(cond, what):
    global failed
    print(("ok - " if cond else "not ok - ") + what)
    failed += not cond


scope = {}
exec(re.findall(r"```python\n(.*?)```", open(fmt_md).read(), re.S)[0], scope)
read_bundles = scope["read_bundles"]


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def check_cif(path, b, s):
    if path.endswith(".cif"):
        check_cif(path[:-4] + ".pdb", b, s)
    name = os.path.relpath(path, scratch)
    is_pdb = path.endswith(".pdb")
    try:
        doc = None if is_pdb else gemmi.cif.read(path)
        st = gemmi.read_structure(path)
    except Exception as e:  # noqa: BLE001 - any parse failure is the finding
        check(False, f"{name}: gemmi reads it ({e})")
        return
    x = b["atom_positions_predicted"][s].astype(np.float64)
    plddt = 100 * (softmax(b["plddt_logits"][s].astype(np.float64)) *
                   ((np.arange(50) + 0.5) / 50)).sum(-1)
    atoms = [(ch.name, res.seqid.num, res.name, a.name, a.element.name.upper(), a.pos, a.b_iso)
             for ch in st[0] for res in ch for a in res]
    n = len(b["atom_name"])
    check(len(st) == 1 and len(atoms) == n, f"{name}: one model of {n} atoms ({len(atoms)})")
    if len(atoms) != n:
        return
    chains_want = list(dict.fromkeys(b["atom_chain_id"]))
    check([c.name for c in st[0]] == chains_want, f"{name}: chains {chains_want}")
    res_want = list(dict.fromkeys(zip(b["atom_chain_id"], b["atom_res_id"].tolist(),
                                      [r[:3] if is_pdb else r for r in b["atom_res_name"]])))
    res_got = [(ch.name, r.seqid.num, r.name) for ch in st[0] for r in ch]
    check(res_got == res_want, f"{name}: {len(res_want)} residues, numbers and names")
    check(all(a[3] == b["atom_name"][i] and a[4] == b["atom_element"][i].upper()
              for i, a in enumerate(atoms)), f"{name}: atom names and elements in order")
    dx = max(max(abs(a[5].x - x[i, 0]), abs(a[5].y - x[i, 1]), abs(a[5].z - x[i, 2]))
             for i, a in enumerate(atoms))
    check(dx <= 0.0005 + 1e-6, f"{name}: coordinates within 0.0005 Å (max {dx:.2e})")
    db = max(abs(a[6] - plddt[i]) for i, a in enumerate(atoms))
    check(db <= 0.005 + 1e-4, f"{name}: B_iso_or_equiv = per-atom pLDDT (max diff {db:.2e})")
    if is_pdb:
        # TER closes each polymer chain, so gemmi tells the polymers from the ligands
        st.setup_entities()
        poly = [ch.name for ch in st[0] if ch.get_polymer().length() > 0]
        want = list(dict.fromkeys(c for c, m in zip(b["atom_chain_id"],
                                                    b["atom_molecule_type_id"].tolist()) if m != 3))
        check(poly == want, f"{name}: polymer chains {want} ({poly})")
        return
    block = doc.sole_block()
    g = block.find_value("_ma_qa_metric_global.metric_value")
    check(g is not None and abs(float(g) - plddt.mean()) < 0.006,
          f"{name}: ModelCIF global pLDDT {g} = mean {plddt.mean():.2f}")
    ents = sorted(set(b["atom_entity_id"].tolist()))
    check(len(st.entities) == len(ents), f"{name}: {len(ents)} entities")
    poly = [e for e in st.entities if e.entity_type == gemmi.EntityType.Polymer]
    npoly = len(set(e for e, m in zip(b["atom_entity_id"].tolist(),
                                      b["atom_molecule_type_id"].tolist()) if m != 3))
    check(len(poly) == npoly, f"{name}: {npoly} polymer entities")


AGG_KEYS = ["avg_plddt", "gpde", "iptm", "ptm", "disorder", "has_clash", "sample_ranking_score",
            "chain_ptm", "chain_pair_iptm", "bespoke_iptm"]
SUMMARY_KEYS = ["chain_iptm", "chain_pair_iptm", "chain_pair_pae_min", "chain_ptm",
                "fraction_disordered", "has_clash", "iptm", "ptm", "ranking_score"]


def check_openfold3(out, h, b):
    q, seed = h["query"], h["meta"]["seed"]
    S, N = b["atom_positions_predicted"].shape[0], len(b["token_index"])
    chains = list(dict.fromkeys(b["atom_chain_id"]))
    scores = []
    for k in range(1, S + 1):
        stem = f"{out}/{q}/seed_{seed}/{q}_seed_{seed}_sample_{k}"
        check_cif(stem + "_model.cif", b, k - 1)
        c = json.load(open(stem + "_confidences.json"))
        check(list(c) == ["plddt", "pae", "pde"] and len(c["plddt"]) == len(b["atom_name"]) and
              np.array(c["pde"]).shape == (N, N) and np.array(c["pae"]).shape == (N, N),
              f"{q} sample {k}: confidences.json plddt [{len(b['atom_name'])}], pae, pde [{N}, {N}]")
        a = json.load(open(stem + "_confidences_aggregated.json"))
        check(list(a) == AGG_KEYS, f"{q} sample {k}: aggregated JSON keys in OpenFold3's order")
        pairs = [f"({x}, {y})" for i, x in enumerate(chains) for y in chains[i + 1:]]
        check(list(a["chain_ptm"]) == chains and list(a["chain_pair_iptm"]) == pairs and
              list(a["bespoke_iptm"]) == pairs, f"{q} sample {k}: chain keys {chains}, {pairs}")
        scores.append((a["sample_ranking_score"], k))
    rows = open(f"{out}/{q}/ranking.csv").read().split("\n")
    check(rows[0].startswith("seed,sample,sample_ranking_score"), f"{q}: ranking.csv header")
    got = [int(r.split(",")[1]) for r in rows[1:] if r]
    want = [k for _, k in sorted(scores, key=lambda t: (-t[0], t[1]))]
    check(got == want, f"{q}: ranking.csv lists samples {want}, best first")


def check_alphafold3(out, h, b):
    q, seed = h["query"], h["meta"]["seed"]
    S, N = b["atom_positions_predicted"].shape[0], len(b["token_index"])
    C = len(set(b["asym_id"].tolist()))
    best = None
    for k in range(S):
        d = f"{out}/{q}/seed-{seed}_sample-{k}"
        check_cif(d + "/model.cif", b, k)
        c = json.load(open(d + "/confidences.json"))
        check(sorted(c) == ["atom_chain_ids", "atom_plddts", "contact_probs", "pae",
                            "token_chain_ids", "token_res_ids"] and
              len(c["atom_plddts"]) == len(b["atom_name"]) and
              np.array(c["pae"]).shape == (N, N) and len(c["token_res_ids"]) == N,
              f"{q} sample {k}: AlphaFold3 confidences.json")
        s = json.load(open(d + "/summary_confidences.json"))
        check(list(s) == SUMMARY_KEYS and np.array(s["chain_pair_iptm"]).shape == (C, C),
              f"{q} sample {k}: summary_confidences.json keys, chain_pair_iptm [{C}, {C}]")
        if best is None or s["ranking_score"] > best[0]:
            best = (s["ranking_score"], k)
    rows = [r for r in open(f"{out}/{q}/ranking_scores.csv").read().split("\n")[1:] if r]
    check(len(rows) == S, f"{q}: ranking_scores.csv has {S} rows")
    check_cif(f"{out}/{q}/{q}_model.cif", b, best[1])
    top = json.load(open(f"{out}/{q}/{q}_summary_confidences.json"))
    check(top["ranking_score"] == best[0], f"{q}: the top-level files are the best sample {best[1]}")


os.makedirs(scratch, exist_ok=True)
for fixture in ["tiny_protein", "tiny_protein_ligand"]:
    bundle = f"{scratch}/{fixture}.diffuse.bundle"
    subprocess.run([tool, "--make-diffuse", fixture, bundle], check=True)
    with open(bundle, "rb") as f:
        (h, b), = list(read_bundles(f))
    check(h["kind"] == "diffuse", f"{fixture}: a diffuse bundle")
    for layout, fn in [("openfold3", check_openfold3), ("alphafold3", check_alphafold3)]:
        out = f"{scratch}/{fixture}.{layout}"
        r = subprocess.run([writecif, "-q", "--pdb", "--layout", layout, "-o", out, bundle],
                           capture_output=True, text=True)
        check(r.returncode == 0 and r.stderr == "", f"{fixture}: of3-writecif --pdb --layout "
              f"{layout} exits 0 quietly ({r.returncode} {r.stderr.strip()})")
        fn(out, h, b)
        left = glob.glob(f"{out}/**/*.tmp.*", recursive=True)
        check(not left, f"{fixture} {layout}: no temporary files left")
stem = f"{scratch}/big"
subprocess.run([pdb_tool, "--write-big", stem], check=True)
for ext in ["pdb", "cif"]:
    st = gemmi.read_structure(f"{stem}.{ext}")
    last = st[0]["A"][len(st[0]["A"]) - 1]
    check(st[0].count_atom_sites() == 100007 and [c.name for c in st[0]] == ["A", "B", "C"] and
          last.seqid.num == 25001 and last[0].serial == 100001 and
          st[0]["C"][0][0].element.name == "Mg",
          f"big.{ext}: 100007 atoms, chains A B C, residue 25001 (hybrid-36 in PDB)")
print(f"# gemmi {gemmi.__version__}: {'all passed' if not failed else f'{failed} failed'}")
sys.exit(1 if failed else 0)
