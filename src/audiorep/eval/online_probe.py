"""A linear probe run every N training steps on a small labelled set, so a user watches the
representation improve (or not) while it trains, instead of finding out after the run.

The labelled clips are split once (stratified, fixed seed) into probe-train and probe-test;
each run embeds both with the current encoder (no gradients), fits the linear probe of
`audiorep.eval.probe` (standardised features, softmax or per-class sigmoid) and reports the
test metric. The split never changes during training, so the numbers are comparable.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from audiorep.errors import ConfigError
from audiorep.eval.probe import run_linear_probe


class OnlineProbe:
    def __init__(
        self,
        audio: torch.Tensor,
        labels,
        multilabel: bool = False,
        every_n_steps: int = 500,
        train_fraction: float = 0.7,
        batch_size: int = 64,
        seed: int = 0,
    ):
        if every_n_steps < 1:
            raise ConfigError(f"online probe every_n_steps must be >= 1, got {every_n_steps}")
        if not 0.0 < train_fraction < 1.0:
            raise ConfigError(f"online probe train_fraction must be in (0, 1), got {train_fraction}")
        self.audio = torch.as_tensor(audio, dtype=torch.float32).cpu()
        labels = labels.cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
        if len(labels) != self.audio.shape[0]:
            raise ConfigError(f"online probe: {self.audio.shape[0]} clips but {len(labels)} labels")
        self.multilabel = multilabel
        if multilabel:
            self.targets = labels.astype(np.float32)
            self.n_classes = self.targets.shape[1]
            stratify = None
        else:
            self.class_names, self.targets = np.unique(labels, return_inverse=True)
            self.n_classes = len(self.class_names)
            counts = np.bincount(self.targets)
            stratify = self.targets if counts.min() >= 2 else None
        idx = np.arange(len(labels))
        self.train_idx, self.test_idx = train_test_split(
            idx, train_size=train_fraction, random_state=seed, stratify=stratify
        )
        self.every_n_steps = every_n_steps
        self.batch_size = batch_size
        self.seed = seed

    @torch.no_grad()
    def embed(self, embed_fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        """All clips -> [N, D] on CPU, in batches; an nn.Module is put in eval mode meanwhile."""
        was_training = getattr(embed_fn, "training", None)
        if was_training:
            embed_fn.eval()
        try:
            parts = [embed_fn(self.audio[i : i + self.batch_size]).float().cpu() for i in range(0, len(self.audio), self.batch_size)]
        finally:
            if was_training:
                embed_fn.train()
        return torch.cat(parts)

    def run(self, embed_fn: Callable[[torch.Tensor], torch.Tensor]) -> dict[str, float]:
        """Embed, fit on probe-train, return {"probe_<metric>": value} on probe-test."""
        x = self.embed(embed_fn)
        out = run_linear_probe(
            x[self.train_idx], self.targets[self.train_idx], x[self.test_idx], self.targets[self.test_idx],
            self.multilabel, n_classes=self.n_classes, seed=self.seed,
        )
        return {f"probe_{k}": v for k, v in out.metrics.items()}

    def maybe_run(self, step: int, embed_fn: Callable[[torch.Tensor], torch.Tensor]) -> dict[str, float] | None:
        """Run the probe when `step` is a multiple of every_n_steps; otherwise None."""
        if step % self.every_n_steps != 0:
            return None
        return self.run(embed_fn)
