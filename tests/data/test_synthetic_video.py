"""The synthetic world's video track: what a user relies on. Frames of the asked size and rate;
a source's sprite is there exactly while it sounds and grows with its loudness; classes look
different; distractors move with no sound; seeds reproduce; in-memory crops keep audio and
video at one start time; `audiorep synth --video` writes MP4s that PyAV reads back."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from audiorep.cli import main as cli_main
from audiorep.data.dataset import ClipDataset, collate_clips
from audiorep.data.sources import ArraySource, ManifestSource
from audiorep.data.synthetic import SOUND_CLASSES, SceneBatch, SyntheticWorld
from audiorep.data.synthetic.video import (
    BACKGROUND,
    frame_count,
    frame_rms,
    loudness,
    render_video,
    sprite_style,
)
from audiorep.data.synthetic.writer import chunk_seed
from audiorep.errors import ConfigError
from audiorep.io.video_writer import write_av_file

SR = 8000
BG = round(BACKGROUND * 255)


def hand_scene(sources: torch.Tensor, classes) -> SceneBatch:
    """A SceneBatch built by hand from isolated sources [n, K, T] and their classes [n, K]."""
    n, k, t = sources.shape
    nan = torch.full((n, k), float("nan"))
    return SceneBatch(
        audio=sources.sum(1), sources=sources, background=torch.zeros(n, t),
        source_class=torch.as_tensor(classes, dtype=torch.long).reshape(n, k),
        events=torch.zeros(n, len(SOUND_CLASSES)), scene=torch.zeros(n, dtype=torch.long),
        pitch_hz=nan, onset_s=nan, duration_s=nan, class_names=tuple(c.name for c in SOUND_CLASSES),
        scene_names=("quiet",), tonal=tuple(c.tonal for c in SOUND_CLASSES), sample_rate=SR,
    )  # fmt: skip


def tone(seconds=1.5, amplitude=None):
    t = torch.arange(int(seconds * SR)) / SR
    wave = torch.sin(2 * torch.pi * 440 * t)
    return wave * (amplitude if amplitude is not None else 1.0)


def ink(video: torch.Tensor) -> torch.Tensor:
    """[..., F, 3, H, W] uint8 -> [..., F]: how far each frame is from the empty background."""
    return (video.float() - BG).abs().sum((-3, -2, -1))


@pytest.fixture(scope="module")
def world_batch():
    return SyntheticWorld(SR, 1.5, max_events=3).generate(6, seed=2)


@pytest.mark.parametrize("size", [8, 64])
@pytest.mark.parametrize("fps", [5, 12.5])
def test_frames_have_the_asked_count_size_and_dtype(world_batch, size, fps):
    video = render_video(world_batch[:2], size=size, fps=fps)
    assert video.dtype == torch.uint8
    assert video.shape == (2, frame_count(1.5, fps), 3, size, size) == (2, round(1.5 * fps), 3, size, size)
    assert int(video.max()) > BG  # something is drawn


def test_a_sprite_shows_exactly_while_its_source_sounds():
    wave = tone()
    wave[: int(0.5 * SR)] = 0
    wave[int(1.0 * SR) :] = 0  # sounds in [0.5, 1.0) s: frames 4..7 at 8 fps
    video = render_video(hand_scene(wave[None, None], [[0]]), fps=8, distractors=0)[0]
    drawn = ink(video)
    assert (drawn[:4] == 0).all() and (drawn[8:] == 0).all()
    assert (drawn[4:8] > 0).all()


def test_zeroing_a_source_removes_its_sprite_and_nothing_else(world_batch):
    before = render_video(world_batch, seed=5, distractors=1)
    silent = world_batch[:]
    silent.sources = world_batch.sources.clone()
    silent.sources[:, 0] = 0  # slot 0 is active in every clip
    after = render_video(silent, seed=5, distractors=1)
    changed = (before != after).any(2)  # [n, F, H, W]
    level = frame_rms(world_batch.sources[:, 0], SR, 8, before.shape[1])  # [n, F]
    assert not changed[level == 0].any()  # where slot 0 was silent, nothing changes
    visible = loudness(world_batch, 8, before.shape[1])[:, 0] > 0.1
    assert visible.any() and changed.flatten(2).any(-1)[visible].all()  # where it sounds, it is seen
    silent.sources = torch.zeros_like(world_batch.sources)
    assert (render_video(silent, distractors=0) == BG).all()  # no sound, no distractor: empty frames


def test_sprite_grows_and_brightens_with_loudness():
    ramp = torch.linspace(0.02, 1.0, int(1.5 * SR))  # -34 dB to 0 dB
    video = render_video(hand_scene(tone(amplitude=ramp)[None, None], [[2]]), size=32, fps=8, distractors=0)[0]
    drawn = ink(video)
    covered = ((video.float() - BG).abs().amax(1) > 8).sum((-2, -1))
    assert (drawn.diff() > 0).all() and drawn[-1] > 3 * drawn[0]
    assert (covered.diff() >= 0).all() and covered[-1] > 1.8 * covered[0]


def test_two_classes_give_different_sprites():
    styles = {sprite_style(c) for c in range(len(SOUND_CLASSES))}
    assert len(styles) == len(SOUND_CLASSES)
    wave = tone()[None, None]
    disc, square = (render_video(hand_scene(wave, [[c]]), fps=4, distractors=0)[0] for c in (0, 1))
    assert sprite_style(0)[0] == "disc" and sprite_style(1)[0] == "square"
    mask_disc, mask_square = ((v.float() - BG).abs().amax(1) > 8 for v in (disc, square))
    assert (mask_disc ^ mask_square).sum() > 0.1 * mask_disc.sum()  # same centre and radius, other outline
    mean = [v.float().permute(1, 0, 2, 3)[:, m].mean(1) for v, m in ((disc, mask_disc), (square, mask_square))]
    assert (mean[0] - mean[1]).abs().max() > 40  # and another colour


def test_distractors_move_with_no_sound():
    quiet = hand_scene(torch.zeros(1, 2, int(1.5 * SR)), [[3, -1]])
    video = render_video(quiet, size=32, fps=8, distractors=2)[0].float()
    assert (ink(video) > 0).all()  # present in every frame
    assert (video[:, 0] == video[:, 1]).all() and (video[:, 1] == video[:, 2]).all()  # grey
    assert (video[1:] - video[:-1]).abs().sum((1, 2, 3)).gt(0).all()  # moving


def test_same_seed_same_video(world_batch):
    a, b = render_video(world_batch, seed=3), render_video(world_batch, seed=3)
    assert torch.equal(a, b) and not torch.equal(a, render_video(world_batch, seed=4))


def test_bad_settings_are_config_errors(world_batch):
    with pytest.raises(ConfigError, match="size"):
        render_video(world_batch, size=2)
    with pytest.raises(ConfigError, match="fps"):
        render_video(world_batch, fps=0)


def framed_source(n=3, seconds=2.0, rate=100, fps=10):
    """Audio whose sample i is i + 1 and video whose frame j is all j + 1: crops show where they start."""
    audio = np.tile(np.arange(1, seconds * rate + 1, dtype=np.float32), (n, 1))
    frames = np.arange(1, seconds * fps + 1, dtype=np.uint8)[None, :, None, None, None]
    video = np.broadcast_to(frames, (n, int(seconds * fps), 3, 2, 2)).copy()
    sources = np.stack([audio, -audio], 1)
    return ArraySource(audio, rate, fields={"sources": sources, "video": video}, field_rates={"video": fps})


def test_array_source_crops_audio_and_video_at_one_start_time():
    source = framed_source()
    assert source.fields == ("audio", "sources", "video")
    rng = np.random.default_rng(0)
    for _ in range(20):
        got = source.load_fields(1, 0.5, rng)
        start_s = (got["audio"][0] - 1) / 100
        assert got["video"].dtype == np.uint8 and got["video"].shape == (5, 3, 2, 2)
        np.testing.assert_array_equal(got["video"][:, 0, 0, 0], round(start_s * 10) + 1 + np.arange(5))
        np.testing.assert_array_equal(got["sources"][1], -got["audio"])
    late = source.load_fields(0, 0.5, crop="center")
    assert late["audio"][0] == 76 and late["video"][0, 0, 0, 0] == 9  # 0.75 s -> frame round(7.5) = 8
    padded = source.load_fields(0, 3.0, np.random.default_rng(1))  # longer than the clip: zeros around it
    lead = int((padded["audio"] == 0).argmin())
    assert padded["video"].shape[0] == 30 and padded["video"][round(lead / 10), 0, 0, 0] == 1
    assert (padded["video"][: round(lead / 10)] == 0).all()
    resampled = source.load_fields(0, 0.5, crop="start", sample_rate=200)
    assert resampled["audio"].shape == (100,) and resampled["video"].shape == (5, 3, 2, 2)
    assert source.load_fields(2)["video"].shape == (20, 3, 2, 2)


def test_video_fields_batch_through_the_clip_dataset():
    ds = ClipDataset(framed_source(), 100, 1.0, seed=1, fields=("audio", "video"))
    batch = collate_clips([ds[i] for i in range(3)])
    assert batch["audio"].shape == (3, 100) and batch["video"].shape == (3, 10, 3, 2, 2)
    assert batch["video"].dtype == torch.uint8


def test_array_source_rejects_video_of_another_length():
    audio = np.zeros((2, 200), np.float32)
    with pytest.raises(ConfigError, match="lasts"):
        ArraySource(audio, 100, fields={"video": np.zeros((2, 30, 3, 2, 2), np.uint8)}, field_rates={"video": 10})
    with pytest.raises(ConfigError, match="field_rates names video"):
        ArraySource(audio, 100, field_rates={"video": 10})


def _rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_synth_video_writes_mp4s_a_video_reader_can_use(tmp_path, capsys):
    import av

    out = tmp_path / "world"
    args = ["synth", "--out", str(out), "--n", "3", "--seed", "7", "--seconds", "1.5", "--sample-rate", str(SR)]
    assert cli_main([*args, "--video", "--video-size", "16", "--video-fps", "6"]) == 0
    assert "wrote 3 clips as MP4 16px 6 fps" in capsys.readouterr().out
    rows = _rows(out / "manifest.csv")
    assert [r["path"] for r in rows] == [f"video/train_{i:06d}.mp4" for i in range(3)]
    assert all((out / r["audio_path"]).is_file() and r["video_fps"] == "6" for r in rows)
    batch = SyntheticWorld(SR, 1.5).generate(3, chunk_seed(7, 0))
    expected = render_video(batch, size=16, fps=6, seed=chunk_seed(7, 0))
    for i, row in enumerate(rows):
        with av.open(str(out / row["path"])) as container:
            assert container.streams.audio[0].rate == SR and container.streams.audio[0].channels == 1
            frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
        assert abs(len(frames) - 9) <= 1 and frames.shape[1:] == (16, 16, 3)
        n = min(len(frames), 9)  # H.264 is lossy: close to this clip's rendered frames, not equal
        error = [np.abs(frames[:n] - expected[j, :n].permute(0, 2, 3, 1).numpy().astype(float)).mean() for j in range(3)]
        assert error[i] < 12 and error[i] < 0.5 * min(e for j, e in enumerate(error) if j != i)
    source = ManifestSource(out / "manifest.csv", sample_rate=SR)
    assert source.records[0].path.endswith(".mp4") and source.records[0].label == rows[0]["scene"]

    assert cli_main([*args, "--video", "--video-size", "15"]) == 2
    assert "even" in capsys.readouterr().err
    assert cli_main(args) == 2  # an audio-only split into a video world's manifest: refused, named
    assert "other columns" in capsys.readouterr().err


def test_write_av_file_refuses_odd_sizes_and_leaves_no_file(tmp_path):
    with pytest.raises(ConfigError, match="even"):
        write_av_file(tmp_path / "odd.mp4", np.zeros(800, np.float32), SR, np.zeros((2, 3, 9, 8), np.uint8), 8)
    assert not list(tmp_path.iterdir())
