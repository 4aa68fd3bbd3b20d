"""How hard is the synthetic world? The log-mel statistics baseline.

Per clip: log-mel (`audiorep.frontend.log_mel.LogMel`), mean and standard deviation over time
per band (2 x 64 numbers), standardised, then a linear probe: multinomial logistic
regression for the scene type (accuracy), one-vs-rest logistic regression for the event
classes (macro average precision). The world is tuned so this baseline stays well below the
ceiling: learned representations must beat it, and tables must tell models apart.
"""

from __future__ import annotations

import numpy as np
import torch

from audiorep.data.synthetic.world import SyntheticWorld
from audiorep.frontend.log_mel import LogMel


def log_mel_statistics(world: SyntheticWorld, n: int, seed: int, chunk: int = 250) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features `[n, 2 * n_mels]`, scene ids `[n]`, event multi-hot `[n, C]` for n clips."""
    front = LogMel(sample_rate=world.sample_rate, f_max=min(7800.0, world.sample_rate / 2 - 100))
    feats, scenes, events = [], [], []
    for c, first in enumerate(range(0, n, chunk)):
        batch = world.generate(min(chunk, n - first), seed * 100_003 + c)
        with torch.no_grad():
            mel = front(batch.audio)
        feats.append(torch.cat([mel.mean(-1), mel.std(-1)], dim=1).numpy())
        scenes.append(batch.scene.numpy())
        events.append(batch.events.numpy())
    return np.concatenate(feats), np.concatenate(scenes), np.concatenate(events)


def log_mel_baseline(world: SyntheticWorld | None = None, n_train: int = 1500, n_test: int = 500, seed: int = 0) -> dict:
    """Scene accuracy and event mAP of the log-mel statistics + linear probe baseline, with
    train and test clips drawn from disjoint seeds."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    world = world or SyntheticWorld()
    x_tr, s_tr, e_tr = log_mel_statistics(world, n_train, 2 * seed + 1)
    x_te, s_te, e_te = log_mel_statistics(world, n_test, 2 * seed + 2)
    scene_probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, C=1.0))
    scene_probe.fit(x_tr, s_tr)
    scene_acc = float((scene_probe.predict(x_te) == s_te).mean())
    present = (e_tr.sum(0) > 0) & (e_tr.sum(0) < len(e_tr)) & (e_te.sum(0) > 0)
    event_probe = make_pipeline(StandardScaler(), OneVsRestClassifier(LogisticRegression(max_iter=3000, C=1.0)))
    event_probe.fit(x_tr, e_tr[:, present])
    scores = event_probe.predict_proba(x_te)
    per_class = average_precision_score(e_te[:, present], scores, average=None)
    names = [n for n, keep in zip(world.class_names, present) if keep]
    chance_scene = float(np.bincount(s_te).max() / len(s_te))
    # How far up the scene is knowable: the same probe given the true event labels.
    oracle = LogisticRegression(max_iter=3000).fit(e_tr, s_tr)
    scene_from_true_events = float((oracle.predict(e_te) == s_te).mean())
    return {
        "scene_accuracy": scene_acc,
        "scene_chance": chance_scene,
        "scene_accuracy_from_true_events": scene_from_true_events,
        "event_map": float(np.mean(per_class)),
        "event_chance_map": float(e_te[:, present].mean()),
        "event_ap": {n: float(a) for n, a in zip(names, per_class)},
        "n_train": n_train,
        "n_test": n_test,
        "seed": seed,
    }
