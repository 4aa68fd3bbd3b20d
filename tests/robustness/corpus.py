"""A hostile-input corpus, built at test time (no binary fixture is committed): the kinds of bad
audio a folder scraped over years holds, each with the words its error must contain, beside good
files that must survive next to them.

    bad = write_bad_audio(tmp_path / "bad")      # {kind: (path, cause regex)}
    good = write_good_audio(tmp_path / "good", 4)  # [path, ...]
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 16000


def _tone(seconds: float = 1.0, rate: int = RATE, freq: float = 440.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write_good_audio(folder: Path, n: int = 4) -> list[Path]:
    """`n` usable clips of different formats, rates and channel counts."""
    folder.mkdir(parents=True, exist_ok=True)
    kinds = [("wav", RATE, 1, "PCM_16"), ("flac", RATE, 2, "PCM_16"), ("wav", 8000, 1, "FLOAT"), ("ogg", 22050, 1, None)]
    paths = []
    for i in range(n):
        ext, rate, channels, subtype = kinds[i % len(kinds)]
        x = _tone(1.0 + 0.25 * i, rate, 220.0 * (1 + i % 3))
        x = np.stack([x, x * 0.5], 1) if channels == 2 else x
        path = folder / f"good_{i:02d}.{ext}"
        sf.write(path, x, rate, subtype=subtype)
        paths.append(path)
    return paths


def _float_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    sf.write(path, samples.astype(np.float32), rate, subtype="FLOAT")
    return path


def write_bad_audio(folder: Path) -> dict[str, tuple[Path, str]]:
    """Every kind of unusable audio file: ``{kind: (path, regex its error's cause must match)}``."""
    folder.mkdir(parents=True, exist_ok=True)
    good = _tone()
    out: dict[str, tuple[Path, str]] = {}

    def add(kind: str, path: Path, cause: str):
        out[kind] = (path, cause)

    p = folder / "empty.wav"
    p.write_bytes(b"")
    add("empty file", p, "empty")
    add("missing file", folder / "missing.wav", "does not exist")
    p = folder / "a_folder.wav"
    p.mkdir(exist_ok=True)
    add("directory named .wav", p, "directory")
    p = folder / "dangling.wav"
    if not p.is_symlink():
        os.symlink(folder / "nowhere.wav", p)
    add("dangling symlink", p, "does not exist")
    p = folder / "random_bytes.wav"
    p.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    add("random bytes", p, "unreadable|corrupt")
    p = folder / "text.flac"
    p.write_text("this is not audio\n" * 20)
    add("text named .flac", p, "unreadable|corrupt")
    p = folder / "garbage.mp3"
    p.write_bytes(b"ID3" + bytes(range(256)) * 8)
    add("garbage mp3", p, "unreadable|corrupt|zero frames")
    sf.write(folder / "whole.wav", good, RATE)
    p = folder / "header_only.wav"
    p.write_bytes((folder / "whole.wav").read_bytes()[:44])
    add("header without samples", p, "zero frames|unreadable|corrupt")
    p = folder / "cut_header.wav"
    p.write_bytes((folder / "whole.wav").read_bytes()[:20])
    add("truncated header", p, "unreadable|corrupt")
    (folder / "whole.wav").unlink()
    p = folder / "zero_rate.wav"
    sf.write(p, good, RATE)
    data = bytearray(p.read_bytes())
    data[24:28] = struct.pack("<I", 0)  # the fmt chunk's sample rate
    p.write_bytes(bytes(data))
    add("sample rate 0 in the header", p, "sample rate|unreadable|corrupt")
    add("all NaN", _float_wav(folder / "all_nan.wav", np.full(RATE, np.nan)), "NaN|non-finite|infinite")
    add("all +inf", _float_wav(folder / "all_inf.wav", np.full(RATE, np.inf)), "NaN|non-finite|infinite")
    some = good.copy()
    some[::97] = np.nan
    add("some NaN samples", _float_wav(folder / "some_nan.wav", some), "NaN|non-finite")
    one = good.copy()
    one[1234] = -np.inf
    add("one -inf sample", _float_wav(folder / "one_inf.wav", one), "infinite|non-finite")
    add("finite but 1e30", _float_wav(folder / "huge_1e30.wav", good * 1e30), "amplitude")
    add("finite but -1e30 constant", _float_wav(folder / "minus_1e30.wav", np.full(RATE, -1e30)), "amplitude")
    add("finite but 1e5", _float_wav(folder / "huge_1e5.wav", good * 1e5), "amplitude")
    add("finite but float max", _float_wav(folder / "float_max.wav", np.full(RATE, np.finfo(np.float32).max)),
        "amplitude")
    p = folder / "truncated.flac"
    sf.write(p, np.tile(good, 4), RATE)
    p.write_bytes(p.read_bytes()[:200])
    add("truncated FLAC", p, "unreadable|corrupt|zero frames|truncated")
    return out
