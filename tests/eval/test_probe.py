import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from audiorep.eval import probe


def _blobs(n_per_class=40, n_classes=3, dim=8, seed=0, spread=1.0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, size=(n_classes, dim))
    y = np.repeat(np.arange(n_classes), n_per_class)
    x = centres[y] + rng.normal(0, spread, size=(len(y), dim))
    return x.astype(np.float32), y


def test_linear_probe_solves_the_same_problem_as_sklearn_logistic_regression():
    x, y = _blobs(spread=4.0)
    xt, yt = _blobs(seed=1, spread=4.0)
    wd = 1e-2
    ours = probe.run_linear_probe(x, y, xt, yt, multilabel=False, weight_decay=wd)
    scaler = StandardScaler().fit(x)
    ref = LogisticRegression(C=1.0 / (wd * len(x)), max_iter=5000, tol=1e-10).fit(scaler.transform(x), y)
    ref_probs = ref.predict_proba(scaler.transform(xt))
    np.testing.assert_allclose(ours.scores, ref_probs, atol=2e-3)
    assert ours.metrics["accuracy"] == pytest.approx(np.mean(ref_probs.argmax(1) == yt))


def test_standardisation_uses_train_statistics_only():
    train = torch.tensor([[0.0, 10.0], [2.0, 10.0]])
    s = probe.Standardiser(train)
    out = s(torch.tensor([[1.0, 10.0], [3.0, 12.0]]))
    # mean (1, 10), std (1, 0 -> 1): the test rows never influence the statistics
    np.testing.assert_allclose(out.numpy(), [[0.0, 0.0], [2.0, 2.0]])


def test_linear_probe_accepts_string_labels_and_scores_unseen_test_classes_as_wrong():
    x, y = _blobs(n_classes=2)
    names = np.array(["cat", "dog"])[y]
    test_names = names.copy()
    test_names[:5] = "bird"  # a class absent from training can never be predicted
    out = probe.linear_probe(x, names, x, test_names, multilabel=False)
    assert out["accuracy"] == pytest.approx(1.0 - 5 / len(y))


def test_multilabel_probe_uses_independent_sigmoids_not_softmax():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6)).astype(np.float32)
    y = np.stack([x[:, 0] > 0, x[:, 1] > 0, x[:, 0] > 0], axis=1).astype(np.float32)
    out = probe.run_linear_probe(x[:200], y[:200], x[200:], y[200:], multilabel=True)
    # classes 0 and 2 are both present on the same clips: a softmax would cap their sum at 1
    both = out.scores[y[200:, 0] == 1][:, [0, 2]].sum(1)
    assert np.mean(both > 1.5) > 0.8
    assert set(out.metrics) == {"mAP", "auc", "dprime"}
    assert out.metrics["mAP"] > 0.9
    assert probe.linear_probe(x[:200], y[:200], x[200:], y[200:], multilabel=True).keys() == out.metrics.keys()


def test_mlp_probe_selects_on_validation_and_learns_a_nonlinear_task():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 2)).astype(np.float32)
    y = ((x[:, 0] * x[:, 1]) > 0).astype(int)  # XOR: no linear probe can do this
    lin = probe.run_linear_probe(x[:400], y[:400], x[500:], y[500:], multilabel=False)
    mlp = probe.mlp_probe(
        x[:400], y[:400], x[400:500], y[400:500], x[500:], y[500:], multilabel=False,
        grid={"hidden": (32,), "lr": (1e-2, 1e-5)}, max_epochs=60, patience=10,
    )
    assert lin.metrics["accuracy"] < 0.7
    assert mlp.metrics["accuracy"] > 0.9
    assert mlp.params["lr"] == 1e-2  # the tiny learning rate loses on validation
    assert mlp.params["epochs"] <= 60
