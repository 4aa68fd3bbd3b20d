"""A small training loop for separators: MixIT on unlabelled clips, or PIT on isolated sources.

It keeps checkpoints at several points of convergence (early, middle, late by default):
separation-based representation learning uses separators at different stages as different
views, and an imperfect separator is still a useful one. Budgets are steps and/or minutes;
whichever runs out first ends the run, and the checkpoint fractions refer to that budget.
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from audiorep.errors import CheckpointError, ConfigError
from audiorep.objectives.mixit import mixit_loss
from audiorep.objectives.pit import pit_loss
from audiorep.separation.mixture_of_mixtures import mixture_of_mixtures
from audiorep.separation.tdcn import TDCNConfig, TDCNSeparator
from audiorep.train.checkpoint import load_checkpoint, save_checkpoint

OBJECTIVES = ("mixit", "pit")
LR_DECAYS = ("none", "cosine")


@dataclass
class SeparatorTrainConfig:
    objective: str = "mixit"
    batch_size: int = 8  # inputs per step (MixIT draws 2x clips for its mixtures of mixtures)
    clip_seconds: float = 2.0
    learning_rate: float = 1e-3
    warmup_steps: int = 0  # linear ramp from ~0: a higher peak rate without early blow-ups
    lr_decay: str = "none"  # "cosine": anneal to final_lr_fraction over the budget (steps or minutes)
    final_lr_fraction: float = 0.05
    grad_clip: float = 5.0
    max_steps: int = 2000
    max_minutes: float | None = None
    single_mixture_prob: float = 0.1
    max_snr_db: float = 30.0
    checkpoints: dict = field(default_factory=lambda: {"early": 0.1, "middle": 0.4, "late": 1.0})
    seed: int = 0
    log_every: int = 25

    def validate(self):
        def check(ok, key, expected):
            if not ok:
                raise ConfigError(f"separator config key '{key}': got {getattr(self, key)!r}, expected {expected}")

        check(self.objective in OBJECTIVES, "objective", f"one of {OBJECTIVES}")
        check(self.batch_size >= 1, "batch_size", "an integer >= 1")
        check(self.clip_seconds > 0, "clip_seconds", "a positive number")
        check(self.learning_rate > 0, "learning_rate", "a positive number")
        check(self.max_steps >= 1, "max_steps", "an integer >= 1")
        check(self.warmup_steps >= 0, "warmup_steps", "an integer >= 0")
        check(self.lr_decay in LR_DECAYS, "lr_decay", f"one of {LR_DECAYS}")
        check(0 < self.final_lr_fraction <= 1, "final_lr_fraction", "a fraction in (0, 1]")
        check(self.max_minutes is None or self.max_minutes > 0, "max_minutes", "a positive number or null")
        check(0 <= self.single_mixture_prob < 1, "single_mixture_prob", "a probability in [0, 1)")
        check(all(0 < f <= 1 for f in self.checkpoints.values()), "checkpoints", "fractions in (0, 1]")
        return self


def save_separator(path, model: TDCNSeparator, **extra) -> Path:
    """Checkpoint = model config + weights (+ anything in `extra`), written atomically."""
    return save_checkpoint(path, {"kind": "separator", "model_config": asdict(model.config),
                                  "state_dict": model.state_dict(), **extra})


def load_separator(path, device="cpu") -> TDCNSeparator:
    """A separator from a checkpoint written by `save_separator` (eval mode)."""
    state = load_checkpoint(path, map_location=device)
    if state.get("kind") != "separator" or "model_config" not in state:
        raise CheckpointError(f"{path}: not a separator checkpoint (no 'kind: separator' / 'model_config')")
    try:
        model = TDCNSeparator(TDCNConfig(**state["model_config"]))
        model.load_state_dict(state["state_dict"])
    except (TypeError, RuntimeError) as err:
        raise CheckpointError(f"{path}: separator weights do not match its config ({err})") from err
    return model.to(device).eval()


def learning_rate_factor(step: int, progress: float, cfg: SeparatorTrainConfig) -> float:
    """Multiplier of the peak rate: linear warm-up over `warmup_steps`, then optional cosine
    annealing over the budget progress (0..1), so a minutes-budgeted run ends at a low rate."""
    factor = min(1.0, (step + 1) / cfg.warmup_steps) if cfg.warmup_steps else 1.0
    if cfg.lr_decay == "cosine":
        low = cfg.final_lr_fraction
        factor *= low + (1 - low) * 0.5 * (1 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))
    return factor


def separator_loss(model: TDCNSeparator, batch: dict, cfg: SeparatorTrainConfig, generator) -> torch.Tensor:
    """Mean loss of one batch: MixIT on mixtures of mixtures, or PIT on isolated sources."""
    if cfg.objective == "mixit":
        mom, references = mixture_of_mixtures(batch["audio"], generator, cfg.single_mixture_prob)
        return mixit_loss(model(mom), references, cfg.max_snr_db).mean()
    if batch.get("sources") is None:
        raise ConfigError("objective 'pit' needs isolated sources: train on the synthetic world")
    return pit_loss(model(batch["audio"]), batch["sources"], cfg.max_snr_db).mean()


def train_separator(model: TDCNSeparator, clips, cfg: SeparatorTrainConfig, out_dir, log=print) -> list[dict]:
    """Train `model` on batches from `clips.sample(n, generator)`; write the named checkpoints
    and `log.csv` to `out_dir`; return the logged history."""
    cfg.validate()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate)
    pending = sorted(cfg.checkpoints.items(), key=lambda kv: kv[1])
    draw = 2 * cfg.batch_size if cfg.objective == "mixit" else cfg.batch_size
    history, running, start = [], [], time.monotonic()
    model.train()
    step, progress = 0, 0.0
    while True:
        for group in optimizer.param_groups:
            group["lr"] = cfg.learning_rate * learning_rate_factor(step, progress, cfg)
        batch = clips.sample(draw, generator)
        loss = separator_loss(model, batch, cfg, generator)
        optimizer.zero_grad(set_to_none=True)
        if torch.isfinite(loss):
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            running.append(float(loss.detach()))
        step += 1
        minutes = (time.monotonic() - start) / 60
        progress = step / cfg.max_steps
        if cfg.max_minutes:
            progress = max(progress, minutes / cfg.max_minutes)
        done = progress >= 1.0
        if step % cfg.log_every == 0 or done:
            row = {"step": step, "minutes": round(minutes, 3), "loss": sum(running) / max(len(running), 1)}
            history.append(row)
            running = []
            log(f"step {step}  {minutes:6.1f} min  {cfg.objective} loss {row['loss']:.2f} dB"
                f"  lr {optimizer.param_groups[0]['lr']:.2e}")
        while pending and (progress >= pending[0][1] or done):
            name, _ = pending.pop(0)
            save_separator(out / f"{name}.pt", model, step=step, minutes=minutes, stage=name,
                           train_config=asdict(cfg))
            log(f"saved {out / f'{name}.pt'} (step {step})")
        if done:
            break
    model.eval()
    with open(out / "log.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["step", "minutes", "loss"])
        writer.writeheader()
        writer.writerows(history)
    return history
