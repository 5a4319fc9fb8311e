#!/usr/bin/env python3
"""Expected SMILES parses for tests/test_parse_smiles.c, computed with the real RDKit and biotite.

For every SMILES this runs what OpenFold3 runs on a ligand given by SMILES (spec/data.md §2.7):
  mol = Chem.MolFromSmiles(smiles)                   # default parameters, sanitize=True
  Chem.AddHs / Chem.RemoveAllHs                       # the conformer step's round trip
  biotite.interface.rdkit.from_mol(mol, add_hydrogen=False)
and records
  atoms  element (upper case) and formal charge as from_mol records them (the conformer step's
         second sanitization can still change a charge: OI(=O)O becomes O[I+]([O-])O), and from
         MolFromSmiles the total H count, aromatic as written (the same parse without
         sanitization) and aromatic as RDKit perceives it;
  bonds  in RDKit's bond order, RDKit's begin and end atoms, and the biotite BondType that
         from_mol records (1 SINGLE, 2 DOUBLE, 3 TRIPLE, 4 QUADRUPLE, 5 AROMATIC_SINGLE,
         6 AROMATIC_DOUBLE, 7 AROMATIC_TRIPLE, 8 COORDINATION, 9 AROMATIC when RDKit could not
         kekulize the bond).
SMILES that RDKit rejects are recorded with RDKit's message.

Output (tab separated, '#' lines are comments):
  OK  <smiles>  <atoms>  <bonds>
      atoms: space separated EL:charge:nH:WP (W written aromatic 0/1, P perceived aromatic 0/1)
      bonds: space separated begin-end:type ('-' when there are none)
  ERR <smiles>  <RDKit's message>

usage: make_cases.py [--all] [--random N] [--extra FILE]... [-o tests/fixtures/smiles/cases.tsv]
  --all         every SMILES of the sample files instead of the committed subset
  --random N    N random SMILES orderings (aromatic and Kekule form) of every sample molecule
                instead of the committed number (RDKit's Kekule assignment depends on the order)
  --extra FILE  more SMILES (first column, or the second when the first is an identifier)
  --mutate N    N random one- to three-character edits of the sample SMILES (valid or not,
                RDKit decides): a differential fuzz test; --seed S picks the edits
The options make local stress tests; the committed file is made without them.
"""
import argparse
import logging
import os
import random
import sys
import warnings

import biotite
import rdkit
from biotite.interface.rdkit import from_mol
from rdkit import Chem, RDConfig, rdBase

# ---- the SMILES ---------------------------------------------------------------------------

EXAMPLES = ["CC(=O)OC1C[NH+]2CCC1CC2", "O=C([O-])c1cc2ccccc2s1"]

# Every construct of the syntax, charge and valence rules, and ring systems whose Kekule
# structure is not obvious.
CONSTRUCTS = """
C CC CCO C=C C#C C#N CC=O O=C=O [C-]#[O+] C$C [Na+].[Cl-] [H][H] [H+] [H-] [HH] [2H]C [2H][2H]
[H]C([H])([H])[H] [H]C [H]OC [H]c1ccccc1 F/C=C/[H] [H]/C=C/F [H]N=C C[C@H](N)C(=O)O C[C@@H](N)C(=O)O
N[C@@H](C)C(=O)O [C@@H]1(C)CCO1 F[C@]1(Cl)CCO1 [13CH4] [13C]([2H])([2H])[2H] [O-][N+](=O)c1ccccc1
CN(=O)=O C[N+](=O)[O-] O=n1ccccc1 [O-][n+]1ccccc1 c1cc[n+]([O-])cc1 CN=[N+]=[N-] CN=N#N
C=P(=O)(C)C OP(=O)(O)O OP(O)O P(Cl)(Cl)(Cl)(Cl)Cl OCl(=O)(=O)=O [O-]Cl(=O)(=O)=O OI(=O)=O OBr=O
CS(=O)(=O)C CS(=O)C CS(C)(C)(C)(C)C C[S+](C)C C[S-] [SH2] [SH4] [SH6] [S] [O] [C] [CH] [CH2] [CH3]
[NH4+] [NH3+]C [NH2+](C)C [NH+](C)(C)C [N+](C)(C)(C)C [N-]1C=CC=C1 [nH]1cccc1 n1cccc1C c1ccc[nH]1
[n-]1cccc1 c1cc[nH+]cc1 c1ccncc1 c1cc[n+](C)cc1 Cn1ccnc1 c1nc[nH]c1 c1cnc[nH]1 [O-]C(=O)C
[OH-] [OH3+] [O-2] [O--] [O-][O-] C[O+](C)C [Fe+2] [Fe+++] [Fe+3] [Cu] [Zn++] [Mg+2] [Ca+2] [K+]
[Li+] [Co] [Pt] [Se] [Te] [se]1cccc1 [te]1cccc1 c1cc[se]c1 [as]1cccc1 [si]1cccc1 [Si](C)(C)(C)C
[B-](F)(F)(F)F B(O)(O)O OB(O)c1ccccc1 b1ccccc1 C1=CC=CB1 c1ccc2c(c1)B(O)OC2 [BH4-] [BH3] [I-] [I+]
ICl I(Cl)(Cl)Cl [Xe] [He] [Ar] [U] [Au] [Hg] [Ag+] [Ge](C)(C)(C)C [Sn](C)(C)(C)C [Pb] [Bi] [As]
C[As](C)C C[Se]C [SeH2] [Br-] Br BrBr ClCl FF II [NH2-] [CH3-] [CH3+] [CH2+]C [C+](C)(C)C [C-]#N
C1CC1 C1CCC1 C1CCCC1 C1CCCCC1 C1CCCCCC1 C12CC1C2 C1CC2CCC1C2 C12C3C4C1C5C2C3C45 C1CC%10CC1C%10
C%10CC%10 C%99CC%99 C1CC11CC1 C1CC=1 C=1CC1 C=1CC=1 C1CC-1 C-1CC1 c1ccccc1-c1ccccc1 c1ccccc1c1ccccc1
c1:c:c:c:c:c1 c1ccccc1 C1=CC=CC=C1 c1ccc2ccccc2c1 C1=CC=C2C=CC=CC2=C1 c1ccc2cc3ccccc3cc2c1
c1ccc2c(c1)ccc1ccccc12 c1cc2ccc3cccc4ccc(c1)c2c34 c1ccc2c(c1)[nH]c1ccccc12 c1ccc2[nH]ccc2c1
c1ccc2c(c1)cc[nH]2 c1ncc2nc[nH]c2n1 Nc1ncnc2[nH]cnc12 Cn1cnc2c1c(=O)n(C)c(=O)n2C
CN1C=NC2=C1C(=O)N(C(=O)N2C)C c1ccoc1 c1ccsc1 o1cccc1 s1cccc1 c1cocn1 c1cscn1 c1ccc2ocnc2c1
c1ccc2scnc2c1 c1ccc2c(c1)oc1ccccc12 c1ccc2c(c1)sc1ccccc12 c1cc2cccc2c1 c1ccc2cccccc2c1
C1=CC2=CC=CC=CC2=C1 c1ccc2c(c1)c1ccccc1c1ccccc21 O=c1cc[nH]cc1 O=c1ccocc1 O=c1ccccc1=O
O=c1[nH]c(=O)c2[nH]cnc2[nH]1 O=C1NC(=O)c2[nH]cnc2N1 Cc1c[nH]c(=O)[nH]c1=O O=c1cc[nH]c(=O)[nH]1
c1ccc2c(c1)[nH]c(=O)[nH]2 c1ccc(cc1)[N+](=O)[O-] c1cc[n+](cc1)[O-] c1ccc2c(c1)c1ccccc1n2C
F[P-](F)(F)(F)(F)F F[Si-2](F)(F)(F)(F)F F[As-](F)(F)(F)(F)F F[Sb-](F)(F)(F)(F)F [O-]S(=O)(=O)[O-]
CP(=O)=C C=P(=O)N C=P(=O)C=C [NH3][Cu+2]([NH3])([NH3])[NH3] [NH3][Pt]([NH3])(Cl)Cl c1cccc[n]1[Fe]
C[n]1ccnc1[Zn] O=s1cccc1 O=S1(=O)C=CC=C1 O=c1[nH]cccc1 S=c1[nH]cccc1 [S-]c1ccccn1 [O-]c1cccc[n+]1C
C[S@@](=O)c1ccccc1 CS(=O)(=O)N CS(=N)(=O)C C[Se](=O)C [Cl-].[NH4+] [N+](=O)([O-])[O-] O=N(=O)O
[O-][N+](=O)[O-] ON=O N#N [C-]#[N+]C C=[N+]=[N-] [N-]=[N+]=[N-] [I-].[I]I [Cl+]([O-])[O-]
C1=CC=C[N]1 c1cc[c]cc1 [CH]1C=CC=C1 [c]1ccccc1 [B]1C=CC=C1 C1=C[B-]C=C1 c1cc[bH-]cc1
[nH]1cccc1-c1ccc[nH]1 c1ccc2c(c1)[nH]c1c2cccc1 O=C1C=CC(=O)N1 Cc1cc(=O)oc2ccccc12
C1=CC=CN1 c1cn2ccccc2n1 c1ccn2ccnc2c1 c1cc2cccn2c1 n1ccn2c1cccc2 c1ncn2cccc2c1 c1ccc2nsnc2c1
c1nnn[nH]1 c1nn[nH]n1 Cn1nnnc1C c1nnco1 c1nncs1 c1nonc1 c1ccc2nonc2c1 O=c1oc2ccccc2cc1 O=c1ccc2ccccc2o1
c1ccc2c(c1)C(=O)c1ccccc1C2=O O=C1C=CC(=O)C=C1 c12c3c4c5c1c1c2c3c4c51 c1ccccc1c2ccccc2c3ccccc3
C1=CC=C2C(=C1)C=CC3=CC=CC=C32 c1cc2ccc3ccc4ccc5ccc6ccc1c7c2c3c4c5c67
c1cc2cc3ccc(cc4ccc(cc5ccc(cc1n2)[nH]5)n4)[nH]3 C1=CC2=CC3=CC=C(N3)C=C4C=CC(=N4)C=C5C=CC(=N5)C=C1N2
c1ccc2c(c1)-c1cccc3cccc-2c13 c1ccc-2c(c1)-c1ccccc-21 c1ccccc1C=Cc1ccccc1 C(=C/c1ccccc1)\\c1ccccc1
F/C=C/F F/C=C\\F F\\C=C/F C/C=C/C=C/C CC(=O)N/N=C/c1ccccc1 C(/F)=C/F F/C=C/1.Cl1 C\\1CCC/1=C
[12C] [13CH3]C [2H]O[2H] [3H]C [18F]c1ccccc1 [235U] [C:1] [CH3:12]O [NH4+:3] [OH2:1]
C[C@@]12CC[C@H]3[C@@H](CCC4=CC(=O)CC[C@]34C)[C@@H]1CC[C@@H]2O C[C@]1(O)CCCC1 [C@H](F)(Cl)Br
[C@TH1H](F)(Cl)Br [C@TH2H](F)(Cl)Br C[Pt@SP1](Cl)(Cl)C OC[C@@H](O)[C@@H](O)[C@H](O)[C@H](O)C=O
N1=NC=C1 c1cc[cH-]c1 [cH-]1cccc1 [CH-]1C=CC=C1 [Fe]1234C5=C1C2=C3C45 c1cc[cH+]cc1 [C+]1C=CC=CC=C1
c1ccc[cH+]cc1 c1cc[c-]cc1 [c-]1cccc1 o1cc[o+]c1 [o+]1ccccc1 C1=CC=[O+]C=C1 [s+]1ccccc1 c1ccc[s+]c1
c1ccc[p]1 p1cccc1 [pH]1cccc1 c1cc[pH]c1 c1ccpcc1 P1=CC=CC=C1 c1ccc2c(c1)[se]c1ccccc12
CC1=C(C(=O)C[C@@H]1OC(=O)[C@@H]2[C@H](C2(C)C)/C=C(\\C)/C(=O)OC)C/C=C\\C=C
Oc1ccccc1 [O-]c1ccccc1 Nc1ccccc1 [NH3+]c1ccccc1 Clc1ccccc1 c1ccccc1[N+]#N
C1CCCCCCCCCCCCCCCCCCCCC1 C1CCCCCCCCCCC2CCCCCCCC2CCC1 c1cccc2c1cccc2 c1cc2c3c(c1)cccc3cc2
C1CC2CC3CC1CC(C2)C3 C1C2CC3CC1CC(C2)C3 C12C3C4C5C1C6C2C5C3C46 C1CC2C3CCC4C5CCC(C1)C2C5C34
c1cc2c(cc1)c1ccccc1[nH]2 n1c2ccccc2c2ccccc12 c1ccc2[n+](c1)cccc2 c1ccc2c(c1)cccc2 n12ccccc1cccc2
"""

# Cages, fused and bridged systems, macrocycles, metal complexes: the ring finder's rarer paths
# (degree-3 starts, extra rings of equal size, more than 16 rings) and long kekulization walks.
HARD = """
C12=C3C4=C5C6=C1C7=C8C9=C1C%10=C%11C(=C29)C3=C2C3=C4C4=C5C5=C9C6=C7C6=C7C8=C1C1=C8C%10=C%10C%11=C2C2=C3C3=C4C4=C5C5=C%11C%12=C(C6=C95)C7=C1C1=C%12C5=C%11C4=C3C3=C5C(=C81)C%10=C23
C12C3C4C5C1C6C7C2C8C3C9C4C%10C5C6C%11C7C8C9C%10%11 C12C3C1C4C2C34 C1N2CN3CN1CN(C2)C3
C1C2CC3C4CC5CC(C4)C3CC1C25 C1=CC=CC=CC=C1 C1=CC=CC=CC=CC=CC=CC=CC=C1 C1=CC2=CC=CC2=C1
C1=CC=C2C=CC=CC=C2C=C1 C1=CC2=NC1=CC3=CC=C(N3)C=C4C=CC(=N4)C=C5C=CC(=C2)N5
c1ccc2c(c1)c1nc2nc2[nH]c(nc3nc(nc4[nH]c(n1)c1ccccc41)c1ccccc31)c1ccccc21 [CH+]1C=C1
[CH+]1C=CC=CC=C1 [CH-]1C=CC=C1.[CH-]1C=CC=C1.[Fe+2] N->[Pt](<-N)(Cl)Cl
CC1=C(CCC(=O)O)C2=CC3=C(CCC(=O)O)C(C)=C4C=C5C(C)=C(C=C)C6=[N]5[Fe]7(N34)[N]2=C1C=C1C(C)=C(C=C)C(=C6)N17
C1c2c3c4c1c1c5c(C1)c1c6c(C1)c1c2c2c4c1c6c5c32 O=C1N2CN3C(=O)N4CN5C(=O)N(C2C35)C14
C1COCCOCCN2CCOCCOCCN1CCOCCOCC2 c1ccc2c(c1)ccc1ccc3ccc4ccc5ccccc5c4c3c12 C1=C[SiH2]C=C1
C1=CBC=C1 O=S1C=CC=C1 C1CCC2(C1)CCCC2 C1CC2CC1C=C2 C12=CON=C1C(C4)CC3CC2CC4C3
SC(C3C1CC(C3)CC(C2S)(O)C1)2S CC1=CC=C(C=C1)S(=O)(=O)O[CH]2[CH]3CO[CH](O3)[CH]4OC(C)(C)O[CH]24
C1CC2CCC1CC2 C1C2CC3CC1C3C2 C1C2C3C1C4C2C34 c1cc2ccc3cccc4c5cccc6ccc(c1)c2c6c5c34
c1cc2ccc3ccc4ccc5cccc6c(c1)c2c3c4c56 c1cc2c3c(c1)C(=O)c1cccc4cccc(c14)C3=CC=C2
C1=C[C@@]23[C@@H]4C[C@@H]([C@H]5C[C@]67CCCC[C@@H]6[C@H]6O[C@@]2(OC7)O[C@@H]56)[C@@H](C4)O[C@H]3O1
C1O[C@@]23O[C@H]4[C@H](C[C@@H]1C[C@H]4O2)[C@@H]1C[C@@H]2C[C@H]1OC[C@@H]23
"""

# Valid SMILES that exercise error-prone corners of the parser (each also checked by RDKit).
CORNERS = """
C(C)(C)(C)C C((C))C C(C(C(C)))C C(=O)(O)O C(\\F)=C/F C.C C.C.C [Na+].[O-]C(=O)C C1.C1 C1.C.C1
c1cc2ccccc2cc1.c1ccccc1 OC(=O)C(F)(F)F.CN CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC
N%11CCCC%11 C%(123)CC%(123) C1CCCCC%11.C1 C1=CC=CC=C1C1=CC=CC=C1 C=1C=CC=CC1
C(C.C)C C(C)1CC1 C1(C)CC1 C-1CC=1 C=1CC-1 C/1CC/1 [C@@H]1(F)CC1 C1CC1.C1CC1 c1cc(ccc1)-c1ccccc1
[nH]1c(=O)ccc1 C->[Fe] [Fe]<-C [NH3]->[Pt]<-[NH3] C1CC2CC1C2 [O-][N+]#N [N-]=[N+]=O C[N+]([O-])=O
[H][Pt@SP1](Cl)(Cl)C [H][C@AL1](F)=C=CF [H][Pt@OH1](F)(F)(F)(F)F [H][As@TB1](F)(F)(F)F OI(=O)O
C:C CC(:O)C [CH]:CC C[C@H]C [C@H](F)(Cl)I F[C@@H](Cl)I C[C@@]1(F)CCO1 [C@@](F)1(Cl)CCO1
"""

# SMILES RDKit rejects (syntax, elements, rings, branches, valence, kekulization).
INVALID = """
C1CC CC(C CC)C C(C)C) C11 C1C1 C12CC12 c1cccc1 c1ccccc1c Cc1ccccc1n c1cccc[nH]1 c1ccncc1c
N(C)(C)(C)C C(C)(C)(C)(C)C [NH4] O(C)(C)C [OH3] F(C)C Cl(C)C [CH5] [C+5] C=C=C=C=C=C(=C)=C [Xx]
[Zz] [Ch] Xe [c] [C [C]] C] () C() (C) C(()C) =C C= C== C#=C .C C. C..C C.=C C=.C C(.C)C
[H+2] [O+8] 1CC C%1C %C C%CC C1CC1% [C@@@H](F)(Cl)Br [13] [:1] C:1 C$$C C(=C)(=C)(=C)=C
c1cc2cc1cc2 b1cccc1 C1=CC=CC=C1=C c1ccc2c(c1)cccc2c1 [nH]1ccccc1 n1ccccc1=O c1cc[n]cc1=O
C&C C^C C?C C{} ABC CC1CCC1CCC1 [C@TH3](F)(Cl)(Br)I
"""


def words(block):
    return [w for w in block.split() if w]


def extra_file(path):
    rows = []
    with open(path) as f:
        for line in f:
            cols = line.split()
            if not cols or cols[0].upper() in ("SMILES", "NAME"):
                continue
            tok = cols[0]
            if len(cols) > 1 and (tok.startswith(("CHEMBL", "ZINC", "CID")) or "_" in tok):
                tok = cols[1]
            rows.append(tok)
    return (f"{os.path.basename(path)} (local stress test)", rows)


def random_orderings(smiles_list, n, seed):
    """Random atom orderings of each valid molecule, written aromatic and Kekule."""
    out = []
    with rdBase.BlockLogs():
        for k, s in enumerate(smiles_list):
            mol = Chem.MolFromSmiles(s)
            if mol is None or mol.GetNumAtoms() == 0:
                continue
            out += Chem.MolToRandomSmilesVect(mol, n, randomSeed=seed + k)
            out += Chem.MolToRandomSmilesVect(mol, n, randomSeed=seed + k, kekuleSmiles=True)
    return out


ALPHABET = list("CNOSPFIBcnosp()[]=#-+:/\\.@%0123456789H") + ["Cl", "Br", "[nH]", "[O-]",
                                                                  "[N+]", "[C@@H]", "[2H]"]


def mutations(smiles_list, n, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        s = rng.choice(smiles_list)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(s) + 1)
            op = rng.randrange(3)
            if op == 0:
                s = s[:i] + rng.choice(ALPHABET) + s[i:]
            elif op == 1 and s:
                s = s[:i] + s[i + 1:]
            else:
                s = s[:i] + rng.choice(ALPHABET) + s[i + 1:]
        if s.strip() and "\t" not in s:
            out.append(s.strip())
    return out


def sample_files(every, limit_chembl):
    """(source, SMILES list) pairs from RDKit's bundled data files."""
    out = []
    nci = os.path.join(RDConfig.RDDataDir, "NCI", "first_5K.smi")
    with open(nci) as f:
        rows = [line.split()[0] for line in f if line.strip()]
    out.append((f"rdkit/Data/NCI/first_5K.smi (NCI, Kekule form), every {every}th line"
                if every > 1 else "rdkit/Data/NCI/first_5K.smi (NCI, Kekule form)", rows[::every]))
    contrib = RDConfig.RDContribDir
    for rel, col in (("fraggle/data/ChEMBL_11265_actives.smi", 0),
                     ("Fastcluster/cdk2.smi", 1),
                     ("FreeWilson/data/CHEMBL2321810.smi", 0)):
        path = os.path.join(contrib, rel)
        with open(path) as f:
            rows = [line.split()[col] for line in f if line.strip() and len(line.split()) > col]
        label = f"rdkit/Contrib/{rel} (aromatic form)"
        if rel.startswith("FreeWilson") and limit_chembl > 1:
            rows = rows[::limit_chembl]
            label += f", every {limit_chembl}th line"
        out.append((label, rows))
    return out


# ---- RDKit and biotite --------------------------------------------------------------------

class Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def rdkit_error(capture):
    """The first line of RDKit's first error message, without its timestamp prefix."""
    for m in capture.messages:
        m = m.strip()
        if not m:
            continue
        line = m.splitlines()[0]
        return line.split("] ", 1)[1] if line.startswith("[") and "] " in line else line
    return "rejected"


def atom_token(a, written, charge):
    return "%s:%d:%d:%d%d" % (a.GetSymbol().upper(), charge, a.GetTotalNumHs(),
                              int(written), int(a.GetIsAromatic()))


RDKIT_TO_BIOTITE = {Chem.BondType.SINGLE: 1, Chem.BondType.DOUBLE: 2, Chem.BondType.TRIPLE: 3,
                    Chem.BondType.QUADRUPLE: 4, Chem.BondType.DATIVE: 8}


def biotite_types(mol):
    """The BondType from_mol gives each bond (checked against from_mol where it runs):
    aromatic bonds are kekulized with Chem.Kekulize and become AROMATIC_SINGLE/_DOUBLE."""
    aromatic = [b.GetBondType() == Chem.BondType.AROMATIC for b in mol.GetBonds()]
    if any(aromatic):
        mol = Chem.Mol(mol)
        try:
            Chem.Kekulize(mol)
        except Chem.KekulizeException:
            pass        # biotite warns and keeps what the failed Kekulize left
    types = []
    for b, arom in zip(mol.GetBonds(), aromatic):
        t = RDKIT_TO_BIOTITE.get(b.GetBondType(), 0)
        types.append({1: 5, 2: 6, 3: 7}.get(t, 9) if arom else t)
    return types


def case(smiles, capture):
    capture.messages.clear()
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return ("ERR", smiles, rdkit_error(capture))
    params = Chem.SmilesParserParams()
    params.sanitize = False
    raw = Chem.MolFromSmiles(smiles, params)          # same H removal, aromaticity as written
    assert raw.GetNumAtoms() == mol.GetNumAtoms(), smiles
    if any(a.GetAtomicNum() == 1 for a in mol.GetAtoms()):
        # OpenFold3's RemoveAllHs would drop these atoms (and then fail, spec/data.md §2.7):
        # record the MolFromSmiles graph itself.
        final = mol
    else:
        try:        # OpenFold3's safe_remove_all_hs
            final = Chem.RemoveAllHs(Chem.AddHs(mol))
        except Exception:
            final = Chem.RemoveAllHs(Chem.AddHs(mol), sanitize=False)
    assert final.GetNumAtoms() == mol.GetNumAtoms(), smiles
    atoms = " ".join(atom_token(a, raw.GetAtomWithIdx(a.GetIdx()).GetIsAromatic(),
                                final.GetAtomWithIdx(a.GetIdx()).GetFormalCharge())
                     for a in mol.GetAtoms())
    types = biotite_types(final)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            table = from_mol(final, add_hydrogen=False).bonds.as_array()
        except IndexError:
            table = None        # biotite fails on an H atom without neighbours ([H+])
    bonds = []
    for k, b in enumerate(final.GetBonds()):
        i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
        if table is not None:
            row = table[k]
            assert sorted((i, j)) == sorted((int(row[0]), int(row[1]))), smiles
            assert types[k] == int(row[2]), smiles
        bonds.append("%d-%d:%d" % (i, j, types[k]))
    return ("OK", smiles, atoms, " ".join(bonds) if bonds else "-")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", default="tests/fixtures/smiles/cases.tsv")
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--random", type=int, default=None)
    ap.add_argument("--extra", action="append", default=[])
    ap.add_argument("--mutate", type=int, default=0)
    ap.add_argument("--seed", type=int, default=5, help="seed of --mutate")
    args = ap.parse_args()

    rdBase.LogToPythonLogger()
    capture = Capture()
    logger = logging.getLogger("rdkit")
    logger.addHandler(capture)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)

    groups = [("examples (examples/query_protein_ligand*.json)", EXAMPLES),
              ("constructs (hand written)", words(CONSTRUCTS)),
              ("corners (hand written)", words(CORNERS)),
              ("hard ring systems (hand written)", words(HARD)),
              ("invalid (hand written)", words(INVALID))]
    samples = sample_files(1 if args.all else 12, 1 if args.all else 6)
    groups += samples
    groups += [extra_file(p) for p in args.extra]
    # Random orderings: every sample molecule with --random, else one ordering of every
    # 4th (aromatic and Kekule form), seeded so the file is reproducible.
    pool = [s for _, rows in groups[5:] for s in rows]
    n_random = args.random if args.random is not None else 1
    pool = pool if args.random is not None else pool[::4]
    groups.append((f"random orderings (MolToRandomSmilesVect, {n_random} per molecule and form, "
                   "seed 42)", random_orderings(pool, n_random, 42)))
    if args.mutate:
        groups.append((f"mutations ({args.mutate}, seed {args.seed})",
                       mutations(pool, args.mutate, args.seed)))
    groups.append(("random orderings of the hard ring systems (4 per molecule and form, seed 7)",
                   random_orderings(words(HARD) + words(CONSTRUCTS)[::3], 4, 7)))

    seen = set()
    lines = ["# SMILES parses as OpenFold3 sees them: Chem.MolFromSmiles, AddHs/RemoveAllHs, "
             "biotite from_mol (spec/data.md §2.7).",
             f"# Made by tools/smiles/make_cases.py with rdkit {rdkit.__version__}, "
             f"biotite {biotite.__version__}. Do not edit by hand.",
             "# OK <smiles> <atoms EL:charge:nH:WP> <bonds begin-end:biotite BondType>; "
             "ERR <smiles> <RDKit's message>"]
    n_ok = n_err = 0
    for source, smiles_list in groups:
        lines.append(f"# source: {source}")
        for s in smiles_list:
            if s in seen:
                continue
            seen.add(s)
            row = case(s, capture)
            n_ok += row[0] == "OK"
            n_err += row[0] == "ERR"
            lines.append("\t".join(row))
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{args.out}: {n_ok} valid, {n_err} invalid SMILES", file=sys.stderr)


if __name__ == "__main__":
    main()
