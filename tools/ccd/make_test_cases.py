#!/usr/bin/env python3
"""Writes the CCD test fixtures in tests/fixtures/ccd/ from the CCD biotite bundles:

  sample_components.cif   an mmCIF text file of the sample components (chem_comp, chem_comp_atom,
                          chem_comp_bond), written by biotite's CIF writer: input for of3's parser;
  expected_<CODE>.tsv     per sample, what OpenFold3 takes from the CCD, read through biotite's own
                          API (get_component, link_type, get_from_ccd), not through make_ccd.py.

Each expected file holds tab-separated lines:
  comp  CODE  TYPE  COORDS  N_ATOMS  N_BONDS      TYPE upper case; COORDS ideal, model or none
  atom  NAME  ELEMENT  CHARGE  LEAVING  X  Y  Z    heavy atoms in CCD order; Å, 3 decimals
  bond  I  J  ORDER  AROMATIC                      0-based heavy-atom indices, I < J, sorted

A developer tool, not needed to build or test of3.   python3 tools/ccd/make_test_cases.py
With --full-cif FILE it instead writes every component of the CCD as one mmCIF file (~370 MB,
about the size of wwPDB's components.cif; takes minutes), for `test_parse_ccd --compare FILE` and `--bench FILE`.
"""

import io
import os
import warnings

import numpy as np

SAMPLES = [
    # the standard residues and unknowns (spec/data.md §2.2)
    "ALA", "GLY", "ARG", "LYS", "HIS", "PHE", "UNK", "A", "U", "DA", "DT", "N", "DN",
    # modified residues and ligands of the example queries
    "PSU", "5MC", "SEP", "MSE", "ATP", "HEM", "NAG", "HOH", "SO4", "NO3",
    # ions and charges
    "MG", "ZN", "CL", "CYN",
    "A1ANH",  # a five-character code
    "03R",    # some ideal coordinates missing: the model ones are used
    "3UQ",    # ideal and model coordinates missing
    "UNL",    # no atoms at all
    "DOD",    # deuterium atoms (dropped like hydrogen)
    "VLD",    # atom names with a double quote (C2")
    "4WW",    # a name with a line break: a semicolon text field
    "M3B",    # a name with both quote characters
]

BOND_ORDER = {"SINGLE": (1, 0), "DOUBLE": (2, 0), "TRIPLE": (3, 0), "QUADRUPLE": (4, 0),
              "AROMATIC_SINGLE": (1, 1), "AROMATIC_DOUBLE": (2, 1), "AROMATIC_TRIPLE": (3, 1)}


def sample_cif(codes):
    import biotite.structure.io.pdbx as pdbx
    from biotite.structure.info.ccd import get_from_ccd

    f = pdbx.CIFFile()
    for code in codes:
        block = pdbx.CIFBlock()
        for name in ("chem_comp", "chem_comp_atom", "chem_comp_bond"):
            cat = get_from_ccd(name, code)
            if cat is None:
                continue
            cols = {}
            for key, col in cat.items():
                mask = None if col.mask is None else pdbx.CIFData(col.mask.array)
                cols[key] = pdbx.CIFColumn(pdbx.CIFData(col.as_array(str)), mask)
            block[name] = pdbx.CIFCategory(cols)
        f[code] = block
    out = io.StringIO()
    f.write(out)
    return out.getvalue()


def expected(code):
    import biotite.structure as struc
    from biotite.structure.info import link_type
    from biotite.structure.info.ccd import get_ccd, get_from_ccd
    from biotite.structure.io.pdbx import get_component

    ctype = link_type(code).upper()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            comp = get_component(get_ccd(), res_name=code)
        coords = "model" if any("fallback" in str(w.message) for w in caught) else "ideal"
    except KeyError:  # no chem_comp_atom rows
        return [f"comp\t{code}\t{ctype}\tnone\t0\t0"]
    except ValueError:  # neither ideal nor model coordinates complete
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            comp = get_component(get_ccd(), res_name=code, allow_missing_coord=True)
        comp.coord[:] = 0.0
        coords = "none"
    leaving = get_from_ccd("chem_comp_atom", code, "pdbx_leaving_atom_flag").as_array(str)
    heavy = ~np.isin(np.char.upper(comp.element), ["H", "D"])
    comp.set_annotation("leaving", leaving == "Y")
    comp = comp[heavy]
    bonds = []
    for i, j, t in comp.bonds.as_array():
        order, arom = BOND_ORDER[struc.BondType(t).name]
        bonds.append((min(i, j), max(i, j), order, arom))
    bonds.sort()
    lines = [f"comp\t{code}\t{ctype}\t{coords}\t{comp.array_length()}\t{len(bonds)}"]
    for a in comp:
        x, y, z = (f"{v:.3f}".replace("-0.000", "0.000") for v in a.coord)
        lines.append(f"atom\t{a.atom_name}\t{a.element.upper()}\t{a.charge}\t"
                     f"{int(a.leaving)}\t{x}\t{y}\t{z}")
    lines += [f"bond\t{i}\t{j}\t{o}\t{r}" for i, j, o, r in bonds]
    return lines


def main():
    import argparse

    import biotite

    ap = argparse.ArgumentParser(description="CCD test fixtures from biotite's CCD")
    ap.add_argument("--full-cif", metavar="FILE", help="write every component to FILE instead")
    args = ap.parse_args()
    if args.full_cif:
        from biotite.structure.info import all_residues

        with open(args.full_cif, "w") as f:
            codes = all_residues()
            for i in range(0, len(codes), 1000):
                f.write(sample_cif(codes[i:i + 1000]))
        return
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "..", "..", "tests", "fixtures", "ccd")
    os.makedirs(out, exist_ok=True)
    header = f"# written by tools/ccd/make_test_cases.py from the CCD of biotite {biotite.__version__}\n"
    with open(os.path.join(out, "sample_components.cif"), "w") as f:
        f.write(header + sample_cif(SAMPLES))
    for code in SAMPLES:
        with open(os.path.join(out, f"expected_{code}.tsv"), "w") as f:
            f.write(header + "\n".join(expected(code)) + "\n")
    with open(os.path.join(out, "samples.txt"), "w") as f:
        f.write("\n".join(SAMPLES) + "\n")


if __name__ == "__main__":
    main()
