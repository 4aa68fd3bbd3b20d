"""A linear probe run every N training steps on a small labelled set, so a user watches the
representation improve (or not) while it trains, instead of finding out after the run.

The labelled clips become an in-memory `Task` with one fold, split once (stratified, fixed
seed) into probe-train and probe-test; each run embeds them with the current encoder (no
gradients) and scores them through the evaluation package's probe path
(`evaluate_embeddings`: standardised features, softmax or per-class sigmoid). The split
never changes during training, so the numbers are comparable.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from audiorep.errors import ConfigError
from audiorep.eval.embedding_cache import embed_in_batches
from audiorep.eval.evaluate import evaluate_embeddings
from audiorep.eval.tasks.task import Task, held_out_fold


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
        audio = torch.as_tensor(audio, dtype=torch.float32).cpu()
        labels = labels.cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
        if len(labels) != audio.shape[0]:
            raise ConfigError(f"online probe: {audio.shape[0]} clips but {len(labels)} labels")
        if multilabel:
            targets, class_names, stratify = labels.astype(np.float32), [str(c) for c in range(labels.shape[1])], None
        else:
            class_names, targets = np.unique(labels, return_inverse=True)
            stratify = targets if np.bincount(targets).min() >= 2 else None
        self.train_idx, self.test_idx = train_test_split(np.arange(len(labels)), train_size=train_fraction,
                                                         random_state=seed, stratify=stratify)
        self.task = Task("online_probe", [f"<probe clip {i}>" for i in range(len(labels))], targets,
                         [str(c) for c in class_names], [held_out_fold(self.train_idx, self.test_idx)],
                         multilabel=multilabel, audio=audio).check()
        self.every_n_steps = every_n_steps
        self.batch_size = batch_size
        self.seed = seed

    @property
    def targets(self) -> np.ndarray:
        return self.task.targets

    @property
    def columns(self) -> list[str]:
        """The names `run` reports under."""
        return ["probe_mAP", "probe_auc", "probe_dprime"] if self.task.multilabel else ["probe_accuracy"]

    @torch.no_grad()
    def embed(self, embed_fn: Callable[[torch.Tensor], torch.Tensor]) -> np.ndarray:
        """All clips -> [N, D] on CPU, in batches; an nn.Module is put in eval mode meanwhile."""
        was_training = getattr(embed_fn, "training", None)
        if was_training:
            embed_fn.eval()
        try:
            return embed_in_batches(embed_fn, self.task.audio, self.batch_size)
        finally:
            if was_training:
                embed_fn.train()

    def run(self, embed_fn: Callable[[torch.Tensor], torch.Tensor]) -> dict[str, float]:
        """Embed, fit on probe-train, return {"probe_<metric>": value} on probe-test."""
        x = self.embed(embed_fn)
        if not np.isfinite(x).all():  # a diverged encoder: report NaN, never fit a probe on NaN/inf features
            return {column: float("nan") for column in self.columns}
        rows, _ = evaluate_embeddings(x, self.task, "online", ("linear",), seed=self.seed)
        return {f"probe_{r['metric']}": r["mean"] for r in rows}

    def maybe_run(self, step: int, embed_fn: Callable[[torch.Tensor], torch.Tensor]) -> dict[str, float] | None:
        """Run the probe when `step` is a multiple of every_n_steps; otherwise None."""
        if step % self.every_n_steps != 0:
            return None
        return self.run(embed_fn)
