"""`write_shards` / `audiorep shard`: what a user of the shards relies on. Every good clip comes back
(whole, at the model rate, within 16-bit quantisation) under its input position as key, with its
manifest columns; bad files are skipped and listed; shards split where asked; the bytes depend on
the input only, also when a killed run is resumed; a folder of other shards is never mixed in."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tarfile
import time

import numpy as np
import pytest
import soundfile as sf
import soxr

import audiorep.data.shard_writer as shard_writer
from audiorep.cli import main as cli_main
from audiorep.data.shard_format import INDEX_NAME, decode_sample, sample_key
from audiorep.data.shard_writer import write_shards
from audiorep.data.sources import FolderSource, ManifestSource
from audiorep.errors import ConfigError

SR = 16000


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """14 files in one folder (sorted order = input order): 10 at 16 kHz (WAV/FLAC), 2 at 8 kHz,
    a float WAV peaking at 1.5, a corrupt file and an empty file; plus a manifest of them all.
    Returns (folder, {name: (signal, rate)})."""
    root = tmp_path_factory.mktemp("clips")
    rng = np.random.default_rng(0)
    signals = {}
    for i in range(12):
        rate = 8000 if i in (3, 8) else SR
        x = (0.4 * rng.standard_normal(round(rng.uniform(0.5, 1.5) * rate))).clip(-1, 1).astype(np.float32)
        x = np.round(x * 32767) / 32767  # already 16-bit: the round trip is exact up to the resampler
        name = f"c{i:02d}.{'wav' if i % 2 else 'flac'}"
        sf.write(root / name, x, rate, subtype="PCM_16")
        signals[name] = (x.astype(np.float32), rate)
    loud = (1.5 * np.sin(np.arange(SR) * 0.05)).astype(np.float32)
    sf.write(root / "c12_loud.wav", loud, SR, subtype="FLOAT")
    signals["c12_loud.wav"] = (loud, SR)
    (root / "c05_corrupt.wav").write_bytes(b"RIFF not really a wave file" * 20)
    (root / "c09_empty.flac").write_bytes(b"")
    names = sorted(p.name for p in root.iterdir())
    with open(root / "manifest.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label", "speaker", "labels"])
        w.writerows([n, f"class{k % 3}", f"spk{k}", "a;b"] for k, n in enumerate(names))
    return root, signals


def read_shards(out, video=False):
    """[(shard name, key, decoded sample)] of every shard the index lists, in order."""
    index = json.loads((out / INDEX_NAME).read_text())
    samples = []
    for shard in index["shards"]:
        groups = {}
        with tarfile.open(out / shard["name"]) as tar:
            for member in tar:
                key, ext = member.name.split(".", 1)
                groups.setdefault(key, {})[ext] = tar.extractfile(member).read()
        for key, members in groups.items():
            samples.append((shard["name"], key, decode_sample(members, f"{shard['name']}:{key}", video=video)))
    return index, samples


def digests(out):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.glob("*.tar"))}


def test_folder_round_trip_keys_resampling_and_skipped_files(clips, tmp_path):
    root, signals = clips
    source = FolderSource(root, sample_rate=SR)
    summary = write_shards(source, tmp_path / "out", sample_rate=SR, max_samples=4, progress=False)
    index, samples = read_shards(tmp_path / "out")
    names = [r.path.split("/")[-1] for r in source.records]
    good = [i for i, n in enumerate(names) if n in signals]
    assert [key for _, key, _ in samples] == [sample_key(i) for i in good]  # input order, input position
    for (_, _, s), i in zip(samples, good):
        x, rate = signals[names[i]]
        want = x if rate == SR else soxr.resample(x, rate, SR, quality="HQ")
        assert s["sample_rate"] == SR and s["meta"]["path"] == names[i] and s["audio"].shape == want.shape
        tol = 1.5 * max(1.0, np.abs(want).max()) / 32768 + (2e-4 if rate != SR else 0)
        np.testing.assert_allclose(s["audio"], want, atol=tol)
    assert np.abs(samples[-1][2]["audio"]).max() > 1.4  # a float file's level survives the 16-bit store
    assert {s["path"] for s in index["skipped"]} == {"c05_corrupt.wav", "c09_empty.flac"}
    assert all(s["cause"] for s in index["skipped"]) and summary["skipped"] == 2
    assert [s["samples"] for s in index["shards"]] == [4, 4, 4, 1] and summary["samples"] == 13
    assert index["complete"] and summary["shards"] == 4 and summary["status"] == "written"
    assert summary["bytes"] == sum((tmp_path / "out" / s["name"]).stat().st_size for s in index["shards"])
    covered = [(s["first_input"], s["next_input"]) for s in index["shards"]]
    assert covered[0][0] == 0 and covered[-1][1] == len(source)
    assert all(a[1] == b[0] for a, b in zip(covered, covered[1:]))  # the shards tile the input
    assert index["seconds"] == pytest.approx(sum(len(s["audio"]) for _, _, s in samples) / SR)


def test_manifest_columns_kept_and_workers_keep_order(clips, tmp_path):
    root, _ = clips
    source = ManifestSource(root / "manifest.csv", sample_rate=SR)
    summary = write_shards(source, tmp_path / "out", sample_rate=SR, num_workers=2, progress=False)
    _, samples = read_shards(tmp_path / "out")
    assert summary["shards"] == 1 and summary["samples"] == 13
    assert [key for _, key, _ in samples] == sorted(key for _, key, _ in samples)  # workers keep input order
    by_path = {r.path.split("/")[-1]: (i, r) for i, r in enumerate(source.records)}
    for _, key, s in samples:
        i, rec = by_path[s["meta"]["path"]]
        assert key == sample_key(i)
        assert s["meta"]["label"] == rec.label == f"class{i % 3}"
        assert s["meta"]["meta"] == {"label": f"class{i % 3}", "speaker": f"spk{i}", "labels": ["a", "b"]}


def test_size_limit_splits_and_reruns_are_byte_identical(clips, tmp_path, monkeypatch):
    root, _ = clips
    source = FolderSource(root, sample_rate=SR)
    write_shards(source, tmp_path / "a", sample_rate=SR, max_megabytes=0.001, progress=False)
    index, _ = read_shards(tmp_path / "a")
    assert [s["samples"] for s in index["shards"]] == [1] * 13  # every clip is > 1 kB
    later = time.time() + 86400
    monkeypatch.setattr(time, "time", lambda: later)  # a day later: the bytes must not hold the clock
    write_shards(source, tmp_path / "b", sample_rate=SR, max_megabytes=0.001, num_workers=2, progress=False)
    assert digests(tmp_path / "a") == digests(tmp_path / "b") and len(digests(tmp_path / "a")) == 13
    again = write_shards(source, tmp_path / "a", sample_rate=SR, max_megabytes=0.001, progress=False)
    assert again["status"] == "already complete" and again["samples"] == 13 and again["skipped"] == 2


def test_killed_run_leaves_only_complete_tars_and_resumes_to_the_same_bytes(clips, tmp_path, monkeypatch):
    root, _ = clips
    source = FolderSource(root, sample_rate=SR)
    write_shards(source, tmp_path / "whole", sample_rate=SR, max_samples=3, progress=False)
    real, calls = shard_writer.encode_sample, {"n": 0}

    def dies_at_eighth(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 8:
            raise KeyboardInterrupt("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(shard_writer, "encode_sample", dies_at_eighth)
    out = tmp_path / "killed"
    with pytest.raises(KeyboardInterrupt):
        write_shards(source, out, sample_rate=SR, max_samples=3, progress=False)
    monkeypatch.setattr(shard_writer, "encode_sample", real)
    index = json.loads((out / INDEX_NAME).read_text())
    assert not index["complete"] and [s["name"] for s in index["shards"]] == ["shard-000000.tar", "shard-000001.tar"]
    assert sorted(p.name for p in out.glob("*.tar")) == ["shard-000000.tar", "shard-000001.tar"]
    for name in digests(out):  # every *.tar there reads to its end
        with tarfile.open(out / name) as tar:
            assert len(tar.getmembers()) == 6
    (out / "shard-000002.tar.partial").write_bytes(b"half a shard")  # as a SIGKILL would leave it
    summary = write_shards(source, out, sample_rate=SR, max_samples=3, progress=False)
    assert summary["status"] == "resumed" and not list(out.glob("*.partial"))
    assert digests(out) == digests(tmp_path / "whole")
    assert (out / INDEX_NAME).read_bytes() == (tmp_path / "whole" / INDEX_NAME).read_bytes()  # skips kept once


def test_other_settings_or_input_need_restart(clips, tmp_path):
    root, _ = clips
    source = FolderSource(root, sample_rate=SR)
    out = tmp_path / "out"
    write_shards(source, out, sample_rate=SR, max_samples=2, progress=False)
    assert len(digests(out)) == 7
    with pytest.raises(ConfigError, match="restart"):
        write_shards(source, out, sample_rate=SR, max_samples=5, progress=False)
    with pytest.raises(ConfigError, match="restart"):
        write_shards(source.subset(range(5)), out, sample_rate=SR, max_samples=2, progress=False)
    with pytest.raises(ConfigError, match="restart"):
        write_shards(source, out, sample_rate=8000, max_samples=2, progress=False)
    (out / "notes.txt").write_text("not ours")
    summary = write_shards(source, out, sample_rate=SR, max_samples=5, restart=True, progress=False)
    assert summary["status"] == "written" and sorted(digests(out)) == [f"shard-00000{k}.tar" for k in range(3)]
    assert (out / "notes.txt").exists()
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "shard-000000.tar").write_bytes(b"someone else's")
    with pytest.raises(ConfigError, match="no index.json"):
        write_shards(source, stray, sample_rate=SR, progress=False)


def test_video_shards_hold_frames_and_audio(tmp_path):
    from audiorep.data.synthetic import write_world
    from audiorep.data.video_source import VideoSource

    write_world(tmp_path / "world", 3, 0, sample_rate=SR, clip_seconds=1.0, video=True, video_size=16, video_fps=4.0)
    source = VideoSource(tmp_path / "world" / "manifest.csv", sample_rate=SR, video_size=16, video_fps=4.0)
    with pytest.raises(ConfigError, match="same size"):
        write_shards(source, tmp_path / "bad", sample_rate=SR, video=(32, 4.0), progress=False)
    summary = write_shards(source, tmp_path / "out", sample_rate=SR, video=(16, 4.0), progress=False)
    index, samples = read_shards(tmp_path / "out", video=True)
    assert index["fields"] == ["audio", "video"] and index["video"] == {"size": 16, "fps": 4.0}
    assert [key for _, key, _ in samples] == [sample_key(i) for i in range(3)]
    for _, _, s in samples:
        assert s["video"].dtype == np.uint8 and s["video"].shape == (4, 3, 16, 16) and s["meta"]["frames"] == 4
        assert abs(len(s["audio"]) - SR) <= 0.05 * SR and np.abs(s["audio"]).max() > 0.01
        assert s["meta"]["path"].startswith("video/") and s["meta"]["meta"]["audio_path"].startswith("audio/")
        assert s["video"].std() > 0  # not a blank clip
    assert summary["frame_bytes_per_second"] > 0 and summary["audio_bytes_per_second"] > 0


def test_cli_end_to_end_with_json(clips, tmp_path, capsys):
    root, _ = clips
    out, report = tmp_path / "out", tmp_path / "reports" / "summary.json"
    assert cli_main(["shard", str(root), "--out", str(out), "--max-samples", "5", "--json", str(report)]) == 0
    printed = capsys.readouterr().out
    summary = json.loads(report.read_text())
    assert summary["shards"] == 3 and summary["samples"] == 13 and summary["skipped"] == 2
    assert "3 shards, 13 samples" in printed and "c05_corrupt.wav" in printed and "c09_empty.flac" in printed
    assert sorted(digests(out)) == ["shard-000000.tar", "shard-000001.tar", "shard-000002.tar"]
    assert cli_main(["shard", str(root), "--out", str(out), "--max-samples", "4"]) == 2  # other settings
    assert "--restart" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:  # refused by the argument parser, before any work
        cli_main(["shard", str(root), "--out", str(out), "--max-samples", "0"])
    assert exit_.value.code == 2
    assert cli_main(["shard", str(root / "missing.flac"), "--out", str(out)]) == 2  # no such input
