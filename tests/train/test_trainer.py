"""The training loop: the loss falls, a killed run resumes exactly, bad files are skipped."""

import csv

import numpy as np
import pytest
import torch

from audiorep.builders import load_embedder
from audiorep.config import load_config
from audiorep.data.sources import ArraySource, ManifestSource
from audiorep.errors import ConfigError
from audiorep.methods.simclr import SimCLR
from audiorep.train.trainer import Trainer

TINY = ["encoder.width=4", "encoder.embedding_dim=16", "method.projection_hidden=32", "method.projection_dim=16",
        "train.batch_size=8", "train.warmup_steps=2", "train.log_every=1", "data.clip_seconds=1.0",
        "method.wave_augment=[{name: random_crop, seconds: 0.5}, {name: gain, db: [-6, 6]}]"]


def tiny_cfg(tmp_path, *extra):
    return load_config("simclr_demo", TINY + ["train.minutes=null", f"train.out_dir={tmp_path}"] + list(extra))


def toy_source(n=32, seconds=1.0, sr=16000, seed=0):
    """Clips of 4 kinds (tones at different pitches with noise) - learnable in a few steps."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    kinds = rng.integers(0, 4, n)
    audio = np.stack([0.3 * np.sin(2 * np.pi * (200 * 2 ** k) * t + rng.uniform(0, 6)) for k in kinds])
    audio += 0.02 * rng.standard_normal(audio.shape)
    return ArraySource(audio.astype(np.float32), sr, [{"label": int(k)} for k in kinds])


def read_losses(path):
    with open(path) as f:
        return [float(r["loss"]) for r in csv.DictReader(f)]


def test_loss_falls_on_a_tiny_run(tmp_path):
    torch.manual_seed(0)
    cfg = tiny_cfg(tmp_path, "train.steps=40", "train.lr=0.003", "train.checkpoint_every=100")
    summary = Trainer(cfg, progress=False, source=toy_source()).fit()
    losses = read_losses(tmp_path / "metrics.csv")
    assert summary["steps"] == 40 and len(losses) == 40
    assert np.mean(losses[-8:]) < np.mean(losses[:8]) - 0.2
    # the checkpoint holds a usable embedder
    emb = load_embedder(tmp_path / "last.pt")
    assert emb(torch.zeros(2, 16000)).shape == (2, 16)


def test_killed_run_resumes_to_the_same_weights(tmp_path, killed_at_call):
    source = toy_source()
    steps = ["train.steps=10", "train.checkpoint_every=4"]
    Trainer(tiny_cfg(tmp_path / "whole", *steps), progress=False, source=source).fit()
    whole = torch.load(tmp_path / "whole" / "last.pt", weights_only=True)

    with killed_at_call(SimCLR, 7):
        Trainer(tiny_cfg(tmp_path / "killed", *steps), progress=False, source=source).fit()
    assert torch.load(tmp_path / "killed" / "last.pt", weights_only=True)["step"] == 4

    summary = Trainer(tiny_cfg(tmp_path / "killed", *steps), progress=False, source=source, resume=True).fit()
    resumed = torch.load(tmp_path / "killed" / "last.pt", weights_only=True)
    assert summary["steps"] == 10
    for k, v in whole["method"].items():
        torch.testing.assert_close(resumed["method"][k], v, msg=f"parameter {k} differs after resume")
    # the steps between the checkpoint (4) and the kill (6) were trained again: logged once, not twice
    with open(tmp_path / "killed" / "metrics.csv") as f:
        logged = [int(float(r["step"])) for r in csv.DictReader(f)]
    assert logged == list(range(1, 11))


def test_resume_without_a_checkpoint_says_so(tmp_path):

    with pytest.raises(ConfigError, match="no checkpoint"):
        Trainer(tiny_cfg(tmp_path, "train.steps=2"), progress=False, source=toy_source(), resume=True).fit()


def test_corrupt_files_are_skipped_counted_and_listed(tmp_path, write_audio):
    rng = np.random.default_rng(0)
    rows = ["path,label"]
    for i in range(24):
        write_audio(f"clip{i}.wav", (0.1 * rng.standard_normal(16000)).astype(np.float32))
        rows.append(f"clip{i}.wav,a")
    (tmp_path / "broken.wav").write_bytes(b"RIFF....WAVEnot really audio")
    rows.append("broken.wav,a")
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    source = ManifestSource(tmp_path / "manifest.csv")
    cfg = tiny_cfg(tmp_path / "run", "train.steps=6", "train.batch_size=5")
    summary = Trainer(cfg, progress=False, source=source).fit()
    assert summary["steps"] == 6
    assert summary["bad_files"] >= 1
    listed = (tmp_path / "run" / "bad_files.txt").read_text()
    assert "broken.wav" in listed


def test_a_run_whose_every_file_is_unreadable_stops_with_a_message_instead_of_spinning(tmp_path):
    for i in range(8):
        (tmp_path / f"broken{i}.wav").write_bytes(b"RIFF....WAVEnot really audio")
    (tmp_path / "manifest.csv").write_text("path\n" + "".join(f"broken{i}.wav\n" for i in range(8)))
    cfg = tiny_cfg(tmp_path / "run", "train.steps=6", "train.batch_size=4")
    with pytest.raises(ConfigError, match="no readable clip in the last 50 batches.*broken"):
        Trainer(cfg, progress=False, source=ManifestSource(tmp_path / "manifest.csv")).fit()


def _nan_loss_at(monkeypatch, calls):
    """SimCLR whose loss is NaN at the given forward calls (1-based)."""
    original, n = SimCLR.forward, {"n": 0}

    def forward(self, batch, generator=None):
        n["n"] += 1
        out = original(self, batch, generator)
        return {**out, "loss": out["loss"] * float("nan")} if n["n"] in calls else out

    monkeypatch.setattr(SimCLR, "forward", forward)


def test_a_batch_whose_loss_is_not_finite_is_skipped_named_and_counted(tmp_path, monkeypatch, capsys):
    _nan_loss_at(monkeypatch, {3, 4})
    summary = Trainer(tiny_cfg(tmp_path, "train.steps=5"), progress=False, source=toy_source()).fit()
    assert summary["steps"] == 5 and summary["skipped_steps"] == 2
    out = capsys.readouterr().out
    assert "loss became nan at step 2 on the batch of <array" in out and "2 in a row" in out
    state = torch.load(tmp_path / "last.pt", weights_only=True)
    assert all(torch.isfinite(v).all() for v in state["method"].values() if v.is_floating_point())


def test_non_finite_losses_in_a_row_stop_the_run_naming_the_clips(tmp_path, monkeypatch):
    _nan_loss_at(monkeypatch, set(range(2, 100)))
    with pytest.raises(FloatingPointError, match=r"at step 1 on the batch of <array \d+>.*4 batches in a row"):
        Trainer(tiny_cfg(tmp_path, "train.steps=20"), progress=False, source=toy_source()).fit()
    with pytest.raises(FloatingPointError, match="1 batches in a row .*max_nonfinite_steps=0"):
        Trainer(tiny_cfg(tmp_path / "strict", "train.steps=20", "train.max_nonfinite_steps=0"), progress=False,
                source=toy_source()).fit()


def test_learning_rate_warms_up_then_decays_to_the_floor():
    from audiorep.optim.schedule import LearningRateSchedule

    factor = LearningRateSchedule(1.0, warmup_steps=10).factor
    assert factor(0, 0.0) == 0.1 and factor(9, 0.0) == 1.0
    assert factor(10, 0.0) == 1.0
    assert factor(50, 0.5) == pytest.approx(0.505)
    assert factor(99, 1.0) == pytest.approx(0.01) and factor(99, 1.5) == pytest.approx(0.01)
    constant = LearningRateSchedule(2e-3, warmup_steps=4, kind="constant")
    assert constant(1, 0.0) == pytest.approx(1e-3) and constant(50, 0.9) == 2e-3


def test_online_probe_scores_are_logged_while_training(tmp_path):
    from audiorep.eval.online_probe import OnlineProbe

    probe_clips = toy_source(n=40, seed=1)  # four pitches: any working encoder tells them apart
    audio = torch.from_numpy(np.stack([probe_clips.load(i) for i in range(40)]))
    probe = OnlineProbe(audio, [r.label for r in probe_clips.records], every_n_steps=2)
    cfg = tiny_cfg(tmp_path, "train.steps=4", "train.online_probe.every_steps=2", "train.checkpoint_every=100")
    Trainer(cfg, progress=False, source=toy_source(), online_probe=probe).fit()
    with open(tmp_path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows if r["probe_accuracy"]] == ["2", "4"]
    assert all(float(r["probe_accuracy"]) >= 0.75 for r in rows if r["probe_accuracy"])  # chance is 0.25


def test_each_log_row_averages_its_own_window_and_after_step_follows_every_step(tmp_path, monkeypatch):
    original, seen = SimCLR.forward, []

    def counting(self, batch, generator=None):
        return {**original(self, batch, generator), "call": float(len(seen) + 1)}

    monkeypatch.setattr(SimCLR, "forward", counting)
    monkeypatch.setattr(SimCLR, "after_step", lambda self, step, progress: seen.append((step, progress)))
    Trainer(tiny_cfg(tmp_path, "train.steps=5", "train.log_every=2"), progress=False, source=toy_source()).fit()
    with open(tmp_path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["step"], float(r["call"])) for r in rows] == [("2", 1.5), ("4", 3.5), ("5", 5.0)]
    assert [s for s, _ in seen] == [1, 2, 3, 4, 5] and [p for _, p in seen] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])


def test_a_raw_waveform_encoder_trains_through_the_same_loop(tmp_path):
    cfg = tiny_cfg(tmp_path, "train.steps=3", "frontend.name=waveform", "encoder={name: waveform_cnn, width: 4}",
                   "method.spec_augment=[]")
    summary = Trainer(cfg, progress=False, source=toy_source()).fit()
    assert summary["steps"] == 3 and all(np.isfinite(read_losses(tmp_path / "metrics.csv")))
    assert load_embedder(tmp_path / "last.pt").frontend.produces == "waveform"


def test_spectrogram_masks_on_a_waveform_front_end_are_refused(tmp_path):
    from audiorep.builders import build_method

    cfg = tiny_cfg(tmp_path, "frontend.name=waveform", "encoder={name: waveform_cnn, width: 4}")
    with pytest.raises(ConfigError, match="'method.spec_augment': the waveform front-end makes no spectrogram"):
        build_method(cfg)
