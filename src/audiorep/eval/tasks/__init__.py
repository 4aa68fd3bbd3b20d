"""Downstream tasks by name, each read from a dataset's standard local layout (nothing is
downloaded). `load_task("fsdd_digit=/data/fsdd")`, or a path to a manifest CSV; `synthetic`
(or `synthetic=SEED`) gives the built-in world's held-out scene and event tasks."""

from __future__ import annotations

from pathlib import Path

from audiorep.errors import ConfigError
from audiorep.eval.tasks.audioset import audioset_task
from audiorep.eval.tasks.esc50 import esc10_task, esc50_task
from audiorep.eval.tasks.fsdd import fsdd_digit_task, fsdd_speaker_task
from audiorep.eval.tasks.manifest import manifest_task
from audiorep.eval.tasks.nsynth import nsynth_instrument_task, nsynth_pitch_task
from audiorep.eval.tasks.speech_commands import speech_commands_task
from audiorep.eval.tasks.synthetic import synthetic_tasks
from audiorep.eval.tasks.task import Fold, Task
from audiorep.eval.tasks.voxceleb1 import voxceleb1_task

TASKS = {
    "esc50": esc50_task,
    "esc10": esc10_task,
    "speech_commands": speech_commands_task,
    "fsdd_digit": fsdd_digit_task,
    "fsdd_speaker": fsdd_speaker_task,
    "nsynth_instrument": nsynth_instrument_task,
    "nsynth_pitch": nsynth_pitch_task,
    "voxceleb1": voxceleb1_task,
    "audioset": audioset_task,
    "manifest": manifest_task,
}

# a dataset folder name -> the tasks it provides, for `--task fsdd=/path`
TASK_GROUPS = {"fsdd": ("fsdd_digit", "fsdd_speaker"), "nsynth": ("nsynth_instrument", "nsynth_pitch")}


def load_task(spec: str, path: str | None = None) -> Task:
    """`name=path`, `name` + path, or a bare path to a manifest CSV."""
    if path is None:
        if "=" in spec:
            spec, path = spec.split("=", 1)
        elif spec.lower().endswith(".csv"):
            spec, path = "manifest", spec
        else:
            raise ConfigError(f"task {spec!r}: give NAME=PATH (tasks: {', '.join(TASKS)}) or a manifest .csv")
    if spec not in TASKS:
        raise ConfigError(f"task {spec!r} is unknown; choose one of {', '.join(TASKS)}")
    if not Path(path).exists():
        raise ConfigError(f"task {spec}: {path} does not exist")
    return TASKS[spec](path)


SYNTHETIC_PROBE = {"n_train": 700, "n_test": 500, "seed": 10_001}  # the demo's held-out scenes


def load_tasks(spec: str, progress: bool = True) -> list[Task]:
    """Like load_task, but a dataset name with several tasks (`fsdd=PATH`) gives all of them,
    and `synthetic[=SEED]` the synthetic world's scene and event tasks."""
    name, _, path = spec.partition("=")
    if name == "synthetic":
        if path and not path.isdigit():
            raise ConfigError(f"task {spec!r}: give synthetic or synthetic=SEED (a whole number)")
        seed = int(path) if path else SYNTHETIC_PROBE["seed"]
        return synthetic_tasks(SYNTHETIC_PROBE["n_train"], SYNTHETIC_PROBE["n_test"], seed, progress=progress)
    if path and name in TASK_GROUPS:
        return [load_task(t, path) for t in TASK_GROUPS[name]]
    return [load_task(spec)]


__all__ = ["TASKS", "TASK_GROUPS", "Fold", "Task", "load_task", "load_tasks", "synthetic_tasks"]
