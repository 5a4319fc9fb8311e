#!/usr/bin/env python3
"""tests/fixtures/SHAPES.tsv: the tensor shapes the spec gives, and a check of bundles against it.

  python3 tools/reference/shapes.py write tests/fixtures/SHAPES.tsv
  python3 tools/reference/shapes.py check tests/fixtures          # every file listed

The shapes below are written from ../shared/spec (data.md §4, trunk.md §2-§3,
diffusion_heads.md §2-§6) and docs/FORMAT.md, not read from generated output: the check
compares the generator against them, so a broken generator is noticed.
"""

import sys
from pathlib import Path

HEADER = """\
# of3 reference fixtures: the expected dtype and shape of every tensor in tests/fixtures/.
# Derived from the specification (shared/spec: data.md §4, trunk.md §2-3,
# diffusion_heads.md §2-6), not from the generator's output; written by
# tools/reference/shapes.py, which also checks generated bundles against it.
# Columns (tab-separated): bundle-file, tensor-name, dtype, symbolic shape.
# bundle-file: a file in tests/fixtures/; names ending in .gz are gzip-compressed
#   (read them with gzip -dc). A file may hold several bundles back to back (an example
#   file with several queries); every bundle in the file must match every line of that file.
# dtype: as in docs/FORMAT.md (f64, f32, i32, u8, ...).
# symbolic shape: comma-separated dimensions, each a literal integer (fixed by the spec)
#   or a symbol; a single "-" is a 0-d tensor (one element). A symbol binds per bundle to
#   the integer under its lower-case name in the header's "meta" map (N_token -> n_token).
#   Symbols: N_token N_atom N_msa N_bond N_msa_sub N_cycle N_sample N_step N_schedule
#   N_chain N_chain_pair c_s c_z c_s_input c_m c_atom c_token.
# Only tensors are listed; value records (atom labels, query_json) are not.
"""

# spec/data.md §4 (model input features) -------------------------------------------------
FEATURES = [
    # §4.1 token-level structure features
    ("token_index", "i32", "N_token"),
    ("residue_index", "i32", "N_token"),
    ("asym_id", "i32", "N_token"),
    ("entity_id", "i32", "N_token"),
    ("sym_id", "i32", "N_token"),
    ("restype", "i32", "N_token,32"),
    ("is_protein", "i32", "N_token"),
    ("is_rna", "i32", "N_token"),
    ("is_dna", "i32", "N_token"),
    ("is_ligand", "i32", "N_token"),
    ("is_atomized", "i32", "N_token"),
    ("token_mask", "f32", "N_token"),
    ("num_atoms_per_token", "i32", "N_token"),
    ("start_atom_index", "i32", "N_token"),
    ("atom_mask", "f32", "N_atom"),
    ("atom_to_token_index", "i32", "N_atom"),
    ("token_bonds", "i32", "N_token,N_token"),
    # §4.2 reference conformer features (ref_element is 119 wide, not AF3's 128)
    ("ref_pos", "f32", "N_atom,3"),
    ("ref_mask", "i32", "N_atom"),
    ("ref_element", "i32", "N_atom,119"),
    ("ref_charge", "f32", "N_atom"),
    ("ref_atom_name_chars", "i32", "N_atom,4,64"),
    ("ref_space_uid", "i32", "N_atom"),
    # §4.3 MSA features
    ("msa", "i32", "N_msa,N_token,32"),
    ("has_deletion", "f32", "N_msa,N_token"),
    ("deletion_value", "f32", "N_msa,N_token"),
    ("deletion_mean", "f32", "N_token"),
    ("profile", "f32", "N_token,32"),
    ("msa_mask", "f32", "N_msa,N_token"),
    ("num_paired_seqs", "i32", "1"),
    # §4.4 template features, N_templ = 4 (TemplateSettings.n_templates)
    ("template_restype", "i32", "4,N_token,32"),
    ("template_pseudo_beta_mask", "f32", "4,N_token"),
    ("template_backbone_frame_mask", "f32", "4,N_token"),
    ("template_distogram", "f32", "4,N_token,N_token,39"),
    ("template_unit_vector", "f32", "4,N_token,N_token,3"),
]

# the parsed atom list (spec/data.md §2.1 annotations; bonds as [atom i, atom j, BondType])
ATOMS = [
    ("atom_res_id", "i32", "N_atom"),
    ("atom_charge", "i32", "N_atom"),
    ("atom_molecule_type_id", "i32", "N_atom"),
    ("atom_entity_id", "i32", "N_atom"),
    ("atom_hetero", "u8", "N_atom"),
    ("atom_token_id", "i32", "N_atom"),
    ("atom_bonds", "i32", "N_bond,3"),
]

# spec/trunk.md §2.1, §3 (float64 reference run) -----------------------------------------
TRUNK = [
    ("s_input", "f64", "N_token,c_s_input"),            # §3.1.3, c_s_input = c_token + 65
    ("s_init", "f64", "N_token,c_s"),
    ("z_init", "f64", "N_token,N_token,c_z"),
    ("z_recycled_cycle0", "f64", "N_token,N_token,c_z"),  # z_init + linear_z(LN(0)), cycle 0
    ("template_embedder_out", "f64", "N_token,N_token,c_z"),
    ("msa_module_in_m", "f64", "N_msa_sub,N_token,c_m"),  # §3.4.2 after subsampling
    ("msa_module_in_mask", "f64", "N_msa_sub,N_token"),
    ("msa_module_in_z", "f64", "N_token,N_token,c_z"),
    ("msa_module_out_z", "f64", "N_token,N_token,c_z"),
    ("s_recycled_cycle0", "f64", "N_token,c_s"),
    ("pairformer_block0_out_s", "f64", "N_token,c_s"),
    ("pairformer_block0_out_z", "f64", "N_token,N_token,c_z"),
    ("s_cycle", "f64", "N_cycle,N_token,c_s"),
    ("z_cycle", "f64", "N_cycle,N_token,N_token,c_z"),
    ("s_trunk", "f64", "N_token,c_s"),
    ("z_trunk", "f64", "N_token,N_token,c_z"),
]

# spec/diffusion_heads.md §3.1-§3.5: one DiffusionModule call -------------------------------
DIFFUSION = [
    ("diffusion_t", "f64", "-"),                        # t-hat, a 0-d scalar (§2.2)
    ("diffusion_x_noisy", "f64", "N_sample,N_atom,3"),
    ("diffusion_cond_s", "f64", "N_token,c_s"),         # §3.2 (shared by samples)
    ("diffusion_cond_z", "f64", "N_token,N_token,c_z"),
    ("diffusion_enc_c", "f64", "N_atom,c_atom"),        # §3.3 steps 1-3
    ("diffusion_enc_q", "f64", "N_sample,N_atom,c_atom"),  # §3.3 step 8 (q_skip)
    ("diffusion_enc_a", "f64", "N_sample,N_token,c_token"),  # §3.3 step 9
    ("diffusion_transformer_a", "f64", "N_sample,N_token,c_token"),  # §3.4 output
    ("diffusion_dec_r_update", "f64", "N_sample,N_atom,3"),  # §3.5
    ("diffusion_x_denoised", "f64", "N_sample,N_atom,3"),
]

# spec/diffusion_heads.md §2: sampling with every random draw (§2.4) -------------------------
SAMPLE = [
    ("noise_schedule", "f64", "N_schedule"),            # T + 1 values (§2.1)
    ("sample_noise_init", "f64", "N_sample,N_atom,3"),  # draw 0
    ("sample_aug_quat", "f64", "N_step,N_sample,4"),    # draws 3t-2
    ("sample_aug_trans", "f64", "N_step,N_sample,3"),   # draws 3t-1
    ("sample_noise_step", "f64", "N_step,N_sample,N_atom,3"),  # draws 3t
    ("sample_t_hat", "f64", "N_step"),
    ("sample_x_noisy", "f64", "N_step,N_sample,N_atom,3"),
    ("sample_x_denoised", "f64", "N_step,N_sample,N_atom,3"),
    ("atom_positions_predicted", "f64", "N_sample,N_atom,3"),
]

# spec/diffusion_heads.md §5 (heads) and §6 (metrics) ----------------------------------------
HEADS = [
    ("confidence_pairformer_s", "f64", "N_sample,N_token,c_s"),
    ("confidence_pairformer_z", "f64", "N_sample,N_token,N_token,c_z"),
    ("distogram_logits", "f64", "N_token,N_token,64"),
    ("plddt_logits", "f64", "N_sample,N_atom,50"),
    ("experimentally_resolved_logits", "f64", "N_sample,N_atom,2"),
    ("pde_logits", "f64", "N_sample,N_token,N_token,64"),
    ("pae_logits", "f64", "N_sample,N_token,N_token,64"),
    ("has_frame", "u8", "N_sample,N_token"),            # §6.5
    ("plddt", "f64", "N_sample,N_atom"),
    ("pde", "f64", "N_sample,N_token,N_token"),
    ("pae", "f64", "N_sample,N_token,N_token"),
    ("gpde", "f64", "N_sample"),
    ("ptm", "f64", "N_sample"),
    ("iptm", "f64", "N_sample"),
    ("disorder", "f64", "N_sample"),
    ("has_clash", "f64", "N_sample"),
    ("sample_ranking_score", "f64", "N_sample"),
    ("chain_asym_id", "i32", "N_chain"),
    ("chain_ptm", "f64", "N_chain,N_sample"),
    ("chain_pair_asym_id", "i32", "N_chain_pair,2"),
    ("chain_pair_iptm", "f64", "N_chain_pair,N_sample"),
    ("bespoke_iptm", "f64", "N_chain_pair,N_sample"),
]

EXAMPLES = ["query_dna_ptm", "query_homomer", "query_multimer", "query_protein_ligand",
            "query_protein_ligand_multiple", "query_ubiquitin"]
TAP_QUERIES = ["protein", "protein_ligand"]


def table():
    rows = []
    for ex in EXAMPLES:
        for r in ATOMS + FEATURES:
            rows.append((f"features_{ex}.bundle.gz",) + r)
    for q in TAP_QUERIES:
        p = f"tiny_{q}"
        rows += [(f"{p}_features.bundle.gz",) + r for r in ATOMS + FEATURES]
        rows += [(f"{p}_trunk.bundle.gz",) + r for r in TRUNK]
        rows += [(f"{p}_diffusion.bundle.gz",) + r for r in DIFFUSION]
        rows += [(f"{p}_sample.bundle.gz",) + r for r in SAMPLE]
        rows += [(f"{p}_heads.bundle.gz",) + r for r in HEADS]
    return rows


def write(path):
    with open(path, "w") as f:
        f.write(HEADER)
        for r in table():
            f.write("\t".join(r) + "\n")


def parse(path):
    rows = []
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        rows.append(tuple(line.rstrip("\n").split("\t")))
    return rows


def check(fixdir, tsv=None):
    import numpy as np
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from of3ref.bundle import read_file

    fixdir = Path(fixdir)
    rows = parse(tsv or fixdir / "SHAPES.tsv")
    by_file = {}
    for f, name, dtype, shape in rows:
        by_file.setdefault(f, []).append((name, dtype, shape))
    bad = 0
    for f, want in by_file.items():
        bundles = read_file(fixdir / f)
        if not bundles:
            print(f"{f}: no bundle"); bad += 1
        for header, items in bundles:
            meta = header["meta"]
            tensors = {k for k, v in items.items() if hasattr(v, "shape")}
            listed = {n for n, _, _ in want}
            for extra in sorted(tensors - listed):
                print(f"{f} [{header['query']}]: tensor {extra} is not in SHAPES.tsv"); bad += 1
            for name, dtype, shape in want:
                if name not in items:
                    print(f"{f} [{header['query']}]: missing {name}"); bad += 1
                    continue
                a = items[name]
                dims = [] if shape == "-" else shape.split(",")
                exp = []
                for d in dims:
                    if d.isdigit():
                        exp.append(int(d))
                    elif d.lower() in meta:
                        exp.append(int(meta[d.lower()]))
                    else:
                        exp.append(None)
                        print(f"{f}: symbol {d} not in meta"); bad += 1
                from of3ref.bundle import DTYPES
                if a.dtype != np.dtype(DTYPES[dtype]):
                    print(f"{f} [{header['query']}]: {name} dtype {a.dtype} != {dtype}"); bad += 1
                if list(a.shape) != exp:
                    print(f"{f} [{header['query']}]: {name} shape {list(a.shape)} != {shape} = {exp}")
                    bad += 1
    n = sum(len(v) for v in by_file.values())
    print(f"shapes: {len(by_file)} files, {n} lines, {bad} problems")
    return bad == 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        write(sys.argv[2])
    elif len(sys.argv) in (3, 4) and sys.argv[1] == "check":
        sys.exit(0 if check(sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else None) else 1)
    else:
        sys.exit(__doc__)
