"""The built-in world's held-out scenes as two evaluation tasks, in memory: scene type
(accuracy) and event tagging (multi-label, mAP). Their seed is not pretraining's, so every
score is on scenes the representation never saw. The first `n_train` clips train the
probe, the other `n_test` test it (one fold)."""

from __future__ import annotations

import sys

import numpy as np

from audiorep.data.synthetic import generate_clips
from audiorep.eval.progress import stderr_is_terminal
from audiorep.eval.tasks.task import Task, held_out_fold


def synthetic_tasks(n_train: int, n_test: int, seed: int, sample_rate: int = 16000, clip_seconds: float = 4.0,
                    max_events: int = 4, progress: bool = True) -> list[Task]:
    """[scene task, events task] over the same n_train + n_test generated scenes."""
    if progress and not stderr_is_terminal():  # one line, not a bar's redraws, in a log
        print(f"generating {n_train + n_test} synthetic scenes (seed {seed}) ...", file=sys.stderr, flush=True)
        progress = False
    clips = generate_clips(n_train + n_test, seed, sample_rate, clip_seconds, max_events, progress=progress)
    n = n_train + n_test
    shared = dict(paths=[f"<synthetic scene {i}>" for i in range(n)],
                  folds=[held_out_fold(np.arange(n_train), np.arange(n_train, n))],
                  root=f"synthetic world, seed {seed}", audio=clips.audio, sample_rate=sample_rate)
    protocol = (f"held out: the first {n_train} scenes train the probe (the last 10 % of them validate), "
                f"the other {n_test} test it, one fold")
    scene = Task("scene", targets=clips.scene.numpy(), class_names=list(clips.scene_names),
                 meta={"protocol": protocol}, **shared)
    events = Task("events", targets=clips.events.numpy(), class_names=list(clips.class_names), multilabel=True,
                  meta={"protocol": protocol}, **shared)
    return [scene.check(), events.check()]
