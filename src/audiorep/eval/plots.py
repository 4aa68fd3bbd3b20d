"""PNG figures of an evaluation: a confusion matrix of the probe's test predictions, and a
2-D map of the embeddings (PCA of standardised features, or t-SNE) coloured by label."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.metrics import confusion_matrix  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


def plot_confusion_matrix(y_true, y_pred, class_names: list[str], path, title: str = "") -> Path:
    """Row-normalised confusion matrix (rows: true class, each row sums to 1)."""
    labels = np.arange(len(class_names))
    cm = confusion_matrix(y_true, y_pred, labels=labels).astype(np.float64)
    cm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    size = min(4 + 0.35 * len(class_names), 20)
    fig, ax = plt.subplots(figsize=(size, size))
    im = ax.imshow(cm, vmin=0, vmax=1, cmap="Blues")
    ax.set_xticks(labels, class_names, rotation=90)
    ax.set_yticks(labels, class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if len(class_names) <= 20:
        for i in labels:
            for j in labels:
                ax.text(j, i, f"{cm[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if cm[i, j] > 0.5 else "black")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def embedding_map(x: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """[N, D] -> [N, 2] after standardisation."""
    z = StandardScaler().fit_transform(x)
    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(z)
    if method == "tsne":
        from sklearn.manifold import TSNE

        return TSNE(n_components=2, init="pca", random_state=seed, perplexity=min(30.0, (len(x) - 1) / 3)).fit_transform(z)
    raise ValueError(f"map method must be 'pca' or 'tsne', got {method!r}")


def plot_embedding_map(x: np.ndarray, labels: np.ndarray, class_names: list[str], path, title: str = "",
                       method: str = "pca", seed: int = 0) -> Path:
    xy = embedding_map(x, method, seed)
    fig, ax = plt.subplots(figsize=(7, 6))
    cmap = plt.get_cmap("tab20" if len(class_names) > 10 else "tab10")
    for c, name in enumerate(class_names):
        sel = labels == c
        if sel.any():
            ax.scatter(xy[sel, 0], xy[sel, 1], s=6, alpha=0.7, color=cmap(c % cmap.N), label=name)
    if len(class_names) <= 20:
        ax.legend(markerscale=2, fontsize=7, loc="best")
    ax.set_title(title or f"embeddings ({method.upper()})")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def plot_scores(summary: dict, path, subtitle: str = "held-out clips") -> Path:
    """One panel per task: a bar per model of the task's primary score (from `report.summarise`)."""
    tasks = list(summary)
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.4), squeeze=False)
    colours = ["#2b7bba", "#aaaaaa", "#e08a3c"] + [plt.get_cmap("tab10")(i) for i in range(10)]
    for ax, task in zip(axes[0], tasks):
        scores = summary[task]["models"]
        bars = ax.bar(list(scores), list(scores.values()), color=colours[: len(scores)])
        ax.bar_label(bars, fmt="%.3f")
        ax.set_ylim(0, 1)
        ax.set_title(f"{task} ({summary[task]['metric']}, {subtitle})")
        ax.tick_params(axis="x", labelrotation=30 if len(scores) > 3 else 0)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
