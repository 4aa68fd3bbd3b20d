"""Shallow probes on frozen embeddings: the protocol every representation is judged by.

- Features are standardised with the mean and std of the *training* split only.
- Multi-class tasks: softmax + cross-entropy; the prediction is the arg-max class.
- Multi-label tasks: one sigmoid + binary cross-entropy per class, never a softmax (a softmax
  makes classes compete, which is wrong when several are present at once).
- `linear_probe`: an L2-regularised linear classifier trained full-batch with L-BFGS to
  convergence; with the same penalty it solves scikit-learn's LogisticRegression problem
  (C = 1 / (weight_decay * n_train)), which the tests check.
- `mlp_probe`: one hidden layer (ReLU, dropout), Adam on mini-batches, early stopping on the
  validation metric, and a small grid over hidden size and learning rate chosen on the
  validation split (the HEAR-style protocol). The test split is scored once, with the model
  chosen on validation.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from audiorep.eval import metrics

DEFAULT_MLP_GRID = {"hidden": (256, 1024), "lr": (1e-3, 1e-4)}


@dataclass
class ProbeOutput:
    """Metrics on the test split, the test scores [N, C] (probabilities) and the choices made."""

    metrics: dict[str, float]
    scores: np.ndarray
    params: dict = field(default_factory=dict)


class Standardiser:
    """Per-feature (x - mean) / std with statistics from the training split only."""

    def __init__(self, train_x: torch.Tensor, eps: float = 1e-8):
        self.mean = train_x.mean(dim=0, keepdim=True)
        std = train_x.std(dim=0, unbiased=False, keepdim=True)
        self.std = torch.where(std > eps, std, torch.ones_like(std))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def encode_labels(train_y, test_y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Any hashable labels -> class indices over the union of both splits (sorted names)."""
    train_y, test_y = np.asarray(train_y), np.asarray(test_y)
    classes, inverse = np.unique(np.concatenate([train_y, test_y]), return_inverse=True)
    return inverse[: len(train_y)], inverse[len(train_y) :], classes


def _float_tensor(x) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu", torch.float32)
    return torch.as_tensor(np.asarray(x), dtype=torch.float32)


def _loss_fn(multilabel: bool):
    return nn.BCEWithLogitsLoss() if multilabel else nn.CrossEntropyLoss()


def _targets(y, multilabel: bool) -> torch.Tensor:
    y = y if isinstance(y, torch.Tensor) else torch.as_tensor(np.asarray(y))
    return y.float() if multilabel else y.long()


def _probabilities(logits: torch.Tensor, multilabel: bool) -> np.ndarray:
    probs = torch.sigmoid(logits) if multilabel else torch.softmax(logits, dim=1)
    return probs.detach().cpu().numpy()


def score_predictions(y_true, scores: np.ndarray, multilabel: bool) -> dict[str, float]:
    """The task metrics from probabilities: accuracy (multi-class) or mAP, AUC, d' (multi-label)."""
    if not multilabel:
        return {"accuracy": metrics.accuracy(y_true, scores)}
    auc = metrics.auc_roc(y_true, scores)
    return {"mAP": metrics.mean_average_precision(y_true, scores), "auc": auc, "dprime": metrics.dprime(auc)}


def fit_linear(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    n_classes: int,
    multilabel: bool,
    weight_decay: float = 1e-4,
    max_iter: int = 500,
    seed: int = 0,
) -> nn.Linear:
    """Minimise mean loss + weight_decay/2 * ||W||^2 (bias unpenalised) with full-batch L-BFGS."""
    torch.manual_seed(seed)
    layer = nn.Linear(train_x.shape[1], n_classes)
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    loss_fn = _loss_fn(multilabel)
    opt = torch.optim.LBFGS(
        layer.parameters(), lr=1.0, max_iter=max_iter, tolerance_grad=1e-6, tolerance_change=1e-9,
        history_size=20, line_search_fn="strong_wolfe",
    )

    def closure():
        opt.zero_grad()
        loss = loss_fn(layer(train_x), train_y) + 0.5 * weight_decay * layer.weight.square().sum()
        loss.backward()
        return loss

    opt.step(closure)
    return layer


def run_linear_probe(
    train_x, train_y, test_x, test_y, multilabel: bool, n_classes: int | None = None,
    weight_decay: float = 1e-4, seed: int = 0,
) -> ProbeOutput:
    """Linear probe on integer class indices [N] (or multi-hot [N, C]); returns metrics and scores."""
    train_x, test_x = _float_tensor(train_x), _float_tensor(test_x)
    standardise = Standardiser(train_x)
    ytr = _targets(train_y, multilabel)
    if n_classes is None:
        n_classes = ytr.shape[1] if multilabel else int(max(int(ytr.max()), int(np.max(test_y))) + 1)
    layer = fit_linear(standardise(train_x), ytr, n_classes, multilabel, weight_decay=weight_decay, seed=seed)
    with torch.no_grad():
        scores = _probabilities(layer(standardise(test_x)), multilabel)
    return ProbeOutput(score_predictions(np.asarray(test_y), scores, multilabel), scores, {"weight_decay": weight_decay})


def linear_probe(train_X, train_y, test_X, test_y, multilabel: bool, seed: int = 0) -> dict:
    """Standardise on train, fit a linear classifier, score the test split.

    Multi-class labels may be any hashable values; multi-label targets are multi-hot [N, C].
    Returns {"accuracy": ...} or {"mAP": ..., "auc": ..., "dprime": ...}.
    """
    if multilabel:
        return run_linear_probe(train_X, train_y, test_X, test_y, True, seed=seed).metrics
    tr, te, classes = encode_labels(train_y, test_y)
    return run_linear_probe(train_X, tr, test_X, te, False, n_classes=len(classes), seed=seed).metrics


class MLPHead(nn.Module):
    """Linear -> ReLU -> dropout -> linear: the one-hidden-layer probe."""

    def __init__(self, in_dim: int, hidden: int, n_classes: int, dropout: float = 0.1):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, n_classes))

    def forward(self, x):
        return self.net(x)


def _validation_score(model, x, y_true, multilabel: bool) -> float:
    model.eval()
    with torch.no_grad():
        scores = _probabilities(model(x), multilabel)
    model.train()
    m = score_predictions(y_true, scores, multilabel)
    return m["mAP"] if multilabel else m["accuracy"]


def train_mlp(
    train_x, train_y, valid_x, valid_y_np, n_classes: int, multilabel: bool, hidden: int, lr: float,
    max_epochs: int = 200, patience: int = 20, batch_size: int = 512, weight_decay: float = 0.0, seed: int = 0,
) -> tuple[MLPHead, float, int]:
    """Adam on shuffled mini-batches; keeps the weights of the best validation epoch and stops
    after `patience` epochs without improvement. Returns (model, best score, best epoch)."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = MLPHead(train_x.shape[1], hidden, n_classes)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = _loss_fn(multilabel)
    best, best_epoch, best_state = -np.inf, -1, None
    n = train_x.shape[0]
    for epoch in range(max_epochs):
        order = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            opt.zero_grad()
            loss_fn(model(train_x[idx]), train_y[idx]).backward()
            opt.step()
        score = _validation_score(model, valid_x, valid_y_np, multilabel)
        if score > best:
            best, best_epoch = score, epoch
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        elif epoch - best_epoch >= patience:
            break
    model.load_state_dict(best_state)
    model.eval()
    return model, float(best), best_epoch


def mlp_probe(
    train_x, train_y, valid_x, valid_y, test_x, test_y, multilabel: bool, n_classes: int | None = None,
    grid: dict[str, Sequence] | None = None, max_epochs: int = 200, patience: int = 20, seed: int = 0,
) -> ProbeOutput:
    """Grid search on validation (hidden size x learning rate), early stopping, test scored once."""
    grid = grid or DEFAULT_MLP_GRID
    train_x, valid_x, test_x = _float_tensor(train_x), _float_tensor(valid_x), _float_tensor(test_x)
    standardise = Standardiser(train_x)
    train_x, valid_x, test_x = standardise(train_x), standardise(valid_x), standardise(test_x)
    ytr = _targets(train_y, multilabel)
    if n_classes is None:
        n_classes = ytr.shape[1] if multilabel else int(max(int(ytr.max()), int(np.max(valid_y)), int(np.max(test_y))) + 1)
    valid_y = np.asarray(valid_y)
    best = None
    for hidden, lr in itertools.product(grid["hidden"], grid["lr"]):
        model, score, epoch = train_mlp(
            train_x, ytr, valid_x, valid_y, n_classes, multilabel, hidden, lr,
            max_epochs=max_epochs, patience=patience, seed=seed,
        )
        if best is None or score > best[1]:
            best = (model, score, {"hidden": hidden, "lr": lr, "epochs": epoch + 1, "valid_score": score})
    model, _, params = best
    with torch.no_grad():
        scores = _probabilities(model(test_x), multilabel)
    return ProbeOutput(score_predictions(np.asarray(test_y), scores, multilabel), scores, params)
