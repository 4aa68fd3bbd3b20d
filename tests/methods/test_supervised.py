"""The supervised reference: the recipe's encoder trained with labels through the shared trainer
(cross-entropy, or BCE for multi-label tasks), one model per fold that never saw the fold's test
clips, probed like every self-supervised model; and its command."""

import csv
import json

import numpy as np
import pytest
import torch

from audiorep.builders import build_method
from audiorep.cli import main
from audiorep.config import load_config
from audiorep.data.sources import ArraySource
from audiorep.errors import ConfigError
from audiorep.eval.tasks.task import Task, folds_from_fold_ids
from audiorep.train.trainer import Trainer
from audiorep.workflows import supervised as workflow

RATE = 8000
TINY = ["encoder.width=4", "encoder.embedding_dim=16", f"data.sample_rate={RATE}", "frontend.n_mels=32",
        "data.clip_seconds=0.5", "train.batch_size=8", "train.warmup_steps=2", "train.log_every=1",
        "train.minutes=null", "train.checkpoint_every=1000"]


def supervised_config(n_classes=2, multilabel=False, extra=()):
    method = {"name": "supervised", "n_classes": n_classes, "multilabel": multilabel}
    return load_config(None, TINY + list(extra), base={"method": method})


def tones(n, seed=0, seconds=0.5):
    """n clips, class k a tone at 300 * 2.2^k Hz (k in 0..2) with jitter and noise, plus classes [n]."""
    rng = np.random.default_rng(seed)
    classes = np.arange(n) % 3
    t = np.arange(int(seconds * RATE)) / RATE
    freq = 300.0 * 2.2 ** classes[:, None] * (1 + 0.02 * rng.standard_normal((n, 1)))
    audio = 0.3 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal((n, len(t)))
    return audio.astype(np.float32), classes


def test_n_classes_comes_from_the_task_or_is_refused_with_the_reason():
    with pytest.raises(ConfigError, match="method.n_classes.*fills it from the task"):
        build_method(supervised_config(n_classes=0))
    with pytest.raises(ConfigError, match="label_smoothing"):
        build_method(supervised_config(extra=["method.label_smoothing=1.0"]))
    method = build_method(supervised_config(n_classes=5))
    assert method.head.out_features == 5 and method.batch_fields == ("audio", "label")
    assert not hasattr(method, "projector")  # every parameter is in the loss (DDP)
    assert [op["name"] for op in method.cfg.wave_augment] == ["gain", "noise"]  # the loader crops already


@pytest.mark.parametrize("multilabel,smoothing", [(True, 0.0), (True, 0.2), (False, 0.0), (False, 0.1)])
def test_the_loss_is_bce_for_multilabel_and_cross_entropy_otherwise_by_hand(multilabel, smoothing):
    torch.manual_seed(0)
    method = build_method(supervised_config(3, multilabel, ["method.wave_augment=[]", "method.spec_augment=[]",
                                                            f"method.label_smoothing={smoothing}"])).eval()
    audio = torch.from_numpy(tones(4)[0])
    labels = torch.tensor([[1, 0, 1], [0, 0, 0], [0, 1, 0], [1, 1, 1]], dtype=torch.float32) if multilabel \
        else torch.tensor([0, 2, 1, 2])
    out = method({"audio": audio, "label": labels})
    with torch.no_grad():
        z = method.head(method.embedder(audio)).double().numpy()
    if multilabel:
        y = labels.double().numpy() * (1 - smoothing) + smoothing / 2
        by_hand = np.mean(y * np.log1p(np.exp(-z)) + (1 - y) * np.log1p(np.exp(z)))
        assert set(out) == {"loss", "hamming_accuracy"}
        assert out["hamming_accuracy"].item() == pytest.approx(np.mean((z > 0) == (labels.numpy() > 0.5)))
    else:
        log_p = z - np.log(np.exp(z).sum(1, keepdims=True))
        target = np.full_like(z, smoothing / 3)
        target[np.arange(4), labels.numpy()] += 1 - smoothing
        by_hand = -np.mean((target * log_p).sum(1))
        assert out["accuracy"].item() == pytest.approx(np.mean(z.argmax(1) == labels.numpy()))
    assert out["loss"].item() == pytest.approx(by_hand, rel=1e-5)


def test_the_trainer_teaches_it_tone_classes_from_a_label_field(tmp_path):
    audio, classes = tones(48)
    source = ArraySource(audio, RATE, fields={"label": classes}, field_rates={"label": 0})
    cfg = supervised_config(3, extra=["train.steps=30", "train.lr=0.003", f"train.out_dir={tmp_path}"])
    trainer = Trainer(cfg, progress=False, source=source)
    trainer.fit()
    with open(tmp_path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    loss = [float(r["loss"]) for r in rows]
    assert np.mean(loss[-5:]) < 0.5 * np.mean(loss[:5])
    assert np.mean([float(r["accuracy"]) for r in rows[-5:]]) >= 0.9
    method = trainer.method.eval()
    with torch.no_grad():
        predicted = method.head(method.embedder(torch.from_numpy(audio))).argmax(1).numpy()
    assert np.mean(predicted == classes) >= 0.95


@pytest.mark.parametrize("multilabel", [False, True])
def test_one_model_per_fold_never_trained_on_its_test_clips(tmp_path, monkeypatch, multilabel):
    audio, classes = tones(36, seed=1)
    fold_ids = np.repeat([1, 2, 3], 12)
    if multilabel:  # tags: the tone's class, and "loud" for every other clip
        targets = np.zeros((36, 4), dtype=np.float32)
        targets[np.arange(36), classes] = 1
        targets[::2, 3] = 1
        audio[::2] *= 2
        names = ["low", "mid", "high", "loud"]
    else:
        targets, names = classes, ["low", "mid", "high"]
    task = Task("tones", [f"<tone {i}>" for i in range(36)], targets, names, folds_from_fold_ids(fold_ids),
                multilabel=multilabel, audio=audio, sample_rate=RATE).check()
    seen = []

    class Recording(Trainer):
        def __init__(self, cfg, *args, source=None, **kwargs):
            seen.append((cfg.method, sorted(r.meta["array_index"] for r in source.records)))
            super().__init__(cfg, *args, source=source, **kwargs)

    monkeypatch.setattr(workflow, "Trainer", Recording)
    cfg = load_config("simclr_demo", TINY)
    rows, runs = workflow.supervised_reference(cfg, task, tmp_path, steps=6, progress=False, probes=("linear",))
    assert len(seen) == len(runs) == 3
    for fold, (method, indices) in zip(task.folds, seen):
        assert method["name"] == "supervised" and method["n_classes"] == len(names)
        assert method["multilabel"] == multilabel
        assert not set(indices) & set(fold.test.tolist())
        assert indices == sorted(np.concatenate([fold.train, fold.valid]).tolist())
    assert {r["fold"] for r in runs} == {f.name for f in task.folds}
    assert all(r["steps"] == 6 and r["train_clips"] == 24 and r["test_clips"] == 12 for r in runs)
    assert len({r["checkpoint"] for r in runs}) == 3
    metric = "mAP" if multilabel else "accuracy"
    row = next(r for r in rows if r["metric"] == metric)
    assert row["model"] == "supervised" and row["probe"] == "linear" and row["task"] == "tones"
    assert row["n_folds"] == 3 and len(row["folds"]) == 3 and row["mean"] == pytest.approx(np.mean(row["folds"]))
    assert set(rows[0]) == {"task", "model", "probe", "metric", "mean", "std", "n_folds", "folds"}


def test_the_command_runs_end_to_end_on_the_synthetic_tasks(tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["supervised", "--config", "simclr_demo", "--task", "synthetic", "--synthetic-clips", "16", "8",
               "--steps", "3", "--out", str(out), "--quiet", "data.synthetic.clip_seconds=1.0",
               "method.label_smoothing=0.1", *[o for o in TINY if not o.startswith("train.minutes")]])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "| scene | supervised | linear | accuracy (%)" in printed and "| events | supervised |" in printed
    result = json.loads((out / "results.json").read_text())
    assert [(r["task"], r["steps"]) for r in result["runs"]] == [("scene", 3), ("events", 3)]
    assert (out / "results.md").is_file() and (out / "results.csv").is_file()
    trained = load_config(str(out / "scene" / "0-held_out" / "config.yaml"))
    assert trained.method["label_smoothing"] == 0.1 and trained.method["n_classes"] == 7
    assert trained.encoder["width"] == 4 and trained.train.online_probe.every_steps == 0
    assert main(["supervised", "--task", "synthetic", "method.n_classes=3"]) == 2
