"""Downstream tasks by name, each read from a dataset's standard local layout (nothing is
downloaded). `load_task("fsdd_digit=/data/fsdd")`, or a path to a manifest CSV; `synthetic`
(or `synthetic=SEED`) gives the built-in world's held-out scene and event tasks.

An unknown name is refused with every name that works (`task_names()`, built from `TASKS`,
`TASK_GROUPS` and `synthetic`) and the closest of them ("did you mean 'fsdd'?")."""

from __future__ import annotations

import difflib
from pathlib import Path

from audiorep.errors import ConfigError
from audiorep.eval.tasks.audioset import audioset_task
from audiorep.eval.tasks.esc50 import esc10_task, esc50_task
from audiorep.eval.tasks.fsdd import fsdd_digit_task, fsdd_speaker_task
from audiorep.eval.tasks.manifest import manifest_task, manifest_tasks
from audiorep.eval.tasks.nsynth import nsynth_instrument_task, nsynth_pitch_task
from audiorep.eval.tasks.speech_commands import speech_commands_task
from audiorep.eval.tasks.synthetic import synthetic_tasks
from audiorep.eval.tasks.task import Fold, Task, describe_task
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

SYNTHETIC = "synthetic"  # the built-in world's held-out scenes, in memory (no path)


def task_names() -> list[str]:
    """Every name `--task NAME=PATH` accepts: the tasks, the dataset groups, and `synthetic`."""
    return sorted({*TASKS, *TASK_GROUPS, SYNTHETIC})


def unknown_task_error(name: str) -> ConfigError:
    """'task 'fsd' is unknown; did you mean 'fsdd'? Tasks: ...' (every name, from the registry)."""
    close = difflib.get_close_matches(name, task_names(), n=1, cutoff=0.6)
    if not close:  # a prefix or a part of a name ('speech' -> speech_commands)
        close = [n for n in task_names() if name and (n.startswith(name) or name in n)][:1]
    hint = f"; did you mean {close[0]!r}?" if close else "."
    groups = ", ".join(f"{g} = {' + '.join(ts)}" for g, ts in TASK_GROUPS.items())
    return ConfigError(f"task {name!r} is unknown{hint} Tasks: {', '.join(task_names())} ({groups}; "
                       f"{SYNTHETIC}[=SEED] needs no path), or the path of a manifest .csv")


def _split_spec(spec: str) -> tuple[str, str]:
    if "=" in spec:
        name, path = spec.split("=", 1)
        return name, path
    if spec.lower().endswith(".csv"):
        return "manifest", spec
    if spec in task_names():
        raise ConfigError(f"task {spec!r}: give {spec}=PATH, the folder of the dataset")
    if Path(spec).exists():
        raise ConfigError(f"task {spec!r}: give NAME=PATH (tasks: {', '.join(task_names())}) or a manifest .csv")
    raise unknown_task_error(spec)


def load_task(spec: str, path: str | None = None) -> Task:
    """`name=path`, `name` + path, or a bare path to a manifest CSV."""
    if path is None:
        spec, path = _split_spec(spec)
    if spec not in TASKS:
        raise unknown_task_error(spec)
    if not Path(path).exists():
        raise ConfigError(f"task {spec}: {path} does not exist")
    return TASKS[spec](path)


SYNTHETIC_PROBE = {"n_train": 700, "n_test": 500, "seed": 10_001}  # the demo's held-out scenes


def load_tasks(spec: str, progress: bool = True, label_columns=None) -> list[Task]:
    """Like load_task, but a dataset name with several tasks (`fsdd=PATH`) gives all of them,
    `synthetic[=SEED]` the synthetic world's scene and event tasks, and a manifest one task per
    label column (`label` and `labels` when it has both, or the `label_columns` given)."""
    name, _, path = spec.partition("=")
    if name == SYNTHETIC:
        if path and not path.isdigit():
            raise ConfigError(f"task {spec!r}: give synthetic or synthetic=SEED (a whole number)")
        seed = int(path) if path else SYNTHETIC_PROBE["seed"]
        return synthetic_tasks(SYNTHETIC_PROBE["n_train"], SYNTHETIC_PROBE["n_test"], seed, progress=progress)
    if path and name in TASK_GROUPS:
        return [load_task(t, path) for t in TASK_GROUPS[name]]
    name, path = _split_spec(spec)
    if name == "manifest":
        if not Path(path).exists():
            raise ConfigError(f"task manifest: {path} does not exist")
        return manifest_tasks(path, label_columns=label_columns)
    return [load_task(name, path)]


__all__ = ["TASKS", "TASK_GROUPS", "Fold", "Task", "describe_task", "load_task", "load_tasks", "synthetic_tasks",
           "task_names", "unknown_task_error"]
