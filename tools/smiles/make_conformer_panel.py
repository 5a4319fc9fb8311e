#!/usr/bin/env python3
"""Expected data for tests/test_featurize_conformer.c (issue #6): RDKit's view of a panel of
SMILES ligands, written to tests/fixtures/conformer/panel.tsv and the query file
tests/fixtures/conformer/panel.json that the test feeds to of3-parse.

For each SMILES: RDKit's heavy-atom graph (elements, hydrogen counts, bonds, canonical SMILES),
and its MMFF94-optimised conformer (AddHs, ETKDG with a fixed seed, MMFFOptimizeMolecule):
heavy-atom bond lengths and angles, the sign of each specified stereocentre's volume
(neighbours by index, hydrogens last: the convention of of3-parse's atom_chirality), the cis or
trans geometry of each stereo double bond, and the aromatic rings. Molecules with a metal bonded
to anything are written as expected refusals.

Usage: python3 tools/smiles/make_conformer_panel.py [OUT_DIR]   (needs rdkit)
       python3 tools/smiles/make_conformer_panel.py --etkdg-rates
           scores RDKit's own ETKDGv3 conformers (no MMFF, what OpenFold3 uses) against the
           panel's MMFF bond lengths and angles with the C test's tolerances
"""
import json
import math
import sys

from rdkit import Chem
from rdkit.Chem import AllChem

PANEL = [
    # approved drugs
    ("aspirin", "CC(=O)Oc1ccccc1C(=O)O"),
    ("paracetamol", "CC(=O)Nc1ccc(O)cc1"),
    ("ibuprofen", "CC(C)Cc1ccc(cc1)[C@@H](C)C(=O)O"),
    ("naproxen", "C[C@H](C(=O)O)c1ccc2cc(OC)ccc2c1"),
    ("caffeine", "Cn1cnc2c1c(=O)n(C)c(=O)n2C"),
    ("nicotine", "CN1CCC[C@H]1c1cccnc1"),
    ("diazepam", "CN1C(=O)CN=C(c2ccccc2)c2cc(Cl)ccc21"),
    ("metformin", "CN(C)C(=N)NC(=N)N"),
    ("atenolol", "CC(C)NC[C@@H](O)COc1ccc(CC(N)=O)cc1"),
    ("propranolol", "CC(C)NC[C@H](O)COc1cccc2ccccc12"),
    ("salbutamol", "CC(C)(C)NC[C@H](O)c1ccc(O)c(CO)c1"),
    ("omeprazole", "COc1ccc2[nH]c([S@@](=O)Cc3ncc(C)c(OC)c3C)nc2c1"),
    ("fluoxetine", "CNCC[C@@H](Oc1ccc(cc1)C(F)(F)F)c1ccccc1"),
    ("sertraline", "CN[C@H]1CC[C@@H](c2ccc(Cl)c(Cl)c2)c2ccccc21"),
    ("imatinib", "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1"),
    ("gefitinib", "COc1cc2ncnc(Nc3ccc(F)c(Cl)c3)c2cc1OCCCN1CCOCC1"),
    ("erlotinib", "COCCOc1cc2ncnc(Nc3cccc(C#C)c3)c2cc1OCCOC"),
    ("sildenafil", "CCCc1nn(C)c2c(=O)[nH]c(-c3cc(ccc3OCC)S(=O)(=O)N3CCN(C)CC3)nc12"),
    ("atorvastatin", "CC(C)c1c(C(=O)Nc2ccccc2)c(-c2ccccc2)c(-c2ccc(F)cc2)n1CC[C@@H](O)C[C@@H](O)CC(=O)O"),
    ("simvastatin", "CCC(C)(C)C(=O)O[C@H]1C[C@@H](C)C=C2C=C[C@H](C)[C@H](CC[C@@H]3C[C@@H](O)CC(=O)O3)[C@@H]21"),
    ("lisinopril", "NCCCC[C@H](N[C@@H](CCc1ccccc1)C(=O)O)C(=O)N1CCC[C@H]1C(=O)O"),
    ("captopril", "C[C@H](CS)C(=O)N1CCC[C@H]1C(=O)O"),
    ("enalapril", "CCOC(=O)[C@H](CCc1ccccc1)N[C@@H](C)C(=O)N1CCC[C@H]1C(=O)O"),
    ("losartan", "CCCCc1nc(Cl)c(CO)n1Cc1ccc(-c2ccccc2-c2nn[nH]n2)cc1"),
    ("amlodipine", "CCOC(=O)C1=C(COCCN)NC(C)=C(C(=O)OC)C1c1ccccc1Cl"),
    ("warfarin", "CC(=O)C[C@@H](c1ccccc1)c1c(O)c2ccccc2oc1=O"),
    ("clopidogrel", "COC(=O)[C@H](c1ccccc1Cl)N1CCc2sccc2C1"),
    ("metoprolol", "COCCc1ccc(OC[C@@H](O)CNC(C)C)cc1"),
    ("ciprofloxacin", "OC(=O)c1cn(C2CC2)c2cc(N3CCNCC3)c(F)cc2c1=O"),
    ("amoxicillin", "CC1(C)S[C@@H]2[C@H](NC(=O)[C@H](N)c3ccc(O)cc3)C(=O)N2[C@H]1C(=O)O"),
    ("penicillin_g", "CC1(C)S[C@@H]2[C@H](NC(=O)Cc3ccccc3)C(=O)N2[C@H]1C(=O)O"),
    ("cefalexin", "CC1=C(N2[C@@H]([C@@H](C2=O)NC(=O)[C@@H](c2ccccc2)N)SC1)C(=O)O"),
    ("chloramphenicol", "OC[C@@H](NC(=O)C(Cl)Cl)[C@H](O)c1ccc(cc1)[N+](=O)[O-]"),
    ("metronidazole", "Cc1ncc([N+](=O)[O-])n1CCO"),
    ("isoniazid", "NNC(=O)c1ccncc1"),
    ("sulfamethoxazole", "Cc1cc(NS(=O)(=O)c2ccc(N)cc2)no1"),
    ("trimethoprim", "COc1cc(Cc2cnc(N)nc2N)cc(OC)c1OC"),
    ("fluconazole", "OC(Cn1cncn1)(Cn1cncn1)c1ccc(F)cc1F"),
    ("acyclovir", "NC1=NC(=O)c2ncn(COCCO)c2N1"),
    ("zidovudine", "Cc1cn([C@H]2C[C@H](N=[N+]=[N-])[C@@H](CO)O2)c(=O)[nH]c1=O"),
    ("oseltamivir", "CCOC(=O)C1=C[C@@H](OC(CC)CC)[C@H](NC(C)=O)[C@@H](N)C1"),
    ("morphine", "CN1CC[C@]23c4c5ccc(O)c4O[C@H]2[C@@H](O)C=C[C@H]3[C@H]1C5"),
    ("codeine", "COc1ccc2C[C@H]3N(C)CC[C@@]45[C@@H](Oc1c24)[C@@H](O)C=C[C@@H]35"),
    ("haloperidol", "OC1(CCN(CCCC(=O)c2ccc(F)cc2)CC1)c1ccc(Cl)cc1"),
    ("chlorpromazine", "CN(C)CCCN1c2ccccc2Sc2ccc(Cl)cc21"),
    ("olanzapine", "Cc1cc2c(s1)Nc1ccccc1N=C2N1CCN(C)CC1"),
    ("risperidone", "Cc1nc2n(c(=O)c1CCN1CCC(CC1)c1noc3cc(F)ccc13)CCCC2"),
    ("citalopram", "CN(C)CCCC1(OCc2cc(C#N)ccc21)c1ccc(F)cc1"),
    ("venlafaxine", "COc1ccc(cc1)C(CN(C)C)C1(O)CCCCC1"),
    ("gabapentin", "NCC1(CC(=O)O)CCCCC1"),
    ("levetiracetam", "CC[C@H](N1CCCC1=O)C(N)=O"),
    ("carbamazepine", "NC(=O)N1c2ccccc2C=Cc2ccccc21"),
    ("phenytoin", "O=C1NC(=O)C(N1)(c1ccccc1)c1ccccc1"),
    ("lidocaine", "CCN(CC)CC(=O)Nc1c(C)cccc1C"),
    ("furosemide", "NS(=O)(=O)c1cc(C(=O)O)c(NCc2ccco2)cc1Cl"),
    ("hydrochlorothiazide", "NS(=O)(=O)c1cc2c(cc1Cl)NCNS2(=O)=O"),
    ("spironolactone", "CC(=O)S[C@@H]1CC2=CC(=O)CC[C@]2(C)[C@H]2CC[C@@]3(C)[C@@H](CC[C@@]34CCC(=O)O4)[C@@H]12"),
    ("prednisolone", "C[C@]12C[C@H](O)[C@H]3[C@@H](CCC4=CC(=O)C=C[C@@]43C)[C@@H]1CC[C@]2(O)C(=O)CO"),
    ("testosterone", "C[C@]12CC[C@H]3[C@@H](CCC4=CC(=O)CC[C@@]43C)[C@@H]1CC[C@@H]2O"),
    ("estradiol", "C[C@]12CC[C@@H]3c4ccc(O)cc4CC[C@H]3[C@@H]1CC[C@@H]2O"),
    ("cholesterol", "CC(C)CCC[C@@H](C)[C@H]1CC[C@H]2[C@@H]3CC=C4C[C@@H](O)CC[C@]4(C)[C@H]3CC[C@]12C"),
    ("tamoxifen", "CC/C(=C(\\c1ccccc1)c1ccc(OCCN(C)C)cc1)c1ccccc1"),
    ("methotrexate", "CN(Cc1cnc2nc(N)nc(N)c2n1)c1ccc(cc1)C(=O)N[C@@H](CCC(=O)O)C(=O)O"),
    ("5-fluorouracil", "O=c1[nH]cc(F)c(=O)[nH]1"),
    ("cytarabine", "Nc1ccn([C@@H]2O[C@H](CO)[C@@H](O)[C@@H]2O)c(=O)n1"),
    ("celecoxib", "Cc1ccc(cc1)-c1cc(nn1-c1ccc(cc1)S(N)(=O)=O)C(F)(F)F"),
    ("diclofenac", "OC(=O)Cc1ccccc1Nc1c(Cl)cccc1Cl"),
    ("indomethacin", "COc1ccc2n(C(=O)c3ccc(Cl)cc3)c(C)c(CC(=O)O)c2c1"),
    ("ketoconazole_core", "CC(=O)N1CCN(CC1)c1ccc(OC)cc1"),
    ("loratadine", "CCOC(=O)N1CCC(=C2c3ccc(Cl)cc3CCc3cccnc32)CC1"),
    ("cetirizine", "OC(=O)COCCN1CCN(CC1)C(c1ccccc1)c1ccc(Cl)cc1"),
    ("ranitidine", "CNC(/C=[N+](\\[O-])O)=N\\CCSCc1ccc(CN(C)C)o1"),
    ("famotidine", "NC(N)=Nc1nc(CSCC/C(N)=N/S(N)(=O)=O)cs1"),
    ("montelukast_frag", "OC(=O)CC1(CC1)CS[C@H](CCc1ccccc1C(C)(C)O)c1cccc(/C=C/c2ccc3ccc(Cl)cc3n2)c1"),
    ("sitagliptin", "N[C@@H](CC(=O)N1CCn2c(C1)nnc2C(F)(F)F)Cc1cc(F)c(F)cc1F"),
    ("dopamine", "NCCc1ccc(O)c(O)c1"),
    ("serotonin", "NCCc1c[nH]c2ccc(O)cc12"),
    ("adrenaline", "CNC[C@H](O)c1ccc(O)c(O)c1"),
    ("histamine", "NCCc1cnc[nH]1"),
    ("melatonin", "CC(=O)NCCc1c[nH]c2ccc(OC)cc12"),
    ("thalidomide", "O=C1CCC(N2C(=O)c3ccccc3C2=O)C(=O)N1"),
    ("nitroglycerin", "O=[N+]([O-])OCC(CO[N+](=O)[O-])O[N+](=O)[O-]"),
    ("quinine", "COc1ccc2nccc([C@@H](O)[C@@H]3C[C@@H]4CCN3C[C@@H]4C=C)c2c1"),
    ("artemisinin", "C[C@@H]1CC[C@H]2[C@@H](C)C(=O)O[C@@H]3O[C@@]4(C)CC[C@@H]1[C@]32OO4"),
    ("efavirenz", "O=C1Nc2ccc(Cl)cc2[C@@](C#CC2CC2)(O1)C(F)(F)F"),
    ("tenofovir", "C[C@H](Cn1cnc2c(N)ncnc21)OCP(=O)(O)O"),
    ("vorinostat", "ONC(=O)CCCCCCC(=O)Nc1ccccc1"),
    ("pregabalin", "CC(C)C[C@H](CN)CC(=O)O"),
    ("baclofen", "NC[C@H](CC(=O)O)c1ccc(Cl)cc1"),
    ("bupropion", "CC(NC(C)(C)C)C(=O)c1cccc(Cl)c1"),
    ("memantine", "CC12CC3CC(C)(C1)CC(N)(C3)C2"),
    ("amantadine", "NC12CC3CC(CC(C3)C1)C2"),
    ("rivaroxaban", "O=C(NC[C@H]1CN(C(=O)O1)c1ccc(cc1)N1CCOCC1=O)c1ccc(Cl)s1"),
    ("apixaban", "COc1ccc(cc1)-n1nc(C(N)=O)c2CCN(C(=O)c21)c1ccc(cc1)N1CCCCC1=O"),
    ("dexamethasone", "C[C@@H]1C[C@H]2[C@@H]3CCC4=CC(=O)C=C[C@]4(C)[C@@]3(F)[C@@H](O)C[C@]2(C)[C@@]1(O)C(=O)CO"),
    ("ritonavir", "CC(C)[C@H](NC(=O)N(C)Cc1csc(n1)C(C)C)C(=O)N[C@@H](C[C@H](O)[C@H](Cc1ccccc1)NC(=O)OCc1cncs1)Cc1ccccc1"),
    ("daclatasvir", "COC(=O)N[C@@H](C(C)C)C(=O)N1CCC[C@H]1c1ncc([nH]1)-c1ccc(cc1)-c1ccc(cc1)-c1cnc([nH]1)[C@@H]1CCCN1C(=O)[C@@H](NC(=O)OC)C(C)C"),
    ("venetoclax", "CC1(C)CCC(=C(C1)c1ccc(Cl)cc1)CN1CCN(CC1)c1ccc(C(=O)NS(=O)(=O)c2ccc(NCC3CCOCC3)c([N+](=O)[O-])c2)c(Oc2cnc3[nH]ccc3c2)c1"),
    # cofactors and metabolites
    ("atp", "Nc1ncnc2c1ncn2[C@@H]1O[C@H](COP(=O)(O)OP(=O)(O)OP(=O)(O)O)[C@@H](O)[C@H]1O"),
    ("nad_frag", "NC(=O)c1ccc[n+](c1)[C@@H]1O[C@H](CO)[C@@H](O)[C@H]1O"),
    ("fad_frag", "Cc1cc2nc3c(=O)[nH]c(=O)nc-3n(C[C@H](O)[C@H](O)[C@H](O)CO)c2cc1C"),
    ("sam", "C[S+](CC[C@H](N)C(=O)[O-])C[C@H]1O[C@@H](n2cnc3c(N)ncnc32)[C@H](O)[C@@H]1O"),
    ("coa_frag", "CC(C)(COP(=O)(O)O)[C@@H](O)C(=O)NCCC(=O)NCCS"),
    ("thiamine", "Cc1ncc(C[n+]2csc(CCO)c2C)c(N)n1"),
    ("pyridoxal_phosphate", "Cc1ncc(COP(=O)(O)O)c(C=O)c1O"),
    ("biotin", "OC(=O)CCCC[C@@H]1SC[C@@H]2NC(=O)N[C@H]12"),
    ("folate", "Nc1nc2ncc(CNc3ccc(cc3)C(=O)N[C@@H](CCC(=O)O)C(=O)O)nc2c(=O)[nH]1"),
    ("heme_free_porphine", "c1cc2cc3ccc(cc4ccc(cc5ccc(cc1n2)[nH]5)n4)[nH]3"),
    ("riboflavin", "Cc1cc2nc3c(=O)[nH]c(=O)nc-3n(C[C@H](O)[C@H](O)[C@H](O)CO)c2cc1C"),
    ("ascorbic_acid", "OC[C@H](O)[C@H]1OC(=O)C(O)=C1O"),
    ("glutathione", "N[C@@H](CCC(=O)N[C@@H](CS)C(=O)NCC(=O)O)C(=O)O"),
    ("retinal", "CC1=C(C(C)(C)CCC1)/C=C/C(C)=C/C=C/C(C)=C/C=O"),
    ("ubiquinone_head", "COC1=C(OC)C(=O)C(C)=C(C/C=C(\\C)CCC=C(C)C)C1=O"),
    ("camp", "Nc1ncnc2c1ncn2[C@@H]1O[C@@H]2COP(=O)(O)O[C@H]2[C@H]1O"),
    ("citrate", "OC(=O)CC(O)(CC(=O)O)C(=O)O"),
    ("pyruvate", "CC(=O)C(=O)[O-]"),
    ("phosphoenolpyruvate", "C=C(OP(=O)(O)O)C(=O)O"),
    ("acetyl_phosphate", "CC(=O)OP(=O)([O-])[O-]"),
    # sugars
    ("glucose_beta", "OC[C@H]1O[C@@H](O)[C@H](O)[C@@H](O)[C@@H]1O"),
    ("glucose_alpha", "OC[C@H]1O[C@H](O)[C@H](O)[C@@H](O)[C@@H]1O"),
    ("galactose", "OC[C@H]1O[C@@H](O)[C@H](O)[C@@H](O)[C@H]1O"),
    ("mannose", "OC[C@H]1O[C@@H](O)[C@@H](O)[C@@H](O)[C@@H]1O"),
    ("fructose_furanose", "OC[C@H]1O[C@@](O)(CO)[C@@H](O)[C@@H]1O"),
    ("ribose", "OC[C@H]1O[C@@H](O)[C@H](O)[C@@H]1O"),
    ("deoxyribose", "OC[C@H]1O[C@@H](O)C[C@@H]1O"),
    ("sucrose", "OC[C@H]1O[C@@](CO)(O[C@H]2O[C@H](CO)[C@@H](O)[C@H](O)[C@H]2O)[C@@H](O)[C@@H]1O"),
    ("lactose", "OC[C@H]1O[C@@H](O[C@H]2[C@H](O)[C@@H](O)[C@H](O)O[C@@H]2CO)[C@H](O)[C@@H](O)[C@H]1O"),
    ("nag", "CC(=O)N[C@H]1[C@@H](O)O[C@H](CO)[C@@H](O)[C@@H]1O"),
    ("sialic_acid", "CC(=O)N[C@@H]1[C@@H](O)C[C@@](O)(C(=O)O)O[C@H]1[C@H](O)[C@H](O)CO"),
    ("glucose_6_phosphate", "OP(=O)(O)OC[C@H]1O[C@@H](O)[C@H](O)[C@@H](O)[C@@H]1O"),
    # charged and zwitterionic
    ("glycine_zwitterion", "[NH3+]CC(=O)[O-]"),
    ("alanine_zwitterion", "C[C@H]([NH3+])C(=O)[O-]"),
    ("lysine_charged", "[NH3+]CCCC[C@H]([NH3+])C(=O)[O-]"),
    ("arginine_charged", "NC(=[NH2+])NCCC[C@H]([NH3+])C(=O)[O-]"),
    ("aspartate", "[NH3+][C@@H](CC(=O)[O-])C(=O)[O-]"),
    ("tryptophan", "N[C@@H](Cc1c[nH]c2ccccc12)C(=O)O"),
    ("tyrosine", "N[C@@H](Cc1ccc(O)cc1)C(=O)O"),
    ("histidine_charged", "[NH3+][C@@H](Cc1c[nH]c[nH+]1)C(=O)[O-]"),
    ("choline", "C[N+](C)(C)CCO"),
    ("acetylcholine", "CC(=O)OCC[N+](C)(C)C"),
    ("betaine", "C[N+](C)(C)CC(=O)[O-]"),
    ("taurine", "NCCS(=O)(=O)O"),
    ("sulfate_ester", "COS(=O)(=O)[O-]"),
    ("phosphocholine", "C[N+](C)(C)CCOP(=O)([O-])O"),
    ("guanidinium", "NC(N)=[NH2+]"),
    ("benzoate", "[O-]C(=O)c1ccccc1"),
    ("pyridinium", "C[n+]1ccccc1"),
    ("nitrobenzene", "[O-][N+](=O)c1ccccc1"),
    # macrocycles
    ("cyclododecane", "C1CCCCCCCCCCC1"),
    ("18-crown-6", "C1COCCOCCOCCOCCOCCO1"),
    ("cyclosporin_ring_frag", "CC[C@H]1NC(=O)CN(C)C(=O)[C@H](CC(C)C)N(C)C(=O)[C@@H](C(C)C)NC(=O)[C@H](C)N(C)C1=O"),
    ("macrolactone14", "C[C@@H]1CCCC(=O)O[C@H](C)CCCCCC1"),
    ("cyclic_hexapeptide", "O=C1CNC(=O)CNC(=O)CNC(=O)CNC(=O)CNC(=O)CN1"),
    ("cyclohexadecane", "C1CCCCCCCCCCCCCCC1"),
    ("cycloheptane", "C1CCCCCC1"),
    ("cyclooctene_z", "C1CCC/C=C\\CC1"),
    # fused aromatics and heterocycles
    ("naphthalene", "c1ccc2ccccc2c1"),
    ("anthracene", "c1ccc2cc3ccccc3cc2c1"),
    ("phenanthrene", "c1ccc2c(c1)ccc1ccccc12"),
    ("pyrene", "c1cc2ccc3cccc4ccc(c1)c2c34"),
    ("indole", "c1ccc2[nH]ccc2c1"),
    ("quinoline", "c1ccc2ncccc2c1"),
    ("purine", "c1ncc2[nH]cnc2n1"),
    ("carbazole", "c1ccc2c(c1)[nH]c1ccccc12"),
    ("acridine", "c1ccc2nc3ccccc3cc2c1"),
    ("benzothiophene", "c1ccc2sccc2c1"),
    ("benzofuran", "c1ccc2occc2c1"),
    ("azulene", "c1ccc2cccc2cc1"),
    ("biphenyl", "c1ccc(cc1)-c1ccccc1"),
    ("thiophene", "c1ccsc1"),
    ("furan", "c1ccoc1"),
    ("imidazole", "c1c[nH]cn1"),
    ("tetrazole", "c1nn[nH]n1"),
    ("triazine", "c1ncncn1"),
    ("oxazole", "c1cocn1"),
    ("thiazole", "c1cscn1"),
    ("pyrazole", "c1cc[nH]n1"),
    # small, strained and stereo double bonds
    ("cyclopropane_acid", "OC(=O)C1CC1"),
    ("cyclobutanol", "OC1CCC1"),
    ("epoxide", "C[C@@H]1O[C@@H]1C"),
    ("aziridine", "C1CN1"),
    ("trans_2_butene", "C/C=C/C"),
    ("cis_2_butene", "C/C=C\\C"),
    ("stilbene_e", "c1ccc(cc1)/C=C/c1ccccc1"),
    ("stilbene_z", "c1ccc(cc1)/C=C\\c1ccccc1"),
    ("fumaric_acid", "OC(=O)/C=C/C(=O)O"),
    ("maleic_acid", "OC(=O)/C=C\\C(=O)O"),
    ("oleic_acid", "CCCCCCCC/C=C\\CCCCCCCC(=O)O"),
    ("oxime_e", "C/C(=N/O)c1ccccc1"),
    ("acetonitrile", "CC#N"),
    ("phenylacetylene", "C#Cc1ccccc1"),
    ("allene", "C=C=C"),
    ("dmso", "C[S](C)=O"),
    ("trifluoroacetate", "OC(=O)C(F)(F)F"),
    ("bromoiodobenzene", "Brc1ccc(I)cc1"),
    ("ethanol", "CCO"),
    ("methane", "C"),
    ("water", "O"),
    ("ammonium", "[NH4+]"),
    ("phenol", "Oc1ccccc1"),
    ("tetrahedral_n_chiral_quat", "C[N@+](CC)(CCC)CCCC"),
    ("chiral_neopentyl", "C[C@](F)(Cl)Br"),
    ("chiral_ring_closure", "F[C@@]1(Cl)CCCC[C@H]1O"),
    ("chiral_first_atom", "[C@@H](F)(Cl)Br"),
    # single-atom ions and salts
    ("sodium", "[Na+]"),
    ("chloride", "[Cl-]"),
    ("magnesium", "[Mg+2]"),
    ("zinc", "[Zn+2]"),
    ("calcium", "[Ca+2]"),
    ("iodide", "[I-]"),
    ("potassium", "[K+]"),
    ("sodium_acetate", "CC(=O)[O-].[Na+]"),
    # metals bonded: refused
    ("cisplatin", "N.N.Cl[Pt]Cl"),
    ("ferrocene_sigma", "[Fe](C)(C)"),
    ("zinc_acetate_bonded", "CC(=O)O[Zn]OC(C)=O"),
    ("tetracarbonylnickel", "O=C=[Ni](=C=O)(=C=O)=C=O"),
]

METALS = {3, 4, 11, 12, 13} | set(range(19, 33)) | set(range(37, 52)) | set(range(55, 85)) | set(range(87, 119))


def bonded_metal(mol):
    return any(a.GetAtomicNum() in METALS and a.GetDegree() > 0 for a in mol.GetAtoms())


def volume(conf, c, n):
    p = [conf.GetAtomPosition(i) for i in (c, *n)]
    a, b, d = (p[1] - p[0]), (p[2] - p[0]), (p[3] - p[0])
    return a.DotProduct(b.CrossProduct(d))


def row(name, smi):
    mol = Chem.MolFromSmiles(smi)
    if mol is None:
        raise SystemExit(f"{name}: RDKit cannot read {smi}")
    elements = ",".join(a.GetSymbol().upper() for a in mol.GetAtoms())
    hs = ",".join(str(a.GetTotalNumHs()) for a in mol.GetAtoms())
    bonds = ";".join(f"{b.GetBeginAtomIdx()}-{b.GetEndAtomIdx()}" for b in mol.GetBonds())
    canon = Chem.MolToSmiles(mol)
    if bonded_metal(mol):
        return [name, smi, "refuse", elements, hs, bonds, canon, "", "", "", "", ""]
    mh = Chem.AddHs(mol)
    if mol.GetNumAtoms() > 1:
        ps = AllChem.ETKDGv3()
        ps.randomSeed = 42
        if AllChem.EmbedMolecule(mh, ps) != 0:
            raise SystemExit(f"{name}: RDKit cannot embed {smi}")
        if AllChem.MMFFHasAllMoleculeParams(mh):
            AllChem.MMFFOptimizeMolecule(mh, maxIters=5000)
        else:
            raise SystemExit(f"{name}: no MMFF parameters for {smi}")
        conf = mh.GetConformer()
    else:
        conf = None
    lens, angs, chir, dbl, rings = [], [], [], [], []
    if conf is not None:
        for b in mol.GetBonds():
            i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
            d = (conf.GetAtomPosition(i) - conf.GetAtomPosition(j)).Length()
            lens.append(f"{i}-{j}:{d:.3f}")
        for c in mol.GetAtoms():
            nb = sorted(x.GetIdx() for x in c.GetNeighbors())
            for k in range(len(nb)):
                for l in range(k + 1, len(nb)):
                    v1 = conf.GetAtomPosition(nb[k]) - conf.GetAtomPosition(c.GetIdx())
                    v2 = conf.GetAtomPosition(nb[l]) - conf.GetAtomPosition(c.GetIdx())
                    ang = math.degrees(v1.AngleTo(v2))
                    angs.append(f"{nb[k]}-{c.GetIdx()}-{nb[l]}:{ang:.1f}")
        for idx, _ in Chem.FindMolChiralCenters(mol, includeUnassigned=False, useLegacyImplementation=False):
            nb = sorted(x.GetIdx() for x in mh.GetAtomWithIdx(idx).GetNeighbors())[:3]
            chir.append(f"{idx}:{'+' if volume(conf, idx, nb) > 0 else '-'}")
        for b in mol.GetBonds():
            if b.GetStereo() in (Chem.BondStereo.STEREOE, Chem.BondStereo.STEREOZ,
                                 Chem.BondStereo.STEREOCIS, Chem.BondStereo.STEREOTRANS):
                s0, s1 = b.GetStereoAtoms()
                i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
                from rdkit.Chem import rdMolTransforms as T
                dih = T.GetDihedralDeg(conf, s0, i, j, s1)
                dbl.append(f"{s0}-{i}-{j}-{s1}:{'c' if abs(dih) < 90 else 't'}")
        for ring in mol.GetRingInfo().AtomRings():
            if all(mol.GetAtomWithIdx(i).GetIsAromatic() for i in ring):
                rings.append(",".join(map(str, ring)))
    return [name, smi, "embed", elements, hs, bonds, canon, ";".join(lens), ";".join(angs),
            ";".join(chir), ";".join(dbl), ";".join(rings)]


def etkdg_rates(path="tests/fixtures/conformer/panel.tsv"):
    rows = [l.rstrip("\n").split("\t") for l in open(path) if not l.startswith("#")]
    nb = nbo = na = nao = mb = ma = n = 0
    for r in rows:
        if r[2] != "embed" or not r[7]:
            continue
        m = Chem.AddHs(Chem.MolFromSmiles(r[1]))
        ps = AllChem.ETKDGv3()
        ps.randomSeed = 7
        if AllChem.EmbedMolecule(m, ps) != 0:
            continue
        c = m.GetConformer()
        n += 1
        okb = oka = True
        for t in r[7].split(";"):
            ab, d = t.split(":")
            a, b = map(int, ab.split("-"))
            e = abs((c.GetAtomPosition(a) - c.GetAtomPosition(b)).Length() - float(d))
            nb += 1
            nbo += e <= 0.05
            okb &= e <= 0.05
        for t in r[8].split(";"):
            abc, d = t.split(":")
            a, cc, b = map(int, abc.split("-"))
            v1 = c.GetAtomPosition(a) - c.GetAtomPosition(cc)
            v2 = c.GetAtomPosition(b) - c.GetAtomPosition(cc)
            e = abs(math.degrees(v1.AngleTo(v2)) - float(d))
            na += 1
            nao += e <= 5
            oka &= e <= 5
        mb += okb
        ma += oka
    print(f"ETKDGv3 (no MMFF) vs MMFF: bonds within 0.05 A {nbo}/{nb} ({100 * nbo / nb:.1f}%), "
          f"molecules {mb}/{n}; angles within 5 deg {nao}/{na} ({100 * nao / na:.1f}%), "
          f"molecules {ma}/{n}")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--etkdg-rates":
        etkdg_rates()
        return
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/conformer"
    rows = [row(n, s) for n, s in PANEL]
    with open(f"{out}/panel.tsv", "w") as f:
        f.write("# made by tools/smiles/make_conformer_panel.py with RDKit "
                f"{Chem.rdBase.rdkitVersion}: name, smiles, embed|refuse, elements, hydrogens, "
                "bonds, canonical smiles, MMFF bond lengths, MMFF angles, stereocentre volume "
                "signs, stereo double bonds (c cis / t trans), aromatic rings\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    queries = {n: {"chains": [{"molecule_type": "ligand", "chain_ids": "L", "smiles": s}]}
               for n, s in PANEL}
    with open(f"{out}/panel.json", "w") as f:
        json.dump({"queries": queries}, f, indent=0)
        f.write("\n")
    print(f"{len(rows)} molecules, {sum(r[2] == 'refuse' for r in rows)} expected refusals")


if __name__ == "__main__":
    main()
