"""Construction from config, in one place: config dataclasses in, objects out."""

from __future__ import annotations

import math

import torch

from audiorep.config import Config
from audiorep.frontend.log_mel import LogMel


def build_frontend(cfg: Config) -> LogMel:
    f = cfg.frontend
    return LogMel(cfg.data.sample_rate, f.n_mels, f.win_ms, f.hop_ms, f.f_min, min(f.f_max, cfg.data.sample_rate / 2))


def build_encoder(cfg: Config) -> torch.nn.Module:
    from audiorep.models import ENCODERS

    e = cfg.encoder
    kwargs = dict(n_mels=cfg.frontend.n_mels, width=e.width, embedding_dim=e.embedding_dim, dropout=e.dropout)
    if e.name == "cnn":
        kwargs["convs_per_stage"] = e.convs_per_stage
    return ENCODERS[e.name](**kwargs)


def build_method(cfg: Config):
    from audiorep.methods import METHODS
    from audiorep.models.embedder import build_embedder

    cls = METHODS[cfg.method["name"]]
    return cls(cls.Config.from_dict(cfg.method), build_embedder(cfg), sample_rate=cfg.data.sample_rate)


def build_optimizer(cfg: Config, model: torch.nn.Module) -> torch.optim.Optimizer:
    """AdamW; no weight decay on norms and biases (they are not scale-free weights)."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.train.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.train.lr)


def lr_factor(step: int, warmup_steps: int, progress: float, floor: float = 0.01) -> float:
    """Learning-rate multiplier: linear warm-up over `warmup_steps`, then cosine from 1 to
    `floor` over the run's `progress` in [0, 1] (steps done, or wall-clock budget used)."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))


def build_source(cfg: Config, progress: bool = True):
    """The clip source a config names: the synthetic world (generated in memory), a folder or a manifest."""
    from audiorep.data.sources import ArraySource, FolderSource, ManifestSource

    d = cfg.data
    if d.source == "folder":
        return FolderSource(d.path, sample_rate=d.sample_rate)
    if d.source == "manifest":
        return ManifestSource(d.path, sample_rate=d.sample_rate)
    s = d.synthetic
    audio, meta = generate_synthetic_audio(s.n_clips, s.seed, d.sample_rate, s.clip_seconds, s.max_events, progress)
    return ArraySource(audio, d.sample_rate, meta)


def generate_synthetic_audio(n: int, seed: int, sample_rate: int, clip_seconds: float, max_events: int = 4,
                             progress: bool = True, chunk: int = 250, with_labels: bool = False):
    """Mixtures and metadata of n synthetic scenes, generated in chunks to bound memory.

    With `with_labels`, also returns (events multi-hot [n, C], scene [n]) tensors.
    """
    from tqdm.auto import tqdm

    from audiorep.data.synthetic import SyntheticWorld

    world = SyntheticWorld(sample_rate=sample_rate, clip_seconds=clip_seconds, max_events=max_events)
    audio, meta, events, scenes = [], [], [], []
    bar = tqdm(total=n, desc="synthetic scenes", unit="clip", disable=not progress, leave=False)
    for k, start in enumerate(range(0, n, chunk)):
        batch = world.generate(min(chunk, n - start), seed=seed * 100_003 + k)
        audio.append(batch.audio)
        meta.extend(batch.meta())
        events.append(batch.events)
        scenes.append(batch.scene)
        bar.update(len(batch))
    bar.close()
    audio = torch.cat(audio)
    if with_labels:
        return audio, meta, torch.cat(events), torch.cat(scenes), world
    return audio, meta


def build_online_probe(cfg: Config, progress: bool = True):
    """The labelled set the trainer probes every `train.online_probe.every_steps` steps, or None.

    Default: scene labels of synthetic scenes from seeds never used for pretraining.
    """
    from audiorep.eval.online_probe import OnlineProbe

    p = cfg.train.online_probe
    if not p.every_steps:
        return None
    if p.manifest:
        import numpy as np

        from audiorep.data.sources import ManifestSource

        source = ManifestSource(p.manifest, sample_rate=cfg.data.sample_rate)
        n = min(p.n_clips, len(source))
        audio = torch.stack([torch.from_numpy(source.load(i, p.clip_seconds, crop="start")) for i in range(n)])
        labels = np.array([str(r.label) for r in source.records[:n]])
    else:
        s = cfg.data.synthetic
        audio, _, _, labels, _ = generate_synthetic_audio(p.n_clips, s.seed + 20_000, cfg.data.sample_rate,
                                                          p.clip_seconds, s.max_events, progress, with_labels=True)
    return OnlineProbe(audio, labels, multilabel=False, every_n_steps=p.every_steps, seed=cfg.seed)
