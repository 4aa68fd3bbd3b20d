"""Separator training as a method on the shared trainer: MixIT and PIT learn, checkpoints are
kept at fractions of the run and reload, and a killed run resumes to the same weights."""

import csv

import numpy as np
import pytest
import torch

from audiorep.builders import build_separator, load_embedder, load_separator
from audiorep.config import load_config
from audiorep.data.sources import ArraySource
from audiorep.errors import CheckpointError, ConfigError
from audiorep.methods.separator_training import SeparatorTraining
from audiorep.separation.metrics import evaluate_separator
from audiorep.separation.mixture_of_mixtures import mixture_of_mixtures
from audiorep.train.trainer import Trainer

TINY_MODEL = "{num_filters: 32, kernel_size: 16, bottleneck: 16, hidden: 32, blocks_per_repeat: 3, repeats: 1}"


def tiny_cfg(recipe, out, *extra):
    return load_config(recipe, [f"method.model={TINY_MODEL}", "method.model.num_channels=4", "data.clip_seconds=0.2",
                                "train.minutes=null", "train.lr=0.003", "train.log_every=10", f"train.out_dir={out}",
                                *extra])


def losses(out):
    with open(out / "metrics.csv") as f:
        return [float(r["loss"]) for r in csv.DictReader(f)]


def test_mixture_of_mixtures_pairs_clips_and_can_silence_the_second():
    clips = torch.randn(8, 50)
    mom, refs = mixture_of_mixtures(clips, torch.Generator().manual_seed(0), single_mixture_prob=0.0)
    torch.testing.assert_close(refs[1, 0], clips[2])
    torch.testing.assert_close(mom, clips[0::2] + clips[1::2])
    mom, refs = mixture_of_mixtures(clips, torch.Generator().manual_seed(0), single_mixture_prob=0.999)
    assert refs[:, 1].abs().sum() == 0 and torch.equal(mom, clips[0::2])


def test_mixit_loss_falls_and_kept_checkpoints_reload(tmp_path, toy_scenes):
    torch.manual_seed(0)
    mix, _ = toy_scenes(64, 2, length=2000, seed=1)
    # (single-mixture inputs are easy and make a short loss curve noisy: none here)
    cfg = tiny_cfg("separator_mixit", tmp_path, "train.steps=80", "train.batch_size=8",
                   "method.single_mixture_prob=0")
    trainer = Trainer(cfg, progress=False, source=ArraySource(mix, 8000))
    summary = trainer.fit()
    curve = losses(tmp_path)
    assert summary["steps"] == 80 and len(curve) == 8
    assert np.mean(curve[-2:]) < np.mean(curve[:2]) - 1.0  # dB
    assert {p.name for p in tmp_path.glob("*.pt")} == {"early.pt", "middle.pt", "late.pt", "last.pt"}
    early, middle = (torch.load(tmp_path / f"{n}.pt", weights_only=True)["step"] for n in ("early", "middle"))
    assert (early, middle) == (8, 32)  # 10 % and 40 % of 80 steps
    reloaded = load_separator(tmp_path / "late.pt")
    x = mix[:2, :800]
    with torch.no_grad():
        torch.testing.assert_close(reloaded(x), trainer.method.separator.eval()(x))
    with pytest.raises(CheckpointError, match="holds no embedder"):
        load_embedder(tmp_path / "last.pt")


def test_pit_training_on_known_sources_improves_si_snr(tmp_path, toy_scenes):
    torch.manual_seed(0)
    mix, src = toy_scenes(64, 2, length=2000, seed=2)
    test_mix, test_src = toy_scenes(16, 2, length=1600, seed=99)
    cfg = tiny_cfg("separator_pit", tmp_path, "train.steps=200", "train.batch_size=4", "train.keep_checkpoints={}")
    trainer = Trainer(cfg, progress=False, source=ArraySource(mix, 8000, fields={"sources": src}))
    untrained = build_separator(trainer.cfg.method["model"], 8000).eval()
    trainer.fit()
    before = evaluate_separator(untrained, test_mix, test_src)
    after = evaluate_separator(load_separator(tmp_path / "last.pt"), test_mix, test_src)
    assert after["multi"]["msi"] > before["multi"]["msi"] + 1.0


def test_pit_asks_the_data_for_sources(tmp_path, toy_scenes):
    mix, _ = toy_scenes(16, 2, length=2000)
    cfg = tiny_cfg("separator_pit", tmp_path, "train.steps=2", "train.batch_size=4")
    with pytest.raises(ConfigError, match="has no sources"):
        Trainer(cfg, progress=False, source=ArraySource(mix, 8000)).fit()


def test_killed_separator_run_resumes_to_the_same_weights(tmp_path, toy_scenes, killed_at_call):
    mix, _ = toy_scenes(32, 2, length=2000, seed=3)
    source = ArraySource(mix, 8000)
    steps = ["train.steps=10", "train.checkpoint_every=4", "train.batch_size=8"]
    Trainer(tiny_cfg("separator_mixit", tmp_path / "whole", *steps), progress=False, source=source).fit()
    whole = torch.load(tmp_path / "whole" / "last.pt", weights_only=True)

    with killed_at_call(SeparatorTraining, 7):
        Trainer(tiny_cfg("separator_mixit", tmp_path / "killed", *steps), progress=False, source=source).fit()
    Trainer(tiny_cfg("separator_mixit", tmp_path / "killed", *steps), progress=False, source=source,
            resume=True).fit()
    resumed = torch.load(tmp_path / "killed" / "last.pt", weights_only=True)
    assert resumed["step"] == 10
    for k, v in whole["method"].items():
        torch.testing.assert_close(resumed["method"][k], v, msg=f"parameter {k} differs after resume")
    kept = [torch.load(tmp_path / "killed" / f"{n}.pt", weights_only=True)["step"] for n in ("early", "middle", "late")]
    assert kept == [1, 4, 10]  # early and middle written before the kill, late after the resume
    assert np.isfinite(losses(tmp_path / "killed")).all()
