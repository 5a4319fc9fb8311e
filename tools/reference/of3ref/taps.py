"""Running the OpenFold3 model on a featurized query and recording what it computes.

One `OpenFold3.forward(batch)` call (the code path of `predict_step`: trunk, sampling,
confidence heads) under torch.no_grad() with forward hooks that clone what passes, a
recorder that captures every random normal draw of the sampler in order
(spec/diffusion_heads.md §2.4), then `get_confidence_scores` as the runner calls it, and
finally one separate DiffusionModule call at a fixed noise level.
"""

import torch

from . import env


def _c(t):
    return t.detach().clone()


def _arg(args, kwargs, i, name):
    if name in kwargs:
        return kwargs[name]
    return args[i]


class Recorder:
    """Forward hooks on the model; every tap is cloned when it is produced (the inference
    path updates tensors in place, spec/trunk.md §5 pitfall 36)."""

    def __init__(self, model):
        self.m = model
        self.handles = []
        self.taps = {}
        self.calls = {}
        self.cycle_s_in, self.cycle_s, self.cycle_z = [], [], []
        self.cycle_z_recycled = []
        self.sampler_calls = []            # (t_hat, x_noisy, x_denoised) per diffusion call
        self.in_sampler = False

    def _count(self, key):
        n = self.calls.get(key, 0)
        self.calls[key] = n + 1
        return n

    def hook(self, module, pre=None, post=None):
        if pre is not None:
            self.handles.append(module.register_forward_pre_hook(pre, with_kwargs=True))
        if post is not None:
            self.handles.append(module.register_forward_hook(post, with_kwargs=True))

    def install(self):
        m, T = self.m, self.taps

        def ie_post(mod, args, kwargs, out):
            s_input, s_init, z_init = out
            T["s_input_embedder"] = _c(s_input)
            T["s_init"] = _c(s_init)
            T["z_init"] = _c(z_init)
        self.hook(m.input_embedder, post=ie_post)

        def te_pre(mod, args, kwargs):
            z = kwargs["z"]
            self.cycle_z_recycled.append(_c(z))
        def te_post(mod, args, kwargs, out):
            if self._count("template") == 0:
                T["template_embedder_out"] = _c(out)
        self.hook(m.template_embedder, pre=te_pre, post=te_post)

        def me_post(mod, args, kwargs, out):
            if self._count("msa_embedder") == 0:
                mm, mask = out
                T["msa_embedder_m"] = _c(mm)
                T["msa_embedder_mask"] = _c(mask)
        self.hook(m.msa_module_embedder, post=me_post)

        def mm_pre(mod, args, kwargs):
            if self.calls.get("msa_module", 0) == 0:
                T["msa_module_in_m"] = _c(_arg(args, kwargs, 0, "m"))
                T["msa_module_in_z"] = _c(_arg(args, kwargs, 1, "z"))
        def mm_post(mod, args, kwargs, out):
            if self._count("msa_module") == 0:
                T["msa_module_out_z"] = _c(out)
        self.hook(m.msa_module, pre=mm_pre, post=mm_post)

        def pf_pre(mod, args, kwargs):
            self.cycle_s_in.append(_c(_arg(args, kwargs, 0, "s")))
        def pf_post(mod, args, kwargs, out):
            s, z = out
            self.cycle_s.append(_c(s))
            self.cycle_z.append(_c(z))
        self.hook(m.pairformer_stack, pre=pf_pre, post=pf_post)

        blk = m.pairformer_stack.blocks[0]
        def b0_pre(mod, args, kwargs):
            if self.calls.get("pf_block0", 0) == 0:
                T["pairformer_block0_in_s"] = _c(_arg(args, kwargs, 0, "s"))
                T["pairformer_block0_in_z"] = _c(_arg(args, kwargs, 1, "z"))
        def b0_post(mod, args, kwargs, out):
            if self._count("pf_block0") == 0:
                s, z = out
                T["pairformer_block0_out_s"] = _c(s)
                T["pairformer_block0_out_z"] = _c(z)
        self.hook(blk, pre=b0_pre, post=b0_post)

        def dm_pre(mod, args, kwargs):
            if self.in_sampler:
                self._pending = (_c(kwargs["t"]), _c(kwargs["xl_noisy"]))
        def dm_post(mod, args, kwargs, out):
            if self.in_sampler:
                t, x = self._pending
                self.sampler_calls.append((t, x, _c(out)))
        self.hook(m.diffusion_module, pre=dm_pre, post=dm_post)

        def pe_post(mod, args, kwargs, out):
            s, z = out
            T["confidence_pairformer_s"] = _c(s)
            T["confidence_pairformer_z"] = _c(z)
        self.hook(m.aux_heads.pairformer_embedding, post=pe_post)

        # every random normal draw of the sampler, in order (spec/diffusion_heads.md §2.4)
        sd = m.sample_diffusion
        orig_forward = sd.forward
        rec = self
        self.draws = []

        def forward_recording(*args, **kwargs):
            real_randn, real_randn_like = torch.randn, torch.randn_like

            def randn(*a, **k):
                out = real_randn(*a, **k)
                rec.draws.append(("randn", _c(out)))
                return out

            def randn_like(*a, **k):
                out = real_randn_like(*a, **k)
                rec.draws.append(("randn_like", _c(out)))
                return out
            torch.randn, torch.randn_like = randn, randn_like
            rec.in_sampler = True
            try:
                return orig_forward(*args, **kwargs)
            finally:
                torch.randn, torch.randn_like = real_randn, real_randn_like
                rec.in_sampler = False
        sd.forward = forward_recording          # an instance attribute: nn.Module.__call__ uses it

    def remove(self):
        for h in self.handles:
            h.remove()
        self.handles = []
        if "forward" in self.m.sample_diffusion.__dict__:
            del self.m.sample_diffusion.__dict__["forward"]


FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def make_batch(feats, atom_array, query_id, seed, dtype):
    """The collated batch predict_step receives (batch size 1), float features cast to dtype."""
    from openfold3.core.data.framework.data_module import openfold_batch_collator

    sample = {k: v.clone() for k, v in feats.items()}
    sample["atom_array"] = atom_array
    sample["query_id"] = query_id
    sample["seed"] = torch.tensor([seed])
    sample["repeated_sample"] = torch.tensor([False])
    sample["valid_sample"] = torch.tensor([True])
    batch = openfold_batch_collator([sample])
    for k, v in list(batch.items()):
        if isinstance(v, torch.Tensor) and v.dtype in FLOAT_DTYPES:
            batch[k] = v.to(dtype)
    batch["seed"] = batch["seed"].cpu().tolist()
    return batch


def noise_schedule(model, n_step, dtype):
    from openfold3.core.model.structure.diffusion_module import create_noise_schedule
    return create_noise_schedule(no_rollout_steps=n_step,
                                 **model.config.architecture.noise_schedule,
                                 dtype=dtype, device=torch.device("cpu"))


def run(model, feats, atom_array, query_id, seed, n_step, n_sample, t_fixed, dtype):
    """Everything recorded for one query. Returns a dict of numpy arrays / values."""
    from openfold3.core.metrics.aggregate_confidence_ranking import get_confidence_scores
    from openfold3.core.utils.atomize_utils import get_token_frame_atoms

    cfg = model.config
    cfg.architecture.shared.diffusion.no_full_rollout_steps = n_step
    cfg.architecture.shared.diffusion.no_full_rollout_samples = n_sample
    model.to(dtype)
    model.eval()

    import warnings
    warnings.simplefilter("ignore")     # autocast(device_type="cuda") warns on a CPU run
    batch = make_batch(feats, atom_array, query_id, seed, dtype)
    rec = Recorder(model)
    rec.install()
    try:
        with torch.no_grad():
            env.seed_all(seed)                  # predict_step: reseed(seed) before forward
            batch, out = model(batch)
            scores = get_confidence_scores(batch=batch, outputs=out, config=cfg,
                                           compute_per_sample=False)
            _, has_frame = get_token_frame_atoms(batch=_squeeze_batch(batch),
                                                 x=out["atom_positions_predicted"][0],
                                                 atom_mask=batch["atom_mask"][0, 0])
    finally:
        rec.remove()

    T = {k: v for k, v in rec.taps.items()}
    R = {}
    # ---- trunk ---------------------------------------------------------------------------
    R["s_input"] = T["s_input_embedder"][0]
    R["s_init"] = T["s_init"][0]
    R["z_init"] = T["z_init"][0]
    R["z_recycled_cycle0"] = rec.cycle_z_recycled[0][0]
    R["template_embedder_out"] = T["template_embedder_out"][0]
    R["msa_module_in_m"] = T["msa_module_in_m"][0]
    R["msa_module_in_mask"] = T["msa_embedder_mask"][0]
    R["msa_module_in_z"] = T["msa_module_in_z"][0]
    R["msa_module_out_z"] = T["msa_module_out_z"][0]
    R["s_recycled_cycle0"] = rec.cycle_s_in[0][0]
    R["pairformer_block0_in_s"] = T["pairformer_block0_in_s"][0]
    R["pairformer_block0_in_z"] = T["pairformer_block0_in_z"][0]
    R["pairformer_block0_out_s"] = T["pairformer_block0_out_s"][0]
    R["pairformer_block0_out_z"] = T["pairformer_block0_out_z"][0]
    R["s_cycle"] = torch.stack([s[0] for s in rec.cycle_s])
    R["z_cycle"] = torch.stack([z[0] for z in rec.cycle_z])
    R["s_trunk"] = out["si_trunk"][0, 0]
    R["z_trunk"] = out["zij_trunk"][0, 0]
    # ---- sampling ------------------------------------------------------------------------
    kinds = [k for k, _ in rec.draws]
    draws = [d for _, d in rec.draws]
    expect = ["randn"] + ["randn", "randn", "randn_like"] * n_step
    if kinds != expect:
        raise RuntimeError(f"unexpected sampler draw order: {kinds[:8]}…")
    R["noise_schedule"] = noise_schedule(model, n_step, dtype)
    R["sample_noise_init"] = draws[0][0]                                   # [S, A, 3]
    R["sample_aug_quat"] = torch.stack([draws[1 + 3 * i][0] for i in range(n_step)])
    R["sample_aug_trans"] = torch.stack([draws[2 + 3 * i][0] for i in range(n_step)])
    R["sample_noise_step"] = torch.stack([draws[3 + 3 * i][0] for i in range(n_step)])
    if len(rec.sampler_calls) != n_step:
        raise RuntimeError("diffusion module was not called once per step")
    R["sample_t_hat"] = torch.stack([t.reshape(()) for t, _, _ in rec.sampler_calls])
    R["sample_x_noisy"] = torch.stack([x[0] for _, x, _ in rec.sampler_calls])
    R["sample_x_denoised"] = torch.stack([d[0] for _, _, d in rec.sampler_calls])
    R["atom_positions_predicted"] = out["atom_positions_predicted"][0]
    # ---- confidence heads ----------------------------------------------------------------
    R["confidence_pairformer_s"] = T["confidence_pairformer_s"].reshape(
        n_sample, *T["confidence_pairformer_s"].shape[-2:])
    R["confidence_pairformer_z"] = T["confidence_pairformer_z"].reshape(
        n_sample, *T["confidence_pairformer_z"].shape[-3:])
    R["distogram_logits"] = out["distogram_logits"][0, 0]
    for k in ("plddt_logits", "experimentally_resolved_logits", "pde_logits", "pae_logits"):
        R[k] = out[k][0]
    # ---- confidence metrics --------------------------------------------------------------
    R["has_frame"] = has_frame.to(torch.uint8)
    for k in ("plddt", "pde", "pae"):
        R[k] = scores[k][0]
    for k in ("gpde", "ptm", "iptm", "disorder", "has_clash", "sample_ranking_score"):
        R[k] = scores[k][0].reshape(n_sample)
    chain_ptm = scores["chain_ptm"]
    ids = sorted(chain_ptm[0].keys()) if isinstance(chain_ptm, list) else sorted(chain_ptm.keys())
    cp = chain_ptm[0] if isinstance(chain_ptm, list) else chain_ptm
    R["chain_asym_id"] = torch.tensor(ids, dtype=torch.int32)
    R["chain_ptm"] = torch.stack([cp[i].reshape(n_sample) for i in ids]) if ids else torch.zeros(0, n_sample)
    pairs = scores["chain_pair_iptm"]
    pairs = pairs[0] if isinstance(pairs, list) else pairs
    bes = scores["bespoke_iptm"]
    bes = bes[0] if isinstance(bes, list) else bes
    keys = list(pairs.keys())
    pair_ids = [tuple(int(x) for x in k.strip("()").split(",")) for k in keys]
    R["chain_pair_asym_id"] = torch.tensor(pair_ids, dtype=torch.int32).reshape(-1, 2)
    R["chain_pair_iptm"] = (torch.stack([pairs[k].reshape(n_sample) for k in keys])
                            if keys else torch.zeros(0, n_sample, dtype=dtype))
    R["bespoke_iptm"] = (torch.stack([bes[k].reshape(n_sample) for k in keys])
                         if keys else torch.zeros(0, n_sample, dtype=dtype))

    # ---- one diffusion-module call at a fixed noise level --------------------------------
    R.update(diffusion_call(model, batch, out, R["s_input"], n_sample, t_fixed, seed, dtype))
    return R


def _squeeze_batch(batch):
    """The per-item batch get_confidence_scores builds: batch and sample axes removed."""
    from openfold3.core.utils.tensor_utils import tensor_tree_map
    b = tensor_tree_map(lambda x: x[0].squeeze(0) if x.ndim >= 1 else x, batch,
                        strict_type=False)
    return b


def diffusion_call(model, batch, out, s_input, n_sample, t_fixed, seed, dtype):
    """DiffusionModule.forward once, at noise level t_fixed, on n_sample noisy copies drawn
    from a private generator (x_noisy = t_fixed * N(0, I)); intermediate taps by hooks."""
    dm = model.diffusion_module
    g = torch.Generator().manual_seed(int(seed) + 1)
    n_atom = batch["atom_mask"].shape[-1]
    x_noisy = (t_fixed * torch.randn((1, n_sample, n_atom, 3), generator=g,
                                     dtype=torch.float64)).to(dtype)
    t = torch.tensor(t_fixed, dtype=dtype)
    taps = {}

    def post(name):
        def f(mod, args, kwargs, o):
            taps[name] = tuple(_c(x) for x in o) if isinstance(o, tuple) else _c(o)
        return f
    hs = [dm.diffusion_conditioning.register_forward_hook(post("cond"), with_kwargs=True),
          dm.atom_attn_enc.register_forward_hook(post("enc"), with_kwargs=True),
          dm.diffusion_transformer.register_forward_hook(post("trans"), with_kwargs=True),
          dm.atom_attn_dec.register_forward_hook(post("dec"), with_kwargs=True)]
    try:
        with torch.no_grad():
            x_out = dm(batch=batch, xl_noisy=x_noisy, token_mask=batch["token_mask"],
                       atom_mask=batch["atom_mask"], t=t, si_input=s_input[None, None],
                       si_trunk=out["si_trunk"],
                       zij_trunk=out["zij_trunk"], chunk_size=None,
                       use_deepspeed_evo_attention=False, use_cueq_triangle_kernels=False,
                       use_lma=False, use_high_precision_attention=False, _mask_trans=True)
    finally:
        for h in hs:
            h.remove()
    R = {}
    R["diffusion_t"] = torch.tensor(t_fixed, dtype=dtype)   # (t itself is a 0-d input)
    R["diffusion_x_noisy"] = x_noisy[0]
    cs, cz = taps["cond"]
    R["diffusion_cond_s"] = cs.reshape(cs.shape[-2:])
    R["diffusion_cond_z"] = cz.reshape(cz.shape[-3:])
    a, q, c, p = taps["enc"]
    R["diffusion_enc_a"] = a.reshape(n_sample, *a.shape[-2:])
    R["diffusion_enc_q"] = q.reshape(n_sample, *q.shape[-2:])
    R["diffusion_enc_c"] = c.reshape(c.shape[-2:])
    R["diffusion_transformer_a"] = taps["trans"].reshape(n_sample, *taps["trans"].shape[-2:])
    R["diffusion_dec_r_update"] = taps["dec"].reshape(n_sample, *taps["dec"].shape[-2:])
    R["diffusion_x_denoised"] = x_out[0]
    return R

