#!/usr/bin/env python3
"""MSA parity fixtures for of3-featurize: small real A3M/Stockholm inputs and the MSA features
the pinned OpenFold3 data pipeline (commit b7940cb0) computes from them.

  python3 tools/reference/make_msa_fixtures.py inputs
      (re)writes the synthetic MSA files and tests/fixtures/msa/msa_queries.json
      (deterministic: a fixed random seed)

  python3 tools/reference/make_msa_fixtures.py features
      runs OpenFold3's InferenceDataset.create_all_features on every query of
      tests/fixtures/msa/msa_queries.json (from the repository root, so the relative MSA paths
      resolve as of3-parse resolves them) and writes
      tests/fixtures/msa/msa_queries.features.bundle.gz: per query the atom records, the
      query JSON and the MSA features of spec/data.md §4.3.

The MSAs are made up, but shaped like real ones: a query row first, substitutions, gap runs,
lower-case insertions (A3M) and insert columns (Stockholm), unknown letters, UniProt-style
headers "tr|ACC|ACC_SPECIES/start-end" on uniprot_hits for online pairing. They avoid what
OpenFold3 cannot do (spec/data.md §6.8) and what it leaves to chance: no two rows of one
species in one uniprot_hits file have the same identity to the query (numpy's argsort is not
stable), and no uniprot_hits row equals the query. See tests/fixtures/msa/README.md.
"""

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from of3ref import PRODUCER, env  # noqa: E402

REPO = env.REPO_DIR
FIX = Path("tests/fixtures/msa")            # relative: the query JSON names relative paths
QUERIES = FIX / "msa_queries.json"
OUT = FIX / "msa_queries.features.bundle.gz"
MSA_FEATURES = ["msa", "has_deletion", "deletion_value", "deletion_mean", "profile",
                "msa_mask", "num_paired_seqs"]
AA = "ACDEFGHIKLMNPQRSTVWY"
NT = "ACGU"


def log(msg):
    print(f"make_msa_fixtures: {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------
# synthetic inputs
# ------------------------------------------------------------------------------------------
def mutate(rng, query, alphabet, p_sub, p_gap, extra=""):
    """One aligned row (upper case, '-' gaps) derived from the query."""
    row = []
    i = 0
    while i < len(query):
        r = rng.random()
        if r < p_gap:
            n = rng.randint(1, 4)
            row.extend("-" * min(n, len(query) - i))
            i += n
            continue
        if r < p_gap + p_sub:
            row.append(rng.choice(alphabet + extra))
        else:
            row.append(query[i])
        i += 1
    return "".join(row[:len(query)])


def to_a3m(rng, row, alphabet, p_ins):
    """Adds lower-case insertions before columns (and sometimes after the last one)."""
    out = []
    for c in row:
        if rng.random() < p_ins:
            out.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))).lower())
        out.append(c)
    if rng.random() < 0.2:
        out.append(rng.choice(alphabet).lower())        # trailing insertion: dropped
    return "".join(out)


def wrap(s, width=60):
    return "\n".join(s[i:i + width] for i in range(0, len(s), width)) or ""


def write_a3m(path, rows):
    """rows: (header, a3m sequence); long sequences wrapped over several lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        f.write("# synthetic alignment, tools/reference/make_msa_fixtures.py\n")
        for h, s in rows:
            f.write(f">{h}\n{wrap(s)}\n")


def write_sto(rng, path, names, aligned, query_ins_cols, alphabet):
    """aligned rows (query columns) plus insert columns where the query has a gap: each insert
    column is given residues in some rows, '.'/'-' elsewhere; written in two blocks."""
    n_cols = len(aligned[0])
    full = []
    for k, row in enumerate(aligned):
        cols = []
        for j in range(n_cols):
            if j in query_ins_cols:
                n = query_ins_cols[j]
                for _ in range(n):
                    if k == 0:
                        cols.append(rng.choice(".-"))
                    else:
                        cols.append(rng.choice(alphabet).lower() if rng.random() < 0.5
                                    else ".")
            cols.append(row[j])
        full.append("".join(cols))
    width = max(len(n) for n in names) + 2
    half = len(full[0]) // 2
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        f.write("# STOCKHOLM 1.0\n#=GF ID synthetic\n"
                "#=GF CC tools/reference/make_msa_fixtures.py\n\n")
        for n in names:
            f.write(f"#=GS {n} DE synthetic sequence\n")
        f.write("\n")
        for part in (slice(0, half), slice(half, None)):
            for n, s in zip(names, full):
                f.write(f"{n.ljust(width)}{s[part]}\n")
            f.write(f"{'#=GC RF'.ljust(width)}{'x' * len(full[0][part])}\n\n")
        f.write("//\n")


def species_rows(rng, query, species, tag, n_per_species):
    """uniprot_hits rows: per species n rows of distinct identity to the query."""
    rows = [("query", query)]
    n = 0
    for sp, k in zip(species, n_per_species):
        seen = set()
        while len(seen) < k:
            row = mutate(rng, query, AA, 0.15 + 0.05 * len(seen), 0.05)
            ident = sum(a == b for a, b in zip(row, query))
            if ident in seen or row == query:
                continue
            seen.add(ident)
            n += 1
            acc = f"{tag}{n:04d}"
            a3m = to_a3m(rng, row, AA, 0.04)
            rows.append((f"tr|{acc}|{acc}_{sp}/1-{len(query)}", a3m))
    return rows


def make_inputs():
    rng = random.Random(20260515)
    prot_a = "".join(rng.choice(AA) for _ in range(48))
    prot_b = "".join(rng.choice(AA) for _ in range(40))
    rna = "".join(rng.choice(NT) for _ in range(30))
    rna2 = "".join(rng.choice(NT) for _ in range(12))

    # 1. protein: a directory with an A3M (uniref90_hits) and a Stockholm file (mgnify_hits)
    rows = [("query", prot_a)]
    for k in range(40):
        row = mutate(rng, prot_a, AA, 0.3, 0.06, extra="XBZ" if k % 9 == 4 else "")
        rows.append((f"UniRef90_A{k:03d} n=3 Tax=Synthetic", to_a3m(rng, row, AA, 0.06)))
    rows.append(("UniRef90_ALEAD leading insertion", "mk" + prot_a[:30] + "-" * 18))
    write_a3m(FIX / "prot" / "uniref90_hits.a3m", rows)
    names = ["query"] + [f"MGYP{k:06d}/1-48" for k in range(9)]
    aligned = [prot_a] + [mutate(rng, prot_a, AA, 0.35, 0.08) for _ in range(9)]
    aligned[3] = aligned[3][:10] + aligned[3][10].lower() + aligned[3][11:]   # -> unknown
    write_sto(rng, FIX / "prot" / "mgnify_hits.sto", names, aligned, {5: 2, 20: 1, 33: 3}, AA)
    (FIX / "prot" / "notes.txt").write_text("not an MSA: skipped (unknown extension)\n")
    write_a3m(FIX / "prot" / "my_alignment.a3m", [("query", prot_a)])   # unknown stem: skipped

    # 2. RNA: Stockholm (rfam_hits) and A3M (rnacentral_hits)
    names = ["query"] + [f"RF0{k:04d}/1-30" for k in range(11)]
    aligned = [rna] + [mutate(rng, rna, NT, 0.25, 0.08, extra="TN") for _ in range(11)]
    write_sto(rng, FIX / "rna" / "rfam_hits.sto", names, aligned, {0: 1, 12: 2, 29: 1}, NT)
    rows = [("query", rna)] + [
        (f"URS{k:010d}_9606", to_a3m(rng, mutate(rng, rna, NT, 0.2, 0.05, extra="T"), NT, 0.08))
        for k in range(14)]
    write_a3m(FIX / "rna" / "rnacentral_hits.a3m", rows)

    # 3. heteromer with online pairing: uniprot_hits with species for both proteins
    ua = species_rows(rng, prot_a, ["HUMAN", "MOUSE", "YEAST", "ECOLI", "9BACT", "ARATH"], "A",
                      [3, 2, 2, 1, 3, 1])
    ub = species_rows(rng, prot_b, ["HUMAN", "MOUSE", "BOVIN", "9BACT", "YEAST"], "B",
                      [2, 3, 1, 2, 1])
    ua.append(("sp|P99999|TEST_HUMAN", to_a3m(rng, mutate(rng, prot_a, AA, 0.6, 0.0), AA, 0)))
    write_a3m(FIX / "het_a" / "uniprot_hits.a3m", ua)
    write_a3m(FIX / "het_b" / "uniprot_hits.a3m", ub)
    main_a = [("query", prot_a)] + [(f"UniRef90_HA{k}", to_a3m(rng, mutate(rng, prot_a, AA,
                                                                           0.3, 0.05), AA, 0.05))
                                    for k in range(6)]
    main_a.append(("copy of a paired row", ua[4][1]))        # removed: equals a paired row
    write_a3m(FIX / "het_a" / "uniref90_hits.a3m", main_a)
    main_b = [("query", prot_b)] + [(f"MGYP_HB{k}", to_a3m(rng, mutate(rng, prot_b, AA, 0.3,
                                                                       0.05), AA, 0.05))
                                    for k in range(9)]
    write_a3m(FIX / "het_b" / "mgnify_hits.a3m", main_b)

    # 4. heteromer with precomputed (ColabFold-style) paired MSAs
    for tag, q in (("a", prot_a), ("b", prot_b)):
        paired = [("101" if tag == "a" else "102", q)] + [
            (f"UniRef100_P{tag.upper()}{k}", to_a3m(rng, mutate(rng, q, AA, 0.3, 0.05), AA, 0.05))
            for k in range(5)]
        write_a3m(FIX / f"pre_{tag}_paired" / "colabfold_paired.a3m", paired)
        main = [("101", q)] + [(f"UniRef100_M{tag.upper()}{k}",
                                to_a3m(rng, mutate(rng, q, AA, 0.3, 0.05), AA, 0.05))
                               for k in range(7)]
        main.append(("copy of a paired row", paired[2][1]))
        write_a3m(FIX / f"pre_{tag}_main" / "colabfold_main.a3m", main)

    d = str(FIX)
    queries = {
        "msa_protein": {"chains": [
            {"molecule_type": "protein", "chain_ids": ["A"], "sequence": prot_a,
             "main_msa_file_paths": [f"{d}/prot"]},
            {"molecule_type": "rna", "chain_ids": ["B"], "sequence": rna2}]},
        "msa_rna": {"chains": [
            {"molecule_type": "rna", "chain_ids": ["R"], "sequence": rna,
             "main_msa_file_paths": [f"{d}/rna/rfam_hits.sto", f"{d}/rna/rnacentral_hits.a3m"]}]},
        "msa_heteromer_online": {"chains": [
            {"molecule_type": "protein", "chain_ids": ["A", "C"], "sequence": prot_a,
             "main_msa_file_paths": [f"{d}/het_a"]},
            {"molecule_type": "protein", "chain_ids": ["B"], "sequence": prot_b,
             "main_msa_file_paths": [f"{d}/het_b"]},
            {"molecule_type": "rna", "chain_ids": ["R"], "sequence": rna,
             "main_msa_file_paths": [f"{d}/rna"]}]},
        "msa_heteromer_paired": {"chains": [
            {"molecule_type": "protein", "chain_ids": ["A"], "sequence": prot_a,
             "main_msa_file_paths": [f"{d}/pre_a_main"],
             "paired_msa_file_paths": [f"{d}/pre_a_paired/colabfold_paired.a3m"]},
            {"molecule_type": "protein", "chain_ids": ["B"], "sequence": prot_b,
             "main_msa_file_paths": [f"{d}/pre_b_main/colabfold_main.a3m"],
             "paired_msa_file_paths": [f"{d}/pre_b_paired"]}]},
    }
    with open(QUERIES, "w") as f:
        json.dump({"queries": queries}, f, indent=1)
        f.write("\n")
    log(f"wrote the inputs under {FIX} and {QUERIES}")


# ------------------------------------------------------------------------------------------
# reference features
# ------------------------------------------------------------------------------------------
def make_features(args):
    env_meta = env.setup(args.of3_src, threads=1, check_source=not args.any_source)
    from of3ref import featurize as F
    from of3ref.bundle import BundleWriter

    fz = F.Featurizer()
    raw = F.raw_queries(QUERIES)
    qs = fz.prepare(F.load_query_set(QUERIES))     # dummy MSAs for chains without files
    data = b""
    for qid, q in qs.queries.items():
        t0 = time.time()
        feats, atom_array = fz.features(q, args.seed)
        meta = dict(env_meta)
        meta.update(F.feature_meta(feats, atom_array))
        meta.update({"seed": args.seed, "source_file": str(QUERIES),
                     "msa_mode": "MSA files named by the query (no MSA server); chains "
                                 "without files get the query-only dummy MSA"})
        w = BundleWriter("fixture", qid, PRODUCER, meta)
        w.value("query_json", json.dumps(raw[qid], sort_keys=True))
        F.atom_records(w, atom_array)
        for k in MSA_FEATURES:
            w.tensor(k, feats[k])
        data += w.encode()
        log(f"featurized {qid}: {meta['n_token']} tokens, {meta['n_msa']} MSA rows, "
            f"{int(feats['num_paired_seqs'][0]) - 1} paired ({time.time() - t0:.1f} s)")
    fz.close()
    import gzip
    import io
    import os
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    tmp = f"{OUT}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(buf.getvalue())
    os.replace(tmp, OUT)
    log(f"wrote {OUT} ({len(buf.getvalue()) / 1e6:.2f} MB)")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["inputs", "features"])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--of3-src", default=None)
    ap.add_argument("--any-source", action="store_true")
    args = ap.parse_args()
    import os
    os.chdir(REPO)
    if args.what == "inputs":
        make_inputs()
    else:
        make_features(args)


if __name__ == "__main__":
    main()
