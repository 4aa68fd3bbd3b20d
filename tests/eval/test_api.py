import csv

import numpy as np
import pytest
import soundfile as sf

import audiorep.api as ar
from audiorep.cli import main
from audiorep.errors import ConfigError


def test_embed_waveform_file_and_folder_agree(tiny_fsdd):
    model = ar.load("logmel")
    path = tiny_fsdd / "recordings" / "0_ann_0.wav"
    wave8k, sr = sf.read(path, dtype="float32")
    from_file = ar.embed_file(model, path)
    from_wave = ar.embed_waveform(model, wave8k, sample_rate=sr)  # resampled to the model's 16 kHz
    assert from_file.shape == (128,) and np.allclose(from_file, from_wave, atol=1e-3)
    batch = ar.embed_waveform(model, np.stack([wave8k, wave8k]), sample_rate=sr)
    assert batch.shape == (2, 128) and np.allclose(batch[1], from_wave, atol=1e-4)
    paths, emb = ar.embed_folder(model, tiny_fsdd, progress=False)
    assert len(paths) == 45 and emb.shape == (45, 128)
    assert np.allclose(emb[paths.index(str(path))], from_file, atol=1e-5)


def test_checkpoint_loads_and_long_audio_is_chunked(random_checkpoint):
    model = ar.load(random_checkpoint)
    wave = np.random.default_rng(0).standard_normal(16000 * 3).astype(np.float32)
    whole = ar.embed_waveform(model, wave)
    chunked = ar.embed_waveform(model, wave, chunk_seconds=1.0)  # mean of three 1 s chunks
    parts = ar.embed_waveform(model, wave.reshape(3, 16000))
    assert np.allclose(chunked, parts.mean(0), atol=1e-4) and whole.shape == (512,)
    frames, times = ar.embed_frames(model, wave)
    assert frames.shape == (len(times), 512) and np.allclose(np.diff(times), 0.04, atol=1e-5)
    with pytest.raises(ConfigError, match="shape"):
        ar.embed_waveform(model, np.zeros((1, 2, 3)))


def test_embed_command_writes_npy_and_index_and_skips_bad_files(tiny_fsdd, tmp_path, capsys):
    rows = ["path,label"] + [f"{tiny_fsdd}/recordings/{d}_bob_0.wav,{d}" for d in range(3)] + ["missing.wav,x"]
    (tmp_path / "m.csv").write_text("\n".join(rows))
    out = tmp_path / "out"
    assert main(["embed", str(tmp_path / "m.csv"), "--model", "logmel", "--out", str(out), "--quiet"]) == 0
    emb = np.load(out / "embeddings.npy")
    with open(out / "index.csv") as fh:
        index = list(csv.DictReader(fh))
    assert emb.shape == (3, 128) and [r["label"] for r in index] == ["0", "1", "2"]
    assert np.isfinite(emb).all()
    with open(out / "errors.csv") as fh:
        assert "missing.wav" in fh.read()
    assert "skipped 1 unusable file" in capsys.readouterr().out
    assert main(["embed", str(tmp_path / "nothing"), "--model", "logmel", "--out", str(out)]) == 2
