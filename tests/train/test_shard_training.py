"""Training from tar shards (`data.source=shards`): every method that reads audio (and the
audio-visual method, frames too) steps from shards written by `audiorep shard`, a killed run
resumes (exactly, without a shuffle buffer), and a recipe asking for what shards lack says so."""

import numpy as np
import pytest
import torch

from audiorep.builders import build_method
from audiorep.config import load_config
from audiorep.data.shard_writer import write_shards
from audiorep.data.sources import ManifestSource
from audiorep.data.synthetic import write_world
from audiorep.data.video_source import VideoSource
from audiorep.errors import ConfigError
from audiorep.io.checkpoint import save_separator
from audiorep.methods.simclr import SimCLR
from audiorep.train.trainer import Trainer

SMALL = ["encoder.embedding_dim=16", "data.clip_seconds=1.0", "train.batch_size=4",
         "train.device=cpu", "train.minutes=null", "train.warmup_steps=1", "data.shards.shuffle_buffer=4"]
VIEWS = ["encoder.width=4", "method.projection_hidden=32", "method.projection_dim=16"]
SEPARATOR = ("method.model={num_channels: 3, num_filters: 16, kernel_size: 16, bottleneck: 8, hidden: 8, "
             "blocks_per_repeat: 1, repeats: 1}")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The synthetic world on disk (FLAC, MP4) and packed into audio and audio-visual shards."""
    root = tmp_path_factory.mktemp("world")
    write_world(root / "audio", 24, 0, clip_seconds=2.0)
    write_world(root / "video", 12, 1, clip_seconds=2.0, video=True, video_size=16, video_fps=4.0)
    write_shards(ManifestSource(root / "audio" / "manifest.csv"), root / "shards", sample_rate=16000, max_samples=6,
                 progress=False)
    write_shards(VideoSource(root / "video" / "manifest.csv", video_size=16, video_fps=4.0), root / "av_shards",
                 sample_rate=16000,
                 video=(16, 4.0), max_samples=4, progress=False)
    return root


def recipes(world, separator: str) -> dict:
    shards = ["data.source=shards", f"data.path={world / 'shards'}"]
    av = ["data.source=shards", f"data.path={world / 'av_shards'}"]
    return {
        "simclr": ("simclr_demo", shards + VIEWS),
        "byol": ("byol_demo", shards + VIEWS),
        "separation_ssl": ("separation_ssl_demo", shards + VIEWS + [f"method.separators=[{separator}]"]),
        "separator_mixit": ("separator_mixit", shards + [SEPARATOR, "data.clip_seconds=0.5"]),
        "audiovisual": ("audiovisual_demo", av + VIEWS + [
            "data.video.size=16", "data.video.fps=4", "method.video_encoder={name: r2plus1d, width: 4, embedding_dim: 8}"]),
        "generative": ("generative_demo", shards + ["encoder.codebook_size=16", "method.fit={clips: 12, iterations: 5}",
                                                    "encoder.depth=1", "encoder.heads=2", "data.num_workers=0"]),
    }


@pytest.mark.parametrize("name", ["simclr", "byol", "separation_ssl", "separator_mixit", "audiovisual", "generative"])
def test_every_method_steps_from_shards(world, tmp_path, name):
    sep = save_separator(tmp_path / "sep.pt", build_method(load_config("separator_mixit", [SEPARATOR])).separator)
    recipe, overrides = recipes(world, str(sep))[name]
    cfg = load_config(recipe, SMALL + overrides + ["train.steps=2", f"train.out_dir={tmp_path / 'run'}"])
    summary = Trainer(cfg, progress=False).fit()
    assert summary["steps"] == 2 and summary["bad_files"] == 0
    state = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    assert all(torch.isfinite(v).all() for v in state["method"].values() if v.is_floating_point())


def _run(world, out, steps, resume=False):
    cfg = load_config("simclr_demo", SMALL + VIEWS + [
        "data.source=shards", f"data.path={world / 'shards'}", "data.shards.shuffle_buffer=0", f"train.steps={steps}",
        "train.checkpoint_every=3", f"train.out_dir={out}", "method.wave_augment=[{name: gain, db: [-6, 6]}]"])
    Trainer(cfg, progress=False, resume=resume).fit()
    return torch.load(out / "last.pt", weights_only=True)


def test_a_killed_run_from_shards_resumes_to_the_weights_of_an_uninterrupted_one(world, tmp_path, killed_at_call):
    # 8 steps of 4 cross the 24-clip epoch: the resumed stream continues mid-shard and into the next epoch
    whole = _run(world, tmp_path / "whole", 8)
    with killed_at_call(SimCLR, 5):
        _run(world, tmp_path / "killed", 8)
    assert torch.load(tmp_path / "killed" / "last.pt", weights_only=True)["step"] == 3
    resumed = _run(world, tmp_path / "killed", 8, resume=True)
    assert resumed["step"] == whole["step"] == 8
    for key, value in whole["method"].items():
        torch.testing.assert_close(resumed["method"][key], value, msg=f"{key} differs after resuming from shards")


def test_shards_without_frames_are_refused_by_the_audio_visual_method(world, tmp_path):
    cfg = load_config("audiovisual_demo", SMALL + ["data.source=shards", f"data.path={world / 'shards'}",
                                                   f"train.out_dir={tmp_path}"])
    with pytest.raises(ConfigError, match="frames|video"):
        Trainer(cfg, progress=False).fit()


def test_shards_hold_the_clips_they_were_written_from(world):
    """An independent route to the data: the stream's clips, unshuffled and uncropped-at-start, are
    the FLAC files' audio (within 16-bit quantisation)."""
    from audiorep.data.shard_source import ShardSource
    from audiorep.data.shard_stream import ShardStream

    files = ManifestSource(world / "audio" / "manifest.csv")
    stream = iter(ShardStream(ShardSource(world / "shards"), 2.0, shuffle_buffer=0, crop="start"))
    for _ in range(6):
        item = next(stream)
        np.testing.assert_allclose(item["audio"].numpy(), files.load(item["index"]), atol=2e-4)


def test_shards_written_from_the_in_memory_world_hold_its_scenes(tmp_path):
    """What `benchmarks/shards_vs_memory.py` trains on: the demo's in-memory world packed into
    shards gives back the same scenes (16-bit FLAC), so a quality difference could only come
    from the order and the crops."""
    from audiorep.builders import build_source
    from audiorep.data.shard_source import ShardSource
    from audiorep.data.shard_stream import ShardStream

    cfg = load_config("simclr_demo", ["data.synthetic.n_clips=10", "data.synthetic.clip_seconds=1.0"])
    memory = build_source(cfg, progress=False)
    write_shards(memory, tmp_path, sample_rate=16000, max_samples=4, progress=False)
    items = [it for _, it in zip(range(10), ShardStream(ShardSource(tmp_path), 1.0, shuffle_buffer=0, crop="start"))]
    assert sorted(it["index"] for it in items) == list(range(10))
    for it in items:
        np.testing.assert_allclose(it["audio"].numpy(), memory.load(it["index"]), atol=2e-4)
