import math

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from audiorep.eval import metrics


def test_accuracy_hand_worked_from_labels_and_scores():
    assert metrics.accuracy([0, 1, 2, 2], [0, 1, 1, 2]) == 0.75
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    assert metrics.accuracy([0, 1, 1], scores) == pytest.approx(2 / 3)


def test_average_precision_hand_worked():
    # one class; ranking by score: pos(0.9), neg(0.8), pos(0.7), neg(0.1)
    # precision at the positives: 1/1 and 2/3 -> AP = (1 + 2/3) / 2
    y = np.array([[1], [0], [1], [0]])
    s = np.array([[0.9], [0.8], [0.7], [0.1]])
    assert metrics.mean_average_precision(y, s) == pytest.approx((1 + 2 / 3) / 2)


def test_auc_hand_worked_and_dprime():
    # pairs (pos, neg): 0.9>0.8, 0.9>0.1, 0.7<0.8, 0.7>0.1 -> 3/4
    y = np.array([[1], [0], [1], [0]])
    s = np.array([[0.9], [0.8], [0.7], [0.1]])
    assert metrics.auc_roc(y, s) == pytest.approx(0.75)
    assert metrics.dprime(0.5) == pytest.approx(0.0)
    # d' = sqrt(2) * Phi^-1(0.75), Phi^-1(0.75) = 0.6744897...
    assert metrics.dprime(0.75) == pytest.approx(math.sqrt(2) * 0.6744897501960817)
    assert metrics.dprime(1.0) == math.inf


def test_map_and_auc_match_sklearn_macro_and_skip_classes_without_positives():
    rng = np.random.default_rng(0)
    y = (rng.random((60, 5)) < 0.3).astype(int)
    y[:, 4] = 0  # no positive: must be left out, not counted as 0
    s = rng.random((60, 5)) + 0.5 * y
    expected_ap = np.mean([average_precision_score(y[:, c], s[:, c]) for c in range(4)])
    expected_auc = roc_auc_score(y[:, :4], s[:, :4], average="macro")
    assert metrics.mean_average_precision(y, s) == pytest.approx(expected_ap)
    assert metrics.auc_roc(y, s) == pytest.approx(expected_auc)
    assert np.isnan(metrics.average_precision_per_class(y, s)[4])


def test_map_accepts_class_indices_for_multiclass_scores():
    y = np.array([0, 1, 2, 1])
    s = np.eye(3)[[0, 1, 2, 1]] * 0.9 + 0.05
    assert metrics.mean_average_precision(y, s) == pytest.approx(1.0)


def test_pitch_and_chroma_accuracy():
    assert metrics.hz_to_midi(440.0) == pytest.approx(69.0)
    assert metrics.hz_to_midi(261.6256) == pytest.approx(60.0, abs=1e-3)
    true, pred = [60, 62, 64, 65], [60, 74, 63, 65]
    assert metrics.pitch_accuracy(true, pred) == 0.5
    assert metrics.pitch_accuracy(true, pred, tolerance_semitones=1) == 0.75
    assert metrics.chroma_accuracy(true, pred) == 0.75  # 74 is 62 an octave up


def test_mean_std_over_folds_uses_sample_std():
    mean, std = metrics.mean_std([0.8, 0.9, 1.0])
    assert mean == pytest.approx(0.9)
    assert std == pytest.approx(0.1)
    assert metrics.mean_std([0.5]) == (0.5, 0.0)
    summary = metrics.summarise_folds([{"accuracy": 0.5}, {"accuracy": 0.7}])
    assert summary["accuracy"]["mean"] == pytest.approx(0.6)
    assert summary["accuracy"]["n"] == 2
    assert metrics.format_mean_std(0.6, 0.1414) == "60.0 ± 14.1"
