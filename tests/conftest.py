"""Shared fixtures: tiny audio files written to tmp_path, and the path to the real data.

`write_audio(name, signal, sample_rate)` writes any soundfile format (from the suffix) and
returns the path; `tone(freq, seconds, sample_rate)` makes a sine; `audio_folder` is a
small nested folder of labelled files; `tiny_fsdd` is an FSDD-style layout of 45 files (a digit
is a pitch, a speaker a loudness); `shared_data` points at ../shared/data (tests that need it
skip when it is absent); `killed_at_call` kills a training run mid-way."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# Test tensors are tiny: one intra-op thread is as fast, and immune to the slow-down that
# OpenMP threads suffer when the machine's cores are busy with other work.
torch.set_num_threads(1)


def make_tone(freq: float = 440.0, seconds: float = 1.0, sample_rate: int = 16000, amplitude: float = 0.5,
              channels: int = 1) -> np.ndarray:
    """A float32 sine `(T,)`, or `(T, channels)` with a different amplitude per channel."""
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    x = (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    if channels == 1:
        return x
    return np.stack([x * (c + 1) / channels for c in range(channels)], axis=1)


@pytest.fixture
def tone():
    return make_tone


@pytest.fixture
def write_audio(tmp_path):
    """Factory: ``write_audio("a/b.flac", signal, 16000, subtype=None) -> Path`` under tmp_path."""

    def write(name: str, signal: np.ndarray, sample_rate: int = 16000, subtype: str | None = None) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, signal, sample_rate, subtype=subtype)
        return path

    return write


@pytest.fixture
def audio_folder(tmp_path, write_audio):
    """root/{dog,cat}/*.{wav,flac} (4 files, 0.5 s, 16 kHz) plus a non-audio file to ignore."""
    root = tmp_path / "folder"
    for label, freq in (("dog", 300.0), ("cat", 600.0)):
        write_audio(f"folder/{label}/a.wav", make_tone(freq, 0.5), 16000)
        write_audio(f"folder/{label}/deep/b.flac", make_tone(freq * 2, 0.5), 16000)
    (root / "notes.txt").write_text("not audio")
    return root


@pytest.fixture
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_fsdd(tmp_path_factory):
    """3 speakers x 3 digits x 5 takes, 0.25 s at 8 kHz: a digit is a pitch, a speaker a loudness."""
    root = tmp_path_factory.mktemp("fsdd")
    (root / "recordings").mkdir()
    rng = np.random.default_rng(0)
    t = np.arange(2000) / 8000
    for s, (speaker, amp) in enumerate((("ann", 0.05), ("bob", 0.2), ("cy", 0.6))):
        for d, hz in enumerate((300.0, 700.0, 1500.0)):
            for i in range(5):
                x = amp * np.sin(2 * np.pi * hz * (1 + 0.01 * i) * t) + 0.01 * rng.standard_normal(len(t))
                sf.write(root / "recordings" / f"{d}_{speaker}_{i}.wav", x.astype(np.float32), 8000)
    return root


@pytest.fixture
def killed_at_call(monkeypatch):
    """``with killed_at_call(SimCLR, 7): trainer.fit()``: the method's 7th forward raises
    KeyboardInterrupt, as a kill would mid-run (expected inside the block); restored after."""

    @contextlib.contextmanager
    def kill(method_class, n: int):
        original, calls = method_class.forward, {"n": 0}

        def forward(self, batch, generator=None):
            calls["n"] += 1
            if calls["n"] == n:
                raise KeyboardInterrupt("killed")
            return original(self, batch, generator)

        monkeypatch.setattr(method_class, "forward", forward)
        try:
            with pytest.raises(KeyboardInterrupt):
                yield
        finally:
            monkeypatch.setattr(method_class, "forward", original)

    return kill
