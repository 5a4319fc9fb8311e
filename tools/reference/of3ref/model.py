"""Building the OpenFold3 model (default or tiny configuration), random weights, checkpoints."""

import torch

# The tiny configuration: the same architecture with small widths and block counts.
# Paths are into the model ConfigDict after the predict + pae_enabled presets. Widths that
# OpenFold3 shares through ml_collections FieldReferences (c_s, c_z, c_m, c_t, c_atom,
# c_atom_pair, c_token_embedder -> c_s_input, c_token_diffusion) are set once and propagate.
TINY = {
    # shared widths
    "architecture.shared.c_s": 32,
    "architecture.shared.c_z": 16,
    "architecture.msa.msa_module.c_m": 8,
    "architecture.template.c_t": 8,
    "architecture.input_embedder.atom_attn_enc.c_atom": 16,
    "architecture.input_embedder.atom_attn_enc.c_atom_pair": 8,
    "architecture.input_embedder.atom_attn_enc.c_token": 32,          # c_s_input = 32 + 65
    "architecture.diffusion_module.diffusion_module.c_token": 32,     # c_token_diffusion
    # recycling: num_recycles 2 -> 3 trunk cycles
    "architecture.shared.num_recycles": 2,
    # input embedder atom encoder
    "architecture.input_embedder.atom_attn_enc.c_hidden": 8,
    "architecture.input_embedder.atom_attn_enc.no_heads": 2,
    "architecture.input_embedder.atom_attn_enc.no_blocks": 1,
    # template stack
    "architecture.template.template_pair_stack.c_hidden_tri_att": 4,
    "architecture.template.template_pair_stack.c_hidden_tri_mul": 8,
    "architecture.template.template_pair_stack.no_blocks": 1,
    "architecture.template.template_pair_stack.no_heads": 2,
    # MSA module: 2 blocks, because the last block has no MSA-track update and a single
    # block would leave the pair-weighted averaging and MSA transition untested
    "architecture.msa.msa_module.c_hidden_msa_att": 4,
    "architecture.msa.msa_module.c_hidden_opm": 4,
    "architecture.msa.msa_module.c_hidden_mul": 16,
    "architecture.msa.msa_module.c_hidden_pair_att": 8,
    "architecture.msa.msa_module.no_heads_msa": 2,
    "architecture.msa.msa_module.no_heads_pair": 2,
    "architecture.msa.msa_module.no_blocks": 2,
    # pairformer
    "architecture.pairformer.c_hidden_pair_bias": 8,
    "architecture.pairformer.no_heads_pair_bias": 4,
    "architecture.pairformer.c_hidden_mul": 16,
    "architecture.pairformer.c_hidden_pair_att": 8,
    "architecture.pairformer.no_heads_pair": 2,
    "architecture.pairformer.no_blocks": 2,
    # diffusion module
    "architecture.diffusion_module.diffusion_conditioning.c_fourier_emb": 32,
    "architecture.diffusion_module.atom_attn_enc.c_hidden": 8,
    "architecture.diffusion_module.atom_attn_enc.no_heads": 2,
    "architecture.diffusion_module.atom_attn_enc.no_blocks": 1,
    "architecture.diffusion_module.diffusion_transformer.c_hidden": 8,
    "architecture.diffusion_module.diffusion_transformer.no_heads": 4,
    "architecture.diffusion_module.diffusion_transformer.no_blocks": 2,
    "architecture.diffusion_module.atom_attn_dec.c_hidden": 8,
    "architecture.diffusion_module.atom_attn_dec.no_heads": 2,
    "architecture.diffusion_module.atom_attn_dec.no_blocks": 1,
    # confidence heads
    "architecture.heads.pairformer_embedding.pairformer.c_hidden_pair_bias": 8,
    "architecture.heads.pairformer_embedding.pairformer.no_heads_pair_bias": 4,
    "architecture.heads.pairformer_embedding.pairformer.c_hidden_mul": 16,
    "architecture.heads.pairformer_embedding.pairformer.c_hidden_pair_att": 8,
    "architecture.heads.pairformer_embedding.pairformer.no_heads_pair": 2,
    "architecture.heads.pairformer_embedding.pairformer.no_blocks": 1,
}

# Settings applied to both configurations for reference runs (spec/trunk.md §2.3, §6).
REFERENCE_SETTINGS = {
    "settings.memory.eval.use_deepspeed_evo_attention": False,
    "settings.memory.eval.use_cueq_triangle_kernels": False,
    "settings.memory.eval.use_lma": False,
    "settings.memory.eval.chunk_size": None,      # no chunking (a memory knob only)
    "settings.memory.eval.offload_inference.confidence_heads": False,
    "settings.memory.eval.offload_inference.msa_module": False,
}


def _set(cfg, path, value):
    *parents, leaf = path.split(".")
    node = cfg
    for p in parents:
        node = node[p]
    if leaf not in node:
        raise KeyError(path)
    node[leaf] = value


def _get(cfg, path):
    node = cfg
    for p in path.split("."):
        node = node[p]
    return node


def make_config(name):
    """Model config: the predict + pae_enabled presets (what `run_openfold predict` uses),
    the reference settings, and for name == 'tiny' the TINY overrides."""
    from openfold3.projects.of3_all_atom.project_entry import OF3ProjectEntry

    cfg = OF3ProjectEntry().get_model_config_with_presets(["predict", "pae_enabled"])
    for k, v in REFERENCE_SETTINGS.items():
        _set(cfg, k, v)
    if name == "tiny":
        for k, v in TINY.items():
            _set(cfg, k, v)
    elif name != "default":
        raise ValueError(f"unknown configuration {name!r}")
    return cfg


def config_meta(cfg, name):
    """Symbol sizes of a configuration, lower-case names as used in tests/fixtures/SHAPES.tsv."""
    a = cfg.architecture
    return {
        "config": name,
        "c_s": int(a.shared.c_s),
        "c_z": int(a.shared.c_z),
        "c_s_input": int(a.shared.c_s_input),
        "c_m": int(a.msa.msa_module.c_m),
        "c_t": int(a.template.c_t),
        "c_atom": int(a.input_embedder.atom_attn_enc.c_atom),
        "c_atom_pair": int(a.input_embedder.atom_attn_enc.c_atom_pair),
        "c_token": int(a.diffusion_module.diffusion_module.c_token),
        "n_cycle": int(a.shared.num_recycles) + 1,
        "num_recycles": int(a.shared.num_recycles),
        "n_pairformer_block": int(a.pairformer.no_blocks),
        "n_msa_block": int(a.msa.msa_module.no_blocks),
        "n_template_block": int(a.template.template_pair_stack.no_blocks),
        "n_diffusion_block": int(a.diffusion_module.diffusion_transformer.no_blocks),
        "n_atom_block": int(a.diffusion_module.atom_attn_enc.no_blocks),
        "n_confidence_block": int(a.heads.pairformer_embedding.pairformer.no_blocks),
        "sigma_data": float(a.shared.diffusion.sigma_data),
    }


def build_model(cfg):
    from openfold3.projects.of3_all_atom.model import OpenFold3

    torch.manual_seed(0)          # OpenFold3's own init; every value is overwritten below
    model = OpenFold3(cfg)
    model.eval()
    return model


def randomize_(model, seed):
    """Fill every parameter and buffer with seeded random values.

    Matrices ~ N(0, 1/fan_in); 1-d 'weight' of a norm layer ~ 1 + 0.2 N(0,1) (non-unit
    LayerNorm scales); every bias ~ 0.2 N(0,1) (non-zero); the Fourier buffers w ~ N(0,1),
    b ~ N(0,1) (as OpenFold3 initialises them). Parameters are visited in module order with
    shared tensors once, drawn in float64 from one torch.Generator, stored as float32.
    """
    g = torch.Generator().manual_seed(seed)
    seen = set()
    named = list(model.named_parameters()) + list(model.named_buffers())
    for name, t in named:
        if id(t) in seen:
            continue
        seen.add(id(t))
        shape = t.shape
        r = torch.randn(shape, generator=g, dtype=torch.float64)
        leaf = name.rsplit(".", 1)[-1]
        if "fourier_emb" in name:
            v = r
        elif t.dim() >= 2:
            fan_in = shape[-1]
            v = r / (fan_in ** 0.5)
        elif leaf == "bias":
            v = 0.2 * r
        elif leaf == "weight":
            v = 1.0 + 0.2 * r
        else:
            raise RuntimeError(f"randomize_: no rule for {name} {tuple(shape)}")
        with torch.no_grad():
            t.copy_(v.to(t.dtype))
    return model


def checkpoint_dict(model):
    """The released layout (spec/trunk.md §1): a flat dict {bare key: float32 tensor} in
    state_dict order, every entry its own storage (the EMA copy clones each tensor, so the
    duplicated sample_diffusion.diffusion_module.* keys are separate tensors)."""
    sd = model.state_dict()
    return {k: v.detach().to(torch.float32).clone().contiguous() for k, v in sd.items()}


def save_checkpoint(model, path):
    import io
    import os
    ckpt = checkpoint_dict(model)
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    data = buf.getvalue()
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return len(data), len(ckpt)


def load_checkpoint_into(model, path):
    """Load as `run_openfold predict` does: torch.load, then strict load_state_dict."""
    sd = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(sd, strict=True)
    return model
