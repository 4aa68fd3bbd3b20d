"""Separation-based SSL: the joint objective falls on a tiny run; every variant runs."""

import csv

import numpy as np
import pytest
import torch

from audiorep.config import load_config
from audiorep.data.sources import ArraySource
from audiorep.errors import CheckpointError, ConfigError
from audiorep.io.checkpoint import save_separator
from audiorep.separation.tdcn import TDCNConfig, TDCNSeparator
from audiorep.train.trainer import Trainer

TINY = ["method.name=separation_ssl", "encoder.width=4", "encoder.embedding_dim=16", "method.projection_hidden=32",
        "method.projection_dim=16", "method.view_seconds=0.5", "train.batch_size=8", "train.warmup_steps=2",
        "train.log_every=1", "train.minutes=null", "train.checkpoint_every=1000", "data.clip_seconds=1.0"]


def scenes(n=32, sr=16000, seed=0):
    """Two-source toy scenes: a tone (one of 4 pitches) plus band noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(sr) / sr
    tone = [0.3 * np.sin(2 * np.pi * 220 * 2 ** (k % 4) * t) for k in range(n)]
    noise = 0.05 * rng.standard_normal((n, sr))
    return ArraySource((np.stack(tone) + noise).astype(np.float32), sr)


@pytest.fixture(scope="module")
def separators(tmp_path_factory):
    out = tmp_path_factory.mktemp("sep")
    paths = []
    for seed in (0, 1):  # two "convergence states"
        torch.manual_seed(seed)
        model = TDCNSeparator(TDCNConfig(num_channels=4, num_filters=32, bottleneck=16, hidden=32,
                                         blocks_per_repeat=2, repeats=1))
        paths.append(str(save_separator(out / f"sep{seed}.pt", model)))
    return paths


def run(tmp_path, *extra, steps=2):
    cfg = load_config("simclr_demo", TINY + [f"train.steps={steps}", f"train.out_dir={tmp_path}"] + list(extra))
    summary = Trainer(cfg, progress=False, source=scenes()).fit()
    with open(tmp_path / "metrics.csv") as f:
        return summary, list(csv.DictReader(f))


def test_joint_loss_falls_with_two_separators(tmp_path, separators):
    torch.manual_seed(0)
    _, rows = run(tmp_path, f"method.separators={separators}", "train.lr=0.003", steps=30)
    losses = [float(r["loss"]) for r in rows]
    assert np.mean(losses[-6:]) < np.mean(losses[:6]) - 0.2
    assert {"similarity_loss", "coincidence_loss", "coincidence_acc"} <= rows[0].keys()


@pytest.mark.parametrize("variant", [
    [],  # mixture-only views
    ["method.similarity=bilinear"],
    ["method.similarity=none"],  # coincidence alone
    ["method.coincidence_weight=0"],  # similarity alone
])
def test_variants_run(tmp_path, separators, variant):
    extra = variant + ([f"method.separators={separators[:1]}"] if variant else [])
    summary, rows = run(tmp_path, *extra)
    assert summary["steps"] == 2 and all(np.isfinite(float(r["loss"])) for r in rows)


@pytest.mark.parametrize("override,error,message", [
    ("method.similarity=cosine", ConfigError, "'method.similarity': got 'cosine'"),
    ("method.view_probs=[1, 0]", ConfigError, "'method.view_probs': got \\[1, 0\\]"),
    ("method.separators=[/no/such.pt]", CheckpointError, "/no/such.pt: checkpoint not found"),
])
def test_bad_configs_are_named(tmp_path, override, error, message):
    from audiorep.builders import build_method

    with pytest.raises(error, match=message):
        build_method(load_config("simclr_demo", TINY + [override]))


def test_ablate_command_trains_every_variant_and_writes_one_table(tmp_path, separators):
    import json

    from audiorep.workflows.ablation import run_ablation

    overrides = ["data.synthetic.n_clips=24", "train.batch_size=8", "encoder.width=4", "encoder.embedding_dim=16",
                 "method.projection_hidden=32", "train.steps=2", "train.warmup_steps=1", "train.log_every=1",
                 "data.clip_seconds=1.0", "method.view_seconds=0.5"]

    result = run_ablation(tmp_path, separators, minutes=1.0, overrides=overrides, probe_train=30, probe_test=20,
                          progress=False)
    expected = {"mixture_only", "separated_converged", "separated_multi_state", "coincidence", "joint",
                "random_init", "logmel"}
    assert set(result["tasks"]["scene"]["models"]) == expected
    assert all(r["steps"] == 2 for r in result["pretrain"].values())
    assert json.loads((tmp_path / "ablation.json").read_text())["budget_minutes"] == 1.0
    assert "| joint |" in (tmp_path / "ablation.md").read_text()


def test_views_come_from_two_windows_unless_same_window_and_scene_mix_builds_mixtures():
    from audiorep.builders import build_method

    clip = torch.arange(16000.0)[None].repeat(4, 1)  # a ramp: a window's first sample says where it starts
    gen = torch.Generator().manual_seed(0)
    two = build_method(load_config("simclr_demo", TINY))
    a, b = two.make_views(clip, gen)
    assert a.shape == b.shape == (4, 8000) and not torch.equal(a[:, 0], b[:, 0])
    one = build_method(load_config("simclr_demo", TINY + ["method.same_window=true"]))
    a, b = one.make_views(clip, gen)
    assert torch.equal(a, b)  # no separators: the "separated" view is the mixture window itself
    spikes = torch.eye(4).repeat_interleave(4000, dim=1)  # example i is non-zero only in quarter i
    mixer = build_method(load_config("simclr_demo", TINY + [
        "method.same_window=true", "method.view_seconds=1.0",
        "method.scene_augment=[{name: scene_mix, sources: [3, 3], gain_db: [0, 0]}]"]))
    a, _ = mixer.make_views(spikes, gen)
    active_quarters = (a.reshape(4, 4, 4000).abs().sum(-1) > 0).sum(1)
    assert torch.all(active_quarters >= 2)  # each scene now holds more than its own clip


def test_ablate_with_a_step_budget_probes_evaluation_tasks(tmp_path, separators, tiny_fsdd):
    from audiorep.workflows.ablation import run_ablation

    overrides = ["data.synthetic.n_clips=24", "train.batch_size=8", "encoder.width=4", "encoder.embedding_dim=16",
                 "method.projection_hidden=32", "train.warmup_steps=1", "train.log_every=1",
                 "data.clip_seconds=1.0", "method.view_seconds=0.5",
                 "method.scene_augment=[{name: scene_mix, sources: [1, 2]}]"]
    result = run_ablation(tmp_path, separators, steps=3, overrides=overrides, only=["mixture_only", "joint"],
                          probe_tasks=[f"fsdd={tiny_fsdd}"], progress=False)
    assert result["budget_steps"] == 3 and all(r["steps"] == 3 for r in result["pretrain"].values())
    digits = next(r for name, r in result["tasks"].items() if "digit" in name)
    assert set(digits["models"]) == {"mixture_only", "joint", "random_init", "logmel"}
    assert digits["models"]["logmel"] > 0.6  # the tiny digits are pitches: the probe itself works
    assert "± " in (tmp_path / "ablation.md").read_text() and "3 steps" in (tmp_path / "ablation.md").read_text()
    with pytest.raises(ValueError, match="exactly one budget"):
        run_ablation(tmp_path, separators, minutes=1.0, steps=3)


def test_keep_high_band_restores_what_the_8khz_separator_cannot_see(separators):
    from audiorep.builders import build_method

    t = torch.arange(8000) / 16000
    clip = (torch.sin(2 * torch.pi * 440 * t) + torch.sin(2 * torch.pi * 6000 * t))[None].repeat(2, 1)
    base = TINY + [f"method.separators={separators[:1]}", "method.view_probs=[1, 0, 0, 0]",
                   "method.same_window=true", "method.view_seconds=0.5"]
    gen = torch.Generator().manual_seed(0)
    mixture, lowpassed = build_method(load_config("simclr_demo", base)).make_views(clip, gen)
    high = lambda x: torch.fft.rfft(x)[:, 2500:].abs().square().sum()  # above 5 kHz  # noqa: E731
    assert high(lowpassed) < 1e-6 * high(mixture)  # the separator's round trip drops the 6 kHz tone
    mixture, full = build_method(load_config("simclr_demo", base + ["method.keep_high_band=true"])).make_views(clip, gen)
    assert torch.allclose(full, mixture, atol=1e-4)  # "mixture" view of all channels + high band = the input
