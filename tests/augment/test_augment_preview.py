"""`audiorep augment`: views of a user's files, written to listen to and look at."""

import numpy as np
import pytest
import soundfile as sf
import torch

from audiorep.augment import build_chain
from audiorep.augment.preview import preview_views
from audiorep.cli import main
from audiorep.errors import ConfigError

from augment_signals import SR, tone

CHAIN = [{"name": "gain", "db": [-6, 6]}, {"name": "pitch_shift", "semitones": [-4, 4]}]


@pytest.fixture
def recordings(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    sf.write(folder / "a.wav", tone(440.0, seconds=0.5)[0].numpy(), SR)
    sf.write(folder / "b.flac", tone(300.0, seconds=0.5)[0].numpy(), SR)
    (folder / "broken.wav").write_bytes(b"RIFF not really")
    return folder


def test_views_are_written_differ_and_repeat_by_seed(recordings, tmp_path):
    files = [recordings / "a.wav"]
    chain = build_chain(CHAIN, sample_rate=SR)
    first = preview_views(files, chain, tmp_path / "one", SR, views=3, seed=7, progress=False)
    again = preview_views(files, chain, tmp_path / "two", SR, views=3, seed=7, progress=False)
    views = [sf.read(p, dtype="float32")[0] for p in first["written"][0]["views"]]
    assert len(views) == 3 and all(len(v) == SR // 2 for v in views)
    assert not np.allclose(views[0], views[1])  # each copy drew its own parameters
    repeated = [sf.read(p, dtype="float32")[0] for p in again["written"][0]["views"]]
    assert all(np.array_equal(a, b) for a, b in zip(views, repeated))
    assert (tmp_path / "one" / "a_views.png").stat().st_size > 0


def test_unreadable_file_is_skipped_and_named(recordings, tmp_path):
    files = sorted(recordings.iterdir())
    summary = preview_views(files, build_chain(CHAIN, sample_rate=SR), tmp_path / "out", SR, views=2,
                            figure=False, progress=False)
    assert len(summary["written"]) == 2
    assert len(summary["skipped"]) == 1 and "broken.wav" in summary["skipped"][0]


def test_log_mel_chain_is_refused_by_name(recordings, tmp_path):
    chain = build_chain([{"name": "freq_mask"}])
    with pytest.raises(ConfigError, match="FrequencyMask"):
        preview_views([recordings / "a.wav"], chain, tmp_path / "out", SR, progress=False)


def test_command_runs_a_recipe_chain_on_a_folder(recordings, tmp_path, capsys):
    out = tmp_path / "views"
    assert main(["augment", str(recordings), "--out", str(out), "--config", "simclr", "--views", "2"]) == 0
    text = capsys.readouterr().out
    assert "wrote 2 views of 2 file(s)" in text and "skipped 1 unreadable file(s)" in text and "broken.wav" in text
    assert sorted(p.name for p in out.glob("*.wav")) == ["a_view0.wav", "a_view1.wav", "b_view0.wav", "b_view1.wav"]
    assert main(["augment", str(recordings), "--out", str(out), "--config", "simclr", "--key", "nope"]) == 2
    assert "no augmentation chain method.nope" in capsys.readouterr().err
