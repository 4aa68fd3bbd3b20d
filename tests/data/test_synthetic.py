"""The synthetic world: ground truth a user relies on (mixture = sources + background, labels
match the sources, pitch is the pitch, scene priors hold), reproducibility, files on disk, CLI."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import soundfile as sf
import torch

from audiorep.cli import main as cli_main
from audiorep.data.synthetic import SOUND_CLASSES, SyntheticWorld, write_world
from audiorep.data.synthetic.writer import chunk_seed
from audiorep.errors import ConfigError

SR = 16000
CLASS = {c.name: c for c in SOUND_CLASSES}
PITCHED_HARMONIC = ("plucked_string", "bowed_string", "reed", "flute", "alarm_beep", "mains_hum")


@pytest.fixture(scope="module")
def world():
    return SyntheticWorld(sample_rate=SR, clip_seconds=1.5, max_events=4)


@pytest.fixture(scope="module")
def batch(world):
    return world.generate(48, seed=11)


def estimate_f0(x: np.ndarray, sr: int, fmin: float = 40.0, fmax: float = 4000.0, up: int = 8) -> float:
    """Autocorrelation pitch: the shortest lag whose (unbiased, `up`-times band-limited
    interpolated) ACF is within 10% of the best in [sr/fmax, sr/fmin], refined by a parabola."""
    x = x - x.mean()
    n = x.size
    spec = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(np.abs(spec) ** 2, 2 * n * up)[: n * up] / (n - np.arange(n * up) / up)
    sr = sr * up
    lo, hi = int(sr / fmax), int(sr / fmin)
    seg = acf[lo:hi]
    peaks = [i for i in range(1, seg.size - 1) if seg[i] >= seg[i - 1] and seg[i] >= seg[i + 1]]
    best = max(seg[i] for i in peaks)
    i = next(i for i in peaks if seg[i] >= 0.9 * best)
    a, b, c = seg[i - 1], seg[i], seg[i + 1]
    shift = 0.5 * (a - c) / (a - 2 * b + c)
    return sr / (lo + i + shift)


def test_same_seed_same_clips_other_seed_other_clips(world):
    a, b, c = world.generate(5, seed=3), world.generate(5, seed=3), world.generate(5, seed=4)
    for name in ("audio", "sources", "background", "source_class", "events", "scene", "pitch_hz", "onset_s", "duration_s"):
        assert torch.equal(torch.nan_to_num(getattr(a, name)), torch.nan_to_num(getattr(b, name))), name
    assert not torch.equal(a.audio, c.audio)


def test_shapes_dtypes_and_names(world, batch):
    n, k, c, t = 48, 4, len(world.class_names), int(1.5 * SR)
    assert batch.audio.shape == (n, t) and batch.audio.dtype == torch.float32
    assert batch.sources.shape == (n, k, t) and batch.sources.dtype == torch.float32
    assert batch.background.shape == (n, t)
    assert batch.source_class.shape == (n, k) and batch.source_class.dtype == torch.long
    assert batch.events.shape == (n, c) and batch.events.dtype == torch.float32
    assert batch.scene.shape == (n,) and batch.scene.dtype == torch.long
    for name in ("pitch_hz", "onset_s", "duration_s"):
        assert getattr(batch, name).shape == (n, k)
    assert len(world.class_names) >= 12 and len(world.scene_names) >= 6
    assert len(set(c.family for c in SOUND_CLASSES)) >= 6
    assert batch.tonal == tuple(CLASS[name].tonal for name in batch.class_names)
    assert batch.sample_rate == SR


def test_mixture_is_sources_plus_background_and_does_not_clip(batch):
    torch.testing.assert_close(batch.audio, batch.sources.sum(1) + batch.background, atol=1e-6, rtol=0)
    assert batch.audio.abs().max() <= 1.0
    assert batch.sources.abs().max() <= 1.0
    assert (batch.background.abs().amax(1) > 0).all()
    assert torch.isfinite(batch.audio).all() and torch.isfinite(batch.sources).all()


def test_events_and_slots_agree(world, batch):
    active = batch.source_class >= 0
    n_events = active.sum(1)
    assert (n_events >= 1).all() and (n_events <= world.max_events).all()
    # filled slots come first, empty slots are silent and have no timing
    assert torch.equal(active, torch.sort(active.int(), dim=1, descending=True).values.bool())
    assert (batch.sources[~active].abs().amax(-1) == 0).all()
    assert (batch.sources[active].abs().amax(-1) > 0).all()
    assert torch.isnan(batch.onset_s[~active]).all() and torch.isnan(batch.duration_s[~active]).all()
    for i in range(len(batch)):
        from_slots = torch.zeros(len(world.class_names))
        from_slots[batch.source_class[i][active[i]]] = 1
        assert torch.equal(batch.events[i], from_slots)


def test_sources_are_silent_outside_their_onset_and_duration(batch):
    t = torch.arange(batch.audio.shape[1]) / SR
    on, dur = batch.onset_s[..., None], batch.duration_s[..., None]
    outside = (t < on - 1 / SR) | (t > on + dur + 1 / SR)
    active = batch.source_class >= 0
    assert (batch.sources[active][outside[active]] == 0).all()
    assert (batch.onset_s[active] + batch.duration_s[active] <= 1.5 + 1e-4).all()


def test_pitch_is_given_exactly_for_tonal_events(batch):
    active = batch.source_class >= 0
    tonal = torch.tensor(batch.tonal)[batch.source_class.clamp(min=0)] & active
    assert torch.isfinite(batch.pitch_hz[tonal]).all()
    assert torch.isnan(batch.pitch_hz[~tonal]).all()


@pytest.mark.parametrize("name,pitch", [("plucked_string", 110.0), ("bowed_string", 330.0), ("reed", 247.0),
                                        ("flute", 880.0), ("alarm_beep", 1500.0), ("mains_hum", 60.0)])
def test_rendered_tone_has_the_requested_fundamental(name, pitch):
    wave, got = CLASS[name].render(np.random.default_rng(0), [1.0], SR, pitch_hz=[pitch])
    assert got[0] == pytest.approx(pitch)
    segment = wave[0, int(0.2 * SR) : int(0.7 * SR)]
    assert estimate_f0(segment, SR) == pytest.approx(pitch, rel=0.02)


def test_pitch_ground_truth_matches_generated_sources(world):
    batch = world.generate(40, seed=5)
    checked = 0
    for i, k in zip(*torch.nonzero(batch.source_class >= 0, as_tuple=True)):
        name = batch.class_names[int(batch.source_class[i, k])]
        if name not in PITCHED_HARMONIC or batch.duration_s[i, k] < 0.4:
            continue
        s0 = int(batch.onset_s[i, k] * SR) + int(0.1 * SR)
        seg = batch.sources[i, k, s0 : s0 + int(0.25 * SR)].numpy()
        assert estimate_f0(seg, SR) == pytest.approx(float(batch.pitch_hz[i, k]), rel=0.02), name
        checked += 1
    assert checked >= 5


def test_classes_with_zero_prior_never_occur_in_a_scene():
    world = SyntheticWorld(sample_rate=8000, clip_seconds=0.5)
    batch = world.generate(300, seed=2)
    prior = torch.from_numpy(world.prior)
    allowed = prior[batch.scene] > 0  # [n, C]
    assert not (batch.events.bool() & ~allowed).any()
    assert set(batch.scene.tolist()) == set(range(len(world.scene_names)))
    # no class gives its scene away: each class can occur in at least two scenes
    assert ((prior > 0).sum(0) >= 2).all()


def test_sample_rate_clip_length_and_options_are_honoured():
    world = SyntheticWorld(sample_rate=8000, clip_seconds=0.75, max_events=2, background=False)
    batch = world.generate(6, seed=0)
    assert batch.audio.shape == (6, 6000) and batch.sources.shape == (6, 2, 6000)
    assert (batch.background == 0).all()
    assert ((batch.source_class >= 0).sum(1) <= 2).all()


def test_bad_settings_are_named():
    with pytest.raises(ConfigError, match="max_events"):
        SyntheticWorld(max_events=0)
    with pytest.raises(ConfigError, match="sample_rate"):
        SyntheticWorld(sample_rate=4000)
    with pytest.raises(ConfigError, match="n must be"):
        SyntheticWorld().generate(0, seed=0)


def _read_manifest(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_write_world_round_trip(tmp_path):
    summary = write_world(tmp_path, 3, seed=9, sample_rate=SR, clip_seconds=0.5, split="valid", sources=True)
    rows = _read_manifest(tmp_path / "manifest.csv")
    assert summary["n"] == 3 and len(rows) == 3
    expected = SyntheticWorld(SR, 0.5).generate(3, chunk_seed(9, 0))
    for i, row in enumerate(rows):
        audio, sr = sf.read(tmp_path / row["path"], dtype="float32")
        assert sr == SR and audio.shape == (SR // 2,)
        np.testing.assert_allclose(audio, expected.audio[i].numpy(), atol=1.0 / 2**15)
        assert row["split"] == "valid" and row["seed"] == "9"
        assert row["scene"] == expected.scene_names[int(expected.scene[i])] == row["label"]
        assert row["events"].split(";") == expected.event_names(i)
        parts = [sf.read(tmp_path / p, dtype="float32")[0] for p in row["sources"].split(";")]
        assert len(parts) == len(row["source_classes"].split(";")) == len(row["pitch_hz"].split(";"))
        background = sf.read(tmp_path / row["background"], dtype="float32")[0]
        np.testing.assert_allclose(sum(parts) + background, audio, atol=6.0 / 2**15)


def test_write_world_replaces_a_split_and_keeps_the_others(tmp_path):
    write_world(tmp_path, 2, seed=1, clip_seconds=0.25, split="train")
    write_world(tmp_path, 1, seed=2, clip_seconds=0.25, split="test")
    write_world(tmp_path, 3, seed=3, clip_seconds=0.25, split="train")
    splits = [row["split"] for row in _read_manifest(tmp_path / "manifest.csv")]
    assert sorted(splits) == ["test", "train", "train", "train"]


def test_synth_cli_writes_clips(tmp_path, capsys):
    out = tmp_path / "world"
    assert cli_main(["synth", "--out", str(out), "--n", "4", "--seed", "1", "--seconds", "0.5"]) == 0
    rows = _read_manifest(out / "manifest.csv")
    assert len(rows) == 4 and all((out / r["path"]).is_file() for r in rows)
    assert "wrote 4 clips" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:  # refused by the argument parser, before any work
        cli_main(["synth", "--out", str(out), "--n", "0"])
    assert exit_.value.code == 2 and "--n: must be an integer >= 1" in capsys.readouterr().err


def test_written_world_and_batches_plug_into_the_clip_sources(tmp_path):
    from audiorep.data.sources import ArraySource, ManifestSource

    write_world(tmp_path, 2, seed=4, clip_seconds=0.5)
    source = ManifestSource(tmp_path / "manifest.csv", sample_rate=SR)
    rows = _read_manifest(tmp_path / "manifest.csv")
    assert [r.label for r in source.records] == [r["scene"] for r in rows]
    assert source.records[0].meta["labels"] == rows[0]["events"].split(";")
    assert source.load(0).shape == (SR // 2,)

    batch = SyntheticWorld(SR, 0.5).generate(3, seed=1)
    arrays = ArraySource(batch.audio, SR, batch.meta())
    assert arrays.records[2].label == batch.scene_names[int(batch.scene[2])]
    assert arrays.records[2].meta["events"] == batch.event_names(2)
    np.testing.assert_array_equal(arrays.load(1), batch.audio[1].numpy())
