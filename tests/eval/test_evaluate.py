import csv
import json

import numpy as np
import pytest

from audiorep.builders import build_baseline
from audiorep.cli import main
from audiorep.eval.embedding_cache import EmbeddingCache, model_fingerprint
from audiorep.eval.evaluate import evaluate_embeddings
from audiorep.eval.tasks import load_task


def test_evaluate_command_on_fsdd_layout_writes_tables_and_plots(tiny_fsdd, random_checkpoint, tmp_path, capsys):
    out = tmp_path / "results"
    args = ["evaluate", "--model", f"rnd={random_checkpoint}", "--baseline", "logmel", "--task", f"fsdd={tiny_fsdd}",
            "--out", str(out), "--quiet"]
    assert main(args) == 0
    rows = json.loads((out / "results.json").read_text())["results"]
    acc = {(r["task"], r["model"]): r for r in rows if r["metric"] == "accuracy"}
    assert set(acc) == {(t, m) for t in ("fsdd_digit", "fsdd_speaker") for m in ("rnd", "logmel")}
    assert acc[("fsdd_digit", "logmel")]["n_folds"] == 3  # leave one speaker out: 3 speakers
    assert acc[("fsdd_digit", "logmel")]["mean"] > 0.9 and acc[("fsdd_speaker", "logmel")]["mean"] > 0.9
    assert len(acc[("fsdd_speaker", "rnd")]["folds"]) == 5
    assert "| fsdd_digit | logmel | linear | accuracy (%) |" in (out / "results.md").read_text()
    with open(out / "results.csv") as fh:
        assert len(list(csv.DictReader(fh))) == len(rows)
    for stem in ("fsdd_digit-logmel", "fsdd_speaker-rnd"):
        for kind in ("confusion", "map"):
            assert (out / f"{stem}-{kind}.png").read_bytes()[:4] == b"\x89PNG"
    assert "fsdd_digit | logmel" in capsys.readouterr().out
    # a second run reuses the cached embeddings; digits and speakers share their clips' embeddings
    cached = sorted((out / "embedding_cache").glob("*.npy"))
    assert len(cached) == 2
    mtimes = [p.stat().st_mtime_ns for p in cached]
    assert main(args + ["--no-plots"]) == 0
    assert [p.stat().st_mtime_ns for p in cached] == mtimes


def test_cache_key_changes_with_model_weights_task_and_clip_length(tiny_fsdd, tmp_path):
    task = load_task(f"fsdd_digit={tiny_fsdd}")
    a, b = build_baseline("logmel"), build_baseline("logmel")
    cache = EmbeddingCache(tmp_path, progress=False)
    assert model_fingerprint(a) == model_fingerprint(b)
    k1 = cache.key(a, task)
    task.clip_seconds = 0.5
    assert cache.key(a, task) != k1
    rnd0, rnd1 = build_baseline("random", seed=0), build_baseline("random", seed=1)
    assert model_fingerprint(rnd0) != model_fingerprint(rnd1)
    x = cache.get(a, task)
    assert x.shape == (45, 128) and cache.misses == 1
    assert np.array_equal(cache.get(a, task), x) and cache.hits == 1


def test_pitch_tasks_report_pitch_and_chroma_accuracy(tiny_fsdd):
    task = load_task(f"fsdd_digit={tiny_fsdd}")
    task.class_names = ["60", "67", "72"]  # pretend the digits are notes
    task.pitch_task = True
    x = np.eye(3)[task.targets] + 0.01 * np.random.default_rng(0).standard_normal((45, 3))
    rows, _ = evaluate_embeddings(x, task, "oracle")
    metrics = {r["metric"]: r["mean"] for r in rows}
    assert metrics["pitch_accuracy"] == metrics["accuracy"] == 1.0 and metrics["chroma_accuracy"] == 1.0


def test_multilabel_tasks_are_scored_with_map_never_accuracy(tmp_path):
    rng = np.random.default_rng(0)
    lines = ["path,label,fold"]
    y = rng.random((60, 3)) < 0.4
    y[:, 0] |= ~y.any(1)
    names = np.array(["a", "b", "c"])
    lines += [f"x{i}.wav,{';'.join(names[y[i]])},{i % 3 + 1}" for i in range(60)]
    (tmp_path / "m.csv").write_text("\n".join(lines))
    task = load_task(str(tmp_path / "m.csv"))
    x = y.astype(np.float32) * 2 + 0.3 * rng.standard_normal((60, 3))
    rows, _ = evaluate_embeddings(x, task, "oracle", probes=("linear", "mlp"), mlp_grid={"hidden": (16,), "lr": (1e-2,)},
                                  mlp_max_epochs=30)
    by = {(r["probe"], r["metric"]): r["mean"] for r in rows}
    assert set(by) == {(p, m) for p in ("linear", "mlp") for m in ("mAP", "auc", "dprime")}
    assert by[("linear", "mAP")] > 0.9


def test_evaluate_errors_name_the_problem(tmp_path, capsys):
    assert main(["evaluate", "--baseline", "logmel", "--task", f"esc50={tmp_path}", "--out", str(tmp_path)]) == 2
    assert "meta/esc50.csv not found" in capsys.readouterr().err
    assert main(["evaluate", "--task", "x.csv", "--out", str(tmp_path)]) == 2


@pytest.mark.parametrize("setting", ["frontend.hop_ms=12.5", "frontend.win_ms=32", "frontend.f_min=125",
                                     "frontend.f_max=7000"])
def test_embedders_that_differ_in_one_front_end_setting_get_two_cache_keys(tiny_fsdd, tmp_path, setting):
    from audiorep.builders import build_embedder
    from audiorep.config import load_config

    task = load_task(f"fsdd_digit={tiny_fsdd}")
    a = build_embedder(load_config("simclr_demo"))
    b = build_embedder(load_config("simclr_demo", [setting]))
    b.load_state_dict(a.state_dict())  # the same weights: only the front-end differs
    cache = EmbeddingCache(tmp_path, progress=False)
    assert cache.key(a, task) != cache.key(b, task)


def test_pitch_and_chroma_accuracy_of_real_log_mel_features_on_harmonic_tones(tmp_path, write_audio):
    """Not oracle features: log-mel statistics of harmonic tones, a semitone apart over an
    octave, probed like any task. An octave error counts for chroma, not for pitch."""
    rng = np.random.default_rng(0)
    t = np.arange(8000) / 16000
    rows = ["path,label,fold"]
    for midi in range(57, 69):
        f0 = 440.0 * 2 ** ((midi - 69) / 12)
        for take in range(8):
            wave = sum(np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6)) / k for k in range(1, 6))
            wave = (rng.uniform(0.05, 0.3) * wave + 0.002 * rng.standard_normal(t.size)).astype(np.float32)
            write_audio(f"tones/{midi}_{take}.wav", wave)
            rows.append(f"{midi}_{take}.wav,{midi},{take % 4 + 1}")
    (tmp_path / "tones" / "manifest.csv").write_text("\n".join(rows) + "\n")
    task = load_task(str(tmp_path / "tones" / "manifest.csv"))
    task.pitch_task = True
    rows, _ = evaluate_embeddings(EmbeddingCache(None, progress=False).get(build_baseline("logmel"), task), task, "logmel")
    scores = {r["metric"]: r["mean"] for r in rows}
    assert scores["pitch_accuracy"] == scores["accuracy"] > 0.8
    assert scores["chroma_accuracy"] >= scores["pitch_accuracy"]
