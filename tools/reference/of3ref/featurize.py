"""Running the OpenFold3 data pipeline (query JSON -> atom array -> feature tensors).

MSA-free settings: no ColabFold MSA server and no templates (both need the network). This is
what `run_openfold predict --use_msa_server=False --use_templates=False` does: every protein and
RNA chain without MSA files gets a query-only "dummy" MSA (spec/data.md §6.1 mode 2), and all
template features are zero (§4.4). Heteromers additionally need the query-level
"use_paired_msas": false, or online pairing fails (spec/data.md §6.8).
"""

import json
import tempfile
import warnings
from pathlib import Path

import numpy as np

from . import env

# The feature tensors of spec/data.md §4 (what the model reads), in the order written.
FEATURE_NAMES = [
    # 4.1 token-level structure features
    "token_index", "residue_index", "asym_id", "entity_id", "sym_id", "restype",
    "is_protein", "is_rna", "is_dna", "is_ligand", "is_atomized", "token_mask",
    "num_atoms_per_token", "start_atom_index", "atom_mask", "atom_to_token_index",
    "token_bonds",
    # 4.2 reference conformer features
    "ref_pos", "ref_mask", "ref_element", "ref_charge", "ref_atom_name_chars", "ref_space_uid",
    # 4.3 MSA features
    "msa", "has_deletion", "deletion_value", "deletion_mean", "profile", "msa_mask",
    "num_paired_seqs",
    # 4.4 template features
    "template_restype", "template_pseudo_beta_mask", "template_backbone_frame_mask",
    "template_distogram", "template_unit_vector",
]


def is_heteromer(query):
    """More than one distinct protein sequence (spec/data.md §6.4 find_monomer_homomer)."""
    from openfold3.core.data.resources.residues import MoleculeType
    seqs = {c.sequence for c in query.chains if c.molecule_type == MoleculeType.PROTEIN}
    return len(seqs) > 1


def load_query_set(path):
    """Parse a query JSON file exactly as `run_openfold predict` does."""
    from openfold3.projects.of3_all_atom.config.inference_query_format import (
        InferenceQuerySet,
    )
    return InferenceQuerySet.from_json(str(path))


class Featurizer:
    """Holds one InferenceDataset (its CCD wrapper and settings) for many queries."""

    def __init__(self):
        from openfold3.core.data.pipelines.preprocessing.template import (
            TemplatePreprocessorSettings,
        )
        from openfold3.projects.of3_all_atom.config.dataset_configs import (
            InferenceJobConfig,
        )
        from openfold3.projects.of3_all_atom.config.inference_query_format import (
            InferenceQuerySet,
        )
        from openfold3.core.data.framework.single_datasets.inference import (
            InferenceDataset,
        )
        self._tmp = tempfile.TemporaryDirectory(prefix="of3ref_msa_")
        empty = InferenceQuerySet.model_validate({"queries": {}})
        cfg = InferenceJobConfig(query_set=empty, seeds=[42],
                                 template_preprocessor_settings=TemplatePreprocessorSettings())
        # InferenceDataset.__init__ minus the datapoint cache (which cannot be built from
        # an empty query set); every attribute create_all_features reads is set by it.
        self.dataset = InferenceDataset.__new__(InferenceDataset)
        orig = InferenceDataset.create_datapoint_cache
        InferenceDataset.create_datapoint_cache = lambda self: None
        try:
            InferenceDataset.__init__(self.dataset, cfg)
        finally:
            InferenceDataset.create_datapoint_cache = orig

    def prepare(self, query_set):
        """MSA-free preparation (data_module.prepare_data with use_msa_server=False):
        write query-only dummy MSAs for protein/RNA chains that have no MSA files."""
        from openfold3.core.data.tools.colabfold_msa_server import (
            MsaComputationSettings,
            augment_main_msa_with_query_sequence,
        )
        settings = MsaComputationSettings(msa_output_directory=Path(self._tmp.name))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")      # one "dummy MSA" warning per chain
            return augment_main_msa_with_query_sequence(query_set, settings)

    def close(self):
        self._tmp.cleanup()

    def features(self, query, seed):
        """Run create_all_features with all RNGs seeded; returns (features, atom_array)."""
        env.seed_all(seed)
        feats = self.dataset.create_all_features(query)
        atom_array = feats.pop("atom_array")
        return feats, atom_array


def prepared_queries(featurizer, path):
    """Yield (query_id, query, overrides) for every query of a JSON file, MSA-free."""
    qs = load_query_set(path)
    overrides = {}
    for qid, q in qs.queries.items():
        o = {}
        if q.use_msas and q.use_paired_msas and is_heteromer(q):
            q.use_paired_msas = False
            o["use_paired_msas"] = False
        overrides[qid] = o
    qs = featurizer.prepare(qs)
    for qid, q in qs.queries.items():
        yield qid, q, overrides[qid]


def atom_records(writer, atom_array):
    """The parsed atom list: labels as value records, numbers as tensors."""
    aa = atom_array
    writer.value("atom_chain_id", [str(x) for x in aa.chain_id])
    writer.value("atom_res_name", [str(x) for x in aa.res_name])
    writer.value("atom_name", [str(x) for x in aa.atom_name])
    writer.value("atom_element", [str(x) for x in aa.element])
    writer.tensor("atom_res_id", np.asarray(aa.res_id, dtype=np.int32))
    writer.tensor("atom_charge", np.asarray(aa.charge, dtype=np.int32))
    writer.tensor("atom_molecule_type_id", np.asarray(aa.molecule_type_id, dtype=np.int32))
    writer.tensor("atom_entity_id", np.asarray(aa.entity_id, dtype=np.int32))
    writer.tensor("atom_hetero", np.asarray(aa.hetero, dtype=np.uint8), "u8")
    writer.tensor("atom_token_id", np.asarray(aa.token_id, dtype=np.int32))
    bonds = aa.bonds.as_array().astype(np.int32).reshape(-1, 3)
    writer.tensor("atom_bonds", bonds)          # [N_bond, 3]: atom i, atom j, biotite BondType


def feature_records(writer, feats):
    missing = [k for k in FEATURE_NAMES if k not in feats]
    if missing:
        raise KeyError(f"data pipeline did not produce {missing}")
    for k in FEATURE_NAMES:
        writer.tensor(k, feats[k])


def feature_meta(feats, atom_array):
    return {
        "n_token": int(feats["token_index"].shape[0]),
        "n_atom": int(feats["atom_mask"].shape[0]),
        "n_msa": int(feats["msa"].shape[0]),
        "n_templ": int(feats["template_restype"].shape[0]),
        "n_bond": int(atom_array.bonds.as_array().shape[0]),
    }


def raw_queries(path):
    """The query objects as written in the JSON file (for the bundle's query_json value)."""
    with open(path) as f:
        return json.load(f)["queries"]
