"""Sources: which clips they list, what they know about them, and how they load them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from audiorep.data.sources import ArraySource, ClipRecord, FolderSource, ManifestSource
from audiorep.errors import AudioFileError, ConfigError


def test_folder_source_is_recursive_sorted_and_audio_only(audio_folder):
    src = FolderSource(audio_folder)
    rel = [r.meta["relpath"] for r in src.records]
    assert rel == ["cat/a.wav", "cat/deep/b.flac", "dog/a.wav", "dog/deep/b.flac"]
    assert all(r.label is None for r in src.records)
    assert len(FolderSource(audio_folder, extensions=("flac",))) == 2
    assert len(src.load(0)) == 8000 and len(src.load(0, seconds=0.25)) == 4000


def test_folder_source_labels_from_folder_and_bad_root(audio_folder, tmp_path):
    src = FolderSource(audio_folder, label_from_folder=True)
    assert [r.label for r in src.records] == ["cat", "deep", "dog", "deep"]
    with pytest.raises(ConfigError, match="missing"):
        FolderSource(tmp_path / "missing")


def _write_manifest(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_manifest_paths_relative_to_csv_and_optional_columns(audio_folder, tmp_path):
    absolute = audio_folder / "cat" / "a.wav"
    csv_path = _write_manifest(
        audio_folder / "manifest.csv",
        "path,label,labels,fold,speaker\n"
        "dog/a.wav,dog,bark;animal,1,ann\n"
        f"{absolute},cat,meow,2,bob\n",
    )
    src = ManifestSource(csv_path, sample_rate=8000)
    assert [r.path for r in src.records] == [str(audio_folder / "dog" / "a.wav"), str(absolute)]
    first = src.records[0]
    assert first.label == "dog" and first.meta["labels"] == ["bark", "animal"]
    assert first.meta["fold"] == "1" and first.meta["speaker"] == "ann"
    assert len(src.load(1)) == 4000  # 0.5 s resampled to the source's 8 kHz
    assert [r.label for r in src.filter(fold=2).records] == ["cat"]
    assert len(src.filter(speaker=["ann", "bob"])) == 2 and len(src.subset([1])) == 1


def test_manifest_root_overrides_csv_folder(audio_folder, tmp_path):
    csv_path = _write_manifest(tmp_path / "elsewhere" / "m.csv", "path\ndog/a.wav\n")
    src = ManifestSource(csv_path, root=audio_folder)
    assert src.records[0].path == str(audio_folder / "dog" / "a.wav")
    assert src.records[0].label is None and len(src.load(0)) == 8000


def test_manifest_errors_name_the_file(tmp_path):
    no_path = _write_manifest(tmp_path / "nopath.csv", "file,label\na.wav,x\n")
    with pytest.raises(ConfigError, match="nopath.csv.*'path' column"):
        ManifestSource(no_path)
    with pytest.raises(ConfigError, match="empty.csv.*empty"):
        ManifestSource(_write_manifest(tmp_path / "empty.csv", ""))
    with pytest.raises(ConfigError, match="norows.csv.*no rows"):
        ManifestSource(_write_manifest(tmp_path / "norows.csv", "path,label\n"))


def test_manifest_missing_file_fails_at_load_not_at_build(tmp_path):
    src = ManifestSource(_write_manifest(tmp_path / "m.csv", "path\ngone.wav\n"))
    with pytest.raises(AudioFileError, match="gone.wav.*does not exist"):
        src.load(0)


def test_array_source_crops_from_memory_and_resamples():
    audio = torch.arange(2 * 1000, dtype=torch.float32).reshape(2, 1000)
    src = ArraySource(audio, sample_rate=1000, meta=[{"label": 3}, {"label": 4}])
    assert len(src) == 2 and isinstance(src.records[0], ClipRecord) and src.records[1].label == 4
    np.testing.assert_array_equal(src.load(1), audio[1].numpy())
    np.testing.assert_array_equal(src.load(1, 0.2, crop="center"), audio[1, 400:600].numpy())
    crop = src.load(0, 0.3, np.random.default_rng(0))
    assert len(crop) == 300 and np.all(np.diff(crop) == 1)  # a contiguous slice
    padded = src.load(0, 2.0, crop="start")
    assert len(padded) == 2000 and not padded[1000:].any()
    assert len(src.load(0, 0.5, crop="start", sample_rate=2000)) == 1000
    sub = src.subset([1])
    assert sub.records[0].label == 4 and sub.load(0)[0] == 1000


def test_array_source_rejects_bad_shapes():
    with pytest.raises(ConfigError, match="N, T"):
        ArraySource(np.zeros(10), 16000)
    with pytest.raises(ConfigError, match="meta"):
        ArraySource(np.zeros((2, 10)), 16000, meta=[{}])


def test_real_fsdd_manifest(shared_data):
    src = ManifestSource(shared_data / "fsdd" / "manifest.csv", sample_rate=16000).subset(range(5))
    for i, rec in enumerate(src.records):
        y = src.load(i)
        assert y.dtype == np.float32 and np.isfinite(y).all() and np.abs(y).max() > 0.01
        assert len(y) == pytest.approx(float(rec.meta["duration_s"]) * 16000, abs=2)
        assert rec.label == "0" and rec.meta["speaker"] == "george"


def test_a_per_clip_field_is_never_cropped_or_resampled_and_keeps_its_dtype():
    audio = torch.arange(3 * 1000, dtype=torch.float32).reshape(3, 1000)
    classes = np.array([2, 0, 1], dtype=np.int64)
    multi_hot = np.eye(3, 4, dtype=np.float32)
    src = ArraySource(audio, 1000, fields={"label": classes, "tags": multi_hot}, field_rates={"label": 0, "tags": 0})
    assert src.fields == ("audio", "label", "tags") and src.per_clip_fields == ("label", "tags")
    for kwargs in ({}, {"seconds": 0.3, "rng": np.random.default_rng(0)}, {"seconds": 2.0, "crop": "start"},
                   {"seconds": 0.5, "crop": "center", "sample_rate": 2000}, {"sample_rate": 500}):
        fields = src.load_fields(2, **kwargs)
        assert fields["label"].shape == () and fields["label"].dtype == np.int64 and fields["label"] == 1
        assert fields["tags"].dtype == np.float32
        np.testing.assert_array_equal(fields["tags"], multi_hot[2])
    sub = src.subset([2, 0])  # a subset keeps each clip's own value
    assert [int(sub.load_fields(i)["label"]) for i in range(2)] == [1, 2]
    variable = ArraySource([np.ones(3), np.ones(5)], 1000, fields={"label": [4, 5]}, field_rates={"label": 0})
    assert int(variable.load_fields(1)["label"]) == 5  # clips of any length may carry one


def test_a_per_clip_field_must_have_one_value_per_clip():
    with pytest.raises(ConfigError, match="one value per clip .*N=3"):
        ArraySource(np.zeros((3, 10)), 1000, fields={"label": np.zeros(2)}, field_rates={"label": 0})
    with pytest.raises(ConfigError, match="or 0 .one value per clip"):
        ArraySource(np.zeros((3, 10)), 1000, fields={"label": np.zeros((3, 5))}, field_rates={"label": -1})
