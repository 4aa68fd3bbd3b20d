"""Audio-visual learning: a tiny run on the built-in world's scenes and video learns (the
cross-modal loss falls and retrieval rises above chance), its audio encoder is what the
checkpoint keeps, mixing across examples reaches the loss as soft targets, and a recipe that
would crop the audio away from its frames is refused."""

import csv

import numpy as np
import pytest
import torch

from audiorep.builders import build_method, build_source, load_embedder
from audiorep.config import load_config
from audiorep.data.sources import ArraySource
from audiorep.errors import ConfigError
from audiorep.objectives.cross_modal import cross_modal_nce
from audiorep.train.trainer import Trainer

TINY = ["encoder.width=8", "encoder.embedding_dim=32", "method.projection_hidden=64", "method.projection_dim=32",
        "method.video_encoder={name: r2plus1d, width: 8, embedding_dim: 32, norm: group}",
        "data.video.size=16", "data.video.fps=4", "data.clip_seconds=1.0", "train.minutes=null",
        "train.warmup_steps=5", "train.log_every=5", "train.checkpoint_every=1000"]


def tiny_cfg(tmp_path, *extra):
    return load_config("audiovisual_demo", TINY + [f"train.out_dir={tmp_path}", *extra])


def test_a_tiny_audio_visual_run_learns_to_match_sounds_with_their_frames(tmp_path):
    cfg = tiny_cfg(tmp_path, "data.synthetic.n_clips=96", "data.synthetic.clip_seconds=2.0",
                   "train.batch_size=32", "train.steps=60", "train.lr=0.003")
    summary = Trainer(cfg, progress=False).fit()
    with open(tmp_path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    losses = [float(r["loss"]) for r in rows]
    top1 = [float(r["av_top1"]) for r in rows]
    assert np.mean(losses[-3:]) < np.mean(losses[:2]) - 0.3, losses
    assert np.mean(top1[-3:]) > 3 / 32, top1  # chance is 1/32
    embedder = load_embedder(summary["checkpoint"])  # the audio encoder alone is the representation
    assert embedder(torch.randn(2, 16000)).shape == (2, 32)


def test_the_synthetic_source_gives_audio_and_frames_of_the_asked_size_and_rate(tmp_path):
    cfg = tiny_cfg(tmp_path, "data.synthetic.n_clips=4", "data.synthetic.clip_seconds=2.0")
    source = build_source(cfg, ("audio", "video"), progress=False)
    arrays = source.load_fields(0, 1.0, np.random.default_rng(0), sample_rate=16000)
    assert arrays["audio"].shape == (16000,) and arrays["video"].shape == (4, 3, 16, 16)
    assert arrays["video"].dtype == np.uint8


def test_mixing_reaches_the_loss_as_soft_targets(tmp_path):
    method = build_method(tiny_cfg(tmp_path, "method.mix_p=1.0", "method.temperature=0.02", "method.spec_augment=[]",
                                   "method.wave_augment=[]")).eval()
    rng = np.random.default_rng(0)
    batch = {"audio": torch.from_numpy((0.1 * rng.standard_normal((6, 16000))).astype(np.float32)),
             "video": torch.from_numpy(rng.integers(0, 255, (6, 4, 3, 16, 16), dtype=np.uint8))}
    out = method(batch, torch.Generator().manual_seed(1))
    composition = method.mix.last_composition
    assert not torch.equal(composition, torch.eye(6))  # every example was mixed
    mixed = method.mix.last_lam[:, None] * batch["audio"] + (1 - method.mix.last_lam[:, None]) * \
        batch["audio"][method.mix.last_partner]
    with torch.no_grad():
        za = method.projector(method.embedder(mixed))
        zv = method.video_projector(method.video_encoder(batch["video"]))
    by_hand = cross_modal_nce(za, zv, method.cfg.temperature, targets=composition)
    assert out["loss"].item() == pytest.approx(by_hand.item(), rel=1e-4)
    assert out["loss"].item() != pytest.approx(cross_modal_nce(za, zv, method.cfg.temperature).item(), rel=1e-3)


def test_a_wave_chain_that_crops_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="random_crop would cut the audio away from its frames"):
        build_method(tiny_cfg(tmp_path, "method.wave_augment=[{name: random_crop, seconds: 0.5}]"))


def test_an_audio_only_source_is_refused_by_name(tmp_path):
    cfg = tiny_cfg(tmp_path, "train.steps=1", "train.batch_size=2")
    with pytest.raises(ConfigError, match="has no video"):
        Trainer(cfg, progress=False, source=ArraySource(np.zeros((4, 16000), np.float32), 16000)).fit()


def test_the_gpu_recipe_trains_on_a_folder_of_video_files_as_written(tmp_path):
    """`audiorep pretrain --config audiovisual data.path=/my/videos`, on MP4s that
    `audiorep synth --video` wrote, plus a text file named .mp4 that is skipped and listed."""
    from audiorep.cli import main

    videos = tmp_path / "videos"
    assert main(["synth", "--out", str(videos), "--n", "4", "--seconds", "1.5", "--video", "--video-size", "16",
                 "--video-fps", "4"]) == 0
    (videos / "broken.mp4").write_text("not a video")
    out = tmp_path / "run"
    assert main(["pretrain", "--config", "audiovisual", "--no-progress", f"data.path={videos}", "train.steps=2", "train.batch_size=4", "data.num_workers=0", "data.clip_seconds=1.0",
                 "data.video.size=16", "data.video.fps=4", "encoder.width=8", "encoder.embedding_dim=32",
                 "encoder.convs_per_stage=1", "method.projection_hidden=32", "method.projection_dim=16",
                 "method.video_encoder={name: r2plus1d, width: 8, embedding_dim: 16}", f"train.out_dir={out}"]) == 0
    assert (out / "last.pt").is_file()
    assert "broken.mp4" in (out / "bad_files.txt").read_text()


def test_whole_clips_of_video_are_refused_with_the_key_to_set():
    from audiorep.data.dataset import ClipDataset

    source = ArraySource(np.zeros((2, 16000), np.float32), 16000,
                         fields={"video": np.zeros((2, 4, 3, 8, 8), np.uint8)}, field_rates={"video": 4})
    with pytest.raises(ConfigError, match="data.clip_seconds"):
        ClipDataset(source, 16000, None, fields=("audio", "video"))
