"""Metrics for probes on frozen embeddings, each stated so it can be checked by hand.

- accuracy: fraction of examples whose predicted class is the true class.
- mAP: average precision per class (area under the precision-recall curve, scikit-learn's
  step-wise definition), averaged over the classes that have at least one positive example
  in the evaluated set. A class with no positive has no defined AP and is left out rather
  than counted as 0 or 1, which would move the mean for reasons unrelated to the model.
- AUC-ROC: area under the ROC curve per class, averaged over classes that have both
  positives and negatives.
- d' (d-prime): sqrt(2) * Phi^-1(AUC), the separation of two unit-variance Gaussians that
  gives that AUC (the AudioSet convention).
- pitch accuracy: a predicted pitch counts as right when it is the true MIDI note (with an
  optional tolerance in semitones); chroma accuracy ignores the octave.
- mean +- std over folds: std is the sample standard deviation (ddof=1), 0 for one fold
  (NaN when a fold value is infinite, as d' is at AUC 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import norm
from sklearn.metrics import average_precision_score, roc_auc_score


def _as_numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def accuracy(y_true, y_pred) -> float:
    """Fraction correct. `y_pred` holds class indices [N] or class scores [N, C] (argmax)."""
    y_true = _as_numpy(y_true)
    y_pred = _as_numpy(y_pred)
    if y_pred.ndim == 2:
        y_pred = y_pred.argmax(axis=1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"accuracy: {y_true.shape[0]} targets but predictions of shape {y_pred.shape}")
    if y_true.size == 0:
        raise ValueError("accuracy: no examples")
    return float(np.mean(y_true == y_pred))


def _multi_hot(y_true: np.ndarray, n_classes: int) -> np.ndarray:
    """Class indices [N] -> one-hot [N, C]; a multi-hot [N, C] array passes through."""
    if y_true.ndim == 2:
        return (y_true > 0.5).astype(np.int64)
    out = np.zeros((y_true.shape[0], n_classes), dtype=np.int64)
    out[np.arange(y_true.shape[0]), y_true.astype(np.int64)] = 1
    return out


def _per_class(y_true, scores, score_fn, usable) -> np.ndarray:
    """`score_fn(targets[:, c], scores[:, c])` for every class c where `usable(n_pos, n)`; NaN elsewhere."""
    scores = _as_numpy(scores).astype(np.float64)
    targets = _multi_hot(_as_numpy(y_true), scores.shape[1])
    out = np.full(scores.shape[1], np.nan)
    for c in np.flatnonzero(usable(targets.sum(axis=0), targets.shape[0])):
        out[c] = score_fn(targets[:, c], scores[:, c])
    return out


def _macro(per_class: np.ndarray, nothing_to_score: str) -> float:
    if np.all(np.isnan(per_class)):
        raise ValueError(nothing_to_score)
    return float(np.nanmean(per_class))


def average_precision_per_class(y_true, scores) -> np.ndarray:
    """AP per class [C]; NaN where a class has no positive example."""
    return _per_class(y_true, scores, average_precision_score, lambda n_pos, n: n_pos > 0)


def mean_average_precision(y_true, scores) -> float:
    """Macro mAP over classes with at least one positive. `y_true`: multi-hot [N, C] or indices [N]."""
    return _macro(average_precision_per_class(y_true, scores), "mAP: no class has a positive example")


def auc_per_class(y_true, scores) -> np.ndarray:
    """ROC AUC per class [C]; NaN where a class has only positives or only negatives."""
    return _per_class(y_true, scores, roc_auc_score, lambda n_pos, n: (n_pos > 0) & (n_pos < n))


def auc_roc(y_true, scores) -> float:
    """Macro ROC AUC over classes that have both positives and negatives."""
    return _macro(auc_per_class(y_true, scores), "AUC: no class has both positive and negative examples")


def dprime(auc: float) -> float:
    """d' = sqrt(2) * Phi^-1(AUC); +-inf at AUC 1 or 0."""
    return float(math.sqrt(2.0) * norm.ppf(auc))


def hz_to_midi(hz) -> np.ndarray:
    """Frequency in Hz -> (fractional) MIDI note number; A4 = 440 Hz = 69."""
    return 69.0 + 12.0 * np.log2(_as_numpy(hz).astype(np.float64) / 440.0)


def pitch_accuracy(true_midi, pred_midi, tolerance_semitones: float = 0.0) -> float:
    """Fraction of predictions within `tolerance_semitones` of the true MIDI note
    (0 = the exact note, the NSynth/HEAR pitch-classification convention)."""
    true_midi = np.rint(_as_numpy(true_midi).astype(np.float64))
    pred_midi = np.rint(_as_numpy(pred_midi).astype(np.float64))
    return float(np.mean(np.abs(true_midi - pred_midi) <= tolerance_semitones + 1e-9))


def chroma_accuracy(true_midi, pred_midi) -> float:
    """Fraction of predictions with the right pitch class (octave errors forgiven)."""
    true_midi = np.rint(_as_numpy(true_midi)).astype(np.int64)
    pred_midi = np.rint(_as_numpy(pred_midi)).astype(np.int64)
    return float(np.mean((true_midi % 12) == (pred_midi % 12)))


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; 0.0 for a single value)."""
    values = np.asarray(list(values), dtype=np.float64)
    if values.size == 0:
        raise ValueError("mean_std: no values")
    if not np.all(np.isfinite(values)):  # e.g. d' = inf for a perfect fold
        return float(values.mean()), float("nan")
    std = float(values.std(ddof=1)) if values.size > 1 else 0.0
    return float(values.mean()), std


def summarise_folds(fold_results: Sequence[Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """[{metric: value} per fold] -> {metric: {"mean", "std", "n"}} over the folds that report it."""
    names = sorted({k for r in fold_results for k in r})
    out = {}
    for name in names:
        values = [r[name] for r in fold_results if name in r]
        mean, std = mean_std(values)
        out[name] = {"mean": mean, "std": std, "n": len(values)}
    return out


def format_mean_std(mean: float, std: float, scale: float = 100.0, digits: int = 1) -> str:
    """'87.3 ± 2.1' (scaled to percent by default)."""
    return f"{mean * scale:.{digits}f} ± {std * scale:.{digits}f}"
