"""`audiorep evaluate` on tasks holding unusable clips: every bad clip is skipped and listed with
its cause, the task is scored on the clips left, and only a run with nothing left to score fails.
Every file is written at test time."""

import csv
import json
import re

import numpy as np
import pytest
import soundfile as sf
import torch

from audiorep.cli import main
from audiorep.errors import AudiorepError
from audiorep.eval.embedding_cache import NOT_FINITE, EmbeddingCache
from audiorep.eval.evaluate import evaluate, evaluate_embeddings
from audiorep.eval.tasks import load_task

RATE = 8000
PITCH = {"low": 300.0, "high": 1200.0}


def _tone(hz: float, take: int, amp: float = 0.3) -> np.ndarray:
    t = np.arange(RATE // 4) / RATE
    noise = 0.01 * np.random.default_rng(take).standard_normal(t.size)
    return (amp * np.sin(2 * np.pi * hz * (1 + 0.01 * take) * t) + noise).astype(np.float32)


def _write_bad(folder) -> dict[str, str]:
    """{file name: regex its cause must match}; missing.wav is named in the manifest only."""
    (folder / "empty.wav").write_bytes(b"")
    (folder / "random_bytes.wav").write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    (folder / "a_folder.wav").mkdir()
    sf.write(folder / "all_nan.wav", np.full(RATE // 4, np.nan, dtype=np.float32), RATE, subtype="FLOAT")
    # finite but absurd: refused by the loader, or (before it checks amplitude) an embedding that is not finite
    sf.write(folder / "huge_1e30.wav", _tone(300.0, 0) * np.float32(1e30), RATE, subtype="FLOAT")
    return {"empty.wav": "empty", "random_bytes.wav": "unreadable|corrupt", "a_folder.wav": "directory",
            "missing.wav": "does not exist", "all_nan.wav": "NaN", "huge_1e30.wav": f"amplitude|{NOT_FINITE}"}


def _manifest(folder, bad: dict[str, str] | None = None, good_classes=("low", "high"), n_good: int = 8,
              name: str = "manifest.csv"):
    """2 classes x `n_good` tones in 4 folds, then the bad files spread over folds and classes."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["path,label,fold"]
    for label in good_classes:
        for take in range(n_good):
            sf.write(folder / f"{label}_{take}.wav", _tone(PITCH[label], take), RATE)
            rows.append(f"{label}_{take}.wav,{label},{take % 4 + 1}")
    for k, file in enumerate(bad or {}):
        rows.append(f"{file},{('low', 'high')[k % 2]},{k % 4 + 1}")
    path = folder / name
    path.write_text("\n".join(rows) + "\n")
    return path


def _run(csvs, out, *extra):
    args = ["evaluate", "--baseline", "logmel", "--out", str(out), "--quiet", "--no-plots", *extra]
    for c in csvs:
        args += ["--task", str(c)]
    return main(args)


def _skipped_csv(out) -> list[dict]:
    with open(out / "skipped.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_bad_clips_are_skipped_listed_with_their_cause_and_the_task_is_scored_on_the_rest(tmp_path, capsys):
    folder = tmp_path / "tones"
    folder.mkdir()
    bad = _write_bad(folder)
    task_csv = _manifest(folder, bad)
    out = tmp_path / "out"
    assert _run([task_csv], out) == 0
    printed = capsys.readouterr().out
    report = json.loads((out / "results.json").read_text())

    acc = [r for r in report["results"] if r["metric"] == "accuracy"]
    assert len(acc) == 1 and np.isfinite(acc[0]["folds"]).all() and len(acc[0]["folds"]) == 4
    assert acc[0]["mean"] > 0.9 and acc[0]["clips_skipped"] == len(bad)
    assert report["tasks"][0]["n_clips"] == 16 + len(bad) and report["tasks"][0]["clips_skipped"] == {"logmel": len(bad)}
    assert report["not_evaluated"] == []

    listed = {c["path"]: c["cause"] for c in report["skipped_clips"]}
    assert set(listed) == {str(folder / f) for f in bad}  # exactly the bad files, no good one
    for file, cause in bad.items():
        assert re.search(cause, listed[str(folder / file)], re.I), (file, listed[str(folder / file)])
    assert {(r["task"], r["model"], r["path"], r["cause"]) for r in _skipped_csv(out)} == \
        {("tones", "logmel", p, c) for p, c in listed.items()}
    assert f"{len(bad)} clips skipped" in (out / "results.md").read_text()
    assert f"{len(bad)} clips skipped" in printed and "skipped.csv" in printed

    # a second run reads the cache and still knows which clips were bad, and why
    assert _run([task_csv], out) == 0
    again = json.loads((out / "results.json").read_text())
    assert again["skipped_clips"] == report["skipped_clips"]
    assert [r["folds"] for r in again["results"]] == [r["folds"] for r in report["results"]]

    # a repaired file is picked up from the cache without --no-cache
    sf.write(folder / "empty.wav", _tone(PITCH["low"], 99), RATE)
    assert _run([task_csv], out) == 0
    repaired = json.loads((out / "results.json").read_text())
    assert str(folder / "empty.wav") not in {c["path"] for c in repaired["skipped_clips"]}
    assert len(repaired["skipped_clips"]) == len(bad) - 1


def test_a_task_with_no_usable_clip_fails_with_a_message_naming_it(tmp_path, capsys):
    folder = tmp_path / "all_bad"
    folder.mkdir()
    bad = _write_bad(folder)
    assert _run([_manifest(folder, bad, good_classes=())], tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "no task could be evaluated" in err and "all_bad" in err and "no usable clip left" in err
    assert len(_skipped_csv(tmp_path / "out")) == len(bad)  # the list is written all the same


def test_a_task_left_single_class_is_reported_not_scored_while_the_others_are(tmp_path, capsys):
    good = _manifest(tmp_path / "good", name="good.csv")
    folder = tmp_path / "lopsided"
    folder.mkdir()
    bad = _write_bad(folder)
    # every 'high' clip is unusable: no fold has two classes to train on
    lopsided = _manifest(folder, {f: c for f, c in bad.items()}, good_classes=("low",), name="lopsided.csv")
    out = tmp_path / "out"
    assert _run([good, lopsided], out) == 0
    report = json.loads((out / "results.json").read_text())
    assert {r["task"] for r in report["results"]} == {"good"}
    [why] = report["not_evaluated"]
    assert why["task"] == "lopsided" and "single class" in why["reason"] and "'low'" in why["reason"]
    text = capsys.readouterr().out + (out / "results.md").read_text()
    assert "Not evaluated" in text and "lopsided" in text


def test_folds_stay_leakage_free_when_clips_are_dropped(tmp_path):
    task_csv = _manifest(tmp_path / "t")
    lines = task_csv.read_text().splitlines()
    task_csv.write_text("\n".join([lines[0] + ",group"] + [f"{line},{line.split(',')[1]}{line.split(',')[2]}"
                                                  for line in lines[1:]]))
    task = load_task(str(task_csv))
    keep = np.array([i for i in range(len(task.paths)) if i % 3])
    sub = task.subset(keep)
    assert sub.paths == [task.paths[i] for i in keep] and list(sub.targets) == list(task.targets[keep])
    sub.check()  # no clip, no group on two sides
    for before, after in zip(task.folds, sub.folds):
        for side in ("train", "valid", "test"):
            kept = [task.paths[i] for i in getattr(before, side) if i in set(keep)]
            assert [sub.paths[i] for i in getattr(after, side)] == kept


class _LoudIsNaN(torch.nn.Module):
    """An embedder whose embedding of a loud clip is NaN (as a diverged or overflowing model's would be)."""

    sample_rate = 16000
    embedding_size = 2

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(1))

    def forward(self, wave):
        peak = wave.abs().amax(dim=1)
        x = torch.stack([peak, torch.fft.rfft(wave).abs().argmax(dim=1).float()], dim=1) * self.scale
        return torch.where((peak > 0.5)[:, None], torch.full_like(x, float("nan")), x)


def test_a_clip_whose_embedding_is_not_finite_is_skipped_never_probed(tmp_path):
    folder = tmp_path / "t"
    task_csv = _manifest(folder)
    sf.write(folder / "loud.wav", _tone(PITCH["high"], 50, amp=0.9), RATE)
    with open(task_csv, "a") as fh:
        fh.write("loud.wav,high,1\n")
    task = load_task(str(task_csv))
    rows = evaluate({"nan": _LoudIsNaN()}, [task], plots=False, progress=False, log=lambda _: None)
    assert rows.skipped_clips == [{"task": "t", "model": "nan", "path": str(folder / "loud.wav"), "cause": NOT_FINITE}]
    assert all(np.isfinite(r["folds"]).all() for r in rows)
    # and a caller handing NaN embeddings straight to the probe path gets an error, not a score
    x = EmbeddingCache(None, progress=False).usable(_LoudIsNaN(), task)[0]
    with pytest.raises(AudiorepError, match=r"1 clip\(s\) are not finite \(first: .*loud\.wav\)"):
        evaluate_embeddings(x, task, "nan")


def test_the_online_probe_reports_nan_for_a_diverged_encoder():
    from audiorep.eval.online_probe import OnlineProbe

    probe = OnlineProbe(torch.randn(20, 800), np.repeat([0, 1], 10))
    assert np.isnan(probe.run(lambda wave: torch.full((wave.shape[0], 4), float("nan")))["probe_accuracy"])


def test_log_mel_features_of_a_finite_but_absurd_clip_are_caught_before_the_probe():
    """1e30 samples that reach the embedder (here in memory, past any loader check) give inf/NaN
    log-mel statistics; that clip is skipped, where L-BFGS used to fail on overflow."""
    from audiorep.builders import build_baseline
    from audiorep.eval.tasks.task import Task, folds_from_fold_ids

    clips = [_tone(PITCH[label], take) for label in ("low", "high") for take in range(8)]
    labels = [label for label in ("low", "high") for _ in range(8)]
    clips.append(_tone(PITCH["high"], 9) * np.float32(1e30))
    labels.append("high")
    fold_ids = [k % 4 + 1 for k in range(len(clips))]
    task = Task("absurd", [f"<clip {i}>" for i in range(len(clips))], np.array([l == "high" for l in labels], int),
                ["low", "high"], folds_from_fold_ids(fold_ids), audio=np.stack(clips), sample_rate=RATE).check()
    rows = evaluate({"logmel": build_baseline("logmel")}, [task], plots=False, progress=False, log=lambda _: None)
    assert [(c["path"], c["cause"]) for c in rows.skipped_clips] == [("<clip 16>", NOT_FINITE)]
    assert rows[0]["clips_skipped"] == 1 and np.isfinite(rows[0]["folds"]).all() and rows[0]["mean"] > 0.9
