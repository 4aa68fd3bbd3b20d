"""When a run writes its checkpoints: `last.pt` every `checkpoint_every` steps and at the end
(what `--resume` reads), and named ones kept at fractions of the run
(`train.keep_checkpoints: {early: 0.1, middle: 0.4, late: 1.0}`), which separation-based
SSL uses as separators at different stages of convergence.

A run's progress counts steps or wall clock, whichever budget binds first, so a kept
checkpoint marks a fraction of the budget, not of the steps. Every file is a whole,
resumable training state, written atomically (`audiorep.io.checkpoint`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from audiorep.errors import CheckpointError, ConfigError
from audiorep.io.checkpoint import load_checkpoint, save_checkpoint

LAST = "last.pt"
# what `--resume` reads from last.pt, with its types (every format since the first wrote these)
TRAINING_ENTRIES = {"config": dict, "method": dict, "optimizer": dict, "step": int, "elapsed_s": (int, float)}


def last_checkpoint(out_dir: str | Path) -> Path:
    """OUT/last.pt, the state `--resume` continues; a `ConfigError` when there is none."""
    path = Path(out_dir) / LAST
    if not path.is_file():
        raise ConfigError(f"--resume: no checkpoint at {path} (nothing to resume; drop --resume to start)")
    return path


def load_training_state(path: str | Path) -> dict:
    """A checkpoint checked to be a whole training state (`CheckpointError` naming it if not)."""
    state = load_checkpoint(path, map_location="cpu", require=TRAINING_ENTRIES)
    if not state.get("rng") and "generator" not in state:
        raise CheckpointError(f"{path}: not a training checkpoint: it has neither the 'rng' nor the "
                              "'generator' entry (the random streams a resume continues)")
    return state


def saved_config(out_dir: str | Path) -> dict:
    """The resolved config of the run in `out_dir`, as its last.pt holds it: what `--resume`
    continues (`audiorep.train.resume`)."""
    return load_training_state(last_checkpoint(out_dir))["config"]


class Checkpointing:
    def __init__(self, out_dir: Path, every: int, keep: dict[str, float], enabled: bool = True):
        self.out_dir = Path(out_dir)
        self.every = every
        self.enabled = enabled
        self.pending = sorted(keep.items(), key=lambda kv: kv[1])

    @property
    def last(self) -> Path:
        return self.out_dir / LAST

    def load_last(self) -> dict:
        """last.pt, checked to be a whole training state (`ConfigError` when there is none,
        `CheckpointError` naming it when it is not a whole state)."""
        return load_training_state(last_checkpoint(self.out_dir))

    def after_step(self, step: int, progress: float, state: Callable[[], dict]) -> None:
        """Write last.pt when due, and every kept checkpoint whose fraction the run has reached."""
        self._write(self._reached(progress), step % self.every == 0, state)

    def finish(self, progress: float, state: Callable[[], dict]) -> None:
        """The run is over (progress 1) or stopped: last.pt, and the kept checkpoints reached."""
        self._write(self._reached(progress), True, state)

    def skip_reached(self, progress: float) -> None:
        """On resume: the fractions already passed were written by the first run."""
        self._reached(progress)

    def _reached(self, progress: float) -> list[str]:
        names = []
        while self.pending and progress >= self.pending[0][1]:
            names.append(self.pending.pop(0)[0])
        return names

    def _write(self, names: list[str], last: bool, state: Callable[[], dict]) -> None:
        """Every rank takes part (`state` gathers each rank's random streams); one rank writes."""
        if not (names or last):
            return
        snapshot = state()
        if not self.enabled:
            return
        for name in names:
            save_checkpoint(self.out_dir / f"{name}.pt", snapshot)
        if last:
            save_checkpoint(self.last, snapshot)
