"""Read audio files as mono float32 at the model's rate, reading only what a crop needs.

Every function raises `AudioFileError(path, cause)` for a file that cannot be used, so a
data loader can skip and count bad files instead of dying on the first one.

Choices a caller relies on:
- Mono is the mean of the channels; the output is float32 in [-1, 1] for PCM files.
- Resampling uses soxr (quality "HQ" by default). A crop reads only its own frames at the
  file's native rate plus a short context on each side (so the resampler has no edge
  transient inside the crop), then resamples and trims to exactly the requested samples.
- A crop that runs past the end of the file is zero-padded at the end. `load_crop` with
  ``position="random"`` places a file shorter than the crop at a random offset inside it.
- One sample policy (`check_samples`, applied to every frame any reader decodes, crops
  included, and to the audio track `io/video.py` decodes): a clip holding any NaN or inf
  sample, or whose peak |amplitude| exceeds `MAX_ABS_AMPLITUDE`, is unusable and raises.
  Nothing is silently repaired: a zeroed hole or a clip of 1e30 would reach the model as if
  it were sound.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Literal

import numpy as np
import soundfile as sf
import soxr

from audiorep.errors import AudioFileError, ConfigError

MAX_SAMPLE_RATE = 1_000_000
"""Rates above this (or <= 0) come from a broken header, not a real recording."""

DEFAULT_MAX_SECONDS = 600.0
"""Whole-file loads longer than this raise instead of filling memory; crops are never limited."""

MAX_ABS_AMPLITUDE = 100.0
"""Peak |sample| above which a clip is not audio: 100 = 40 dB above digital full scale (1.0).

PCM files decode into [-1, 1] and can never exceed it. Float files may legitimately go
slightly over 1 (a mix that clips, a float render kept unnormalised, shards that store
level as a gain); tens of dB over full scale is no recording but a wrong scale (int16
values stored as floats reach 32768) or corrupt data (1e30, float32 max), which would
saturate a front-end's log and poison a batch's statistics. The same limit guards the
HEAR API's input (`audiorep.hear`)."""

_CONTEXT_S = 0.02
"""Native-rate context read on each side of a crop before resampling (soxr HQ needs ~ms)."""

CropPosition = Literal["random", "start", "center"]


@dataclass(frozen=True)
class AudioInfo:
    """What the header says about a file, without decoding the samples."""

    sample_rate: int
    frames: int
    channels: int
    duration_s: float


def _check_target_rate(sample_rate) -> int:
    if not isinstance(sample_rate, (int, np.integer)) or not 0 < sample_rate <= MAX_SAMPLE_RATE:
        raise ConfigError(f"sample_rate must be a positive integer <= {MAX_SAMPLE_RATE}, got {sample_rate!r}")
    return int(sample_rate)


def check_file_path(path: str, kind: str = "audio") -> None:
    """An `AudioFileError` for a path that is missing, a directory or empty, before any decoder sees it."""
    if not os.path.exists(path):
        raise AudioFileError(path, "file does not exist")
    if os.path.isdir(path):
        raise AudioFileError(path, f"is a directory, not an {kind} file" if kind[0] in "aeiou" else
                             f"is a directory, not a {kind} file")
    if os.path.getsize(path) == 0:
        raise AudioFileError(path, "file is empty (0 bytes)")


def _open(path) -> sf.SoundFile:
    """Open `path` for reading and check its header; the caller closes the handle."""
    path = os.fspath(path)
    check_file_path(path)
    try:
        f = sf.SoundFile(path)
    except Exception as err:  # libsndfile reports corrupt/unsupported files in many ways
        raise AudioFileError(path, f"unreadable or corrupt audio ({err})") from err
    try:
        if not 0 < f.samplerate <= MAX_SAMPLE_RATE:
            raise AudioFileError(path, f"unsupported sample rate {f.samplerate} Hz in the header")
        if f.channels <= 0:
            raise AudioFileError(path, f"header says {f.channels} channels")
        if f.frames <= 0:
            raise AudioFileError(path, "zero frames (no audio in the file)")
    except BaseException:
        f.close()
        raise
    return f


def audio_info(path) -> AudioInfo:
    """Header facts of `path` (rate, frames, channels, duration) without reading samples."""
    with _open(path) as f:
        return AudioInfo(f.samplerate, f.frames, f.channels, f.frames / f.samplerate)


def unusable_samples_cause(x) -> str | None:
    """Why the samples `x` (any shape, a float array) break the sample policy, or None.

    The cause reads after a name (a path, "audio row 3"): ``"holds 3 NaN samples (non-finite) of
    16000; ..."``, ``"holds 1 infinite sample (-inf, non-finite) of 16000; ..."`` or ``"has peak
    amplitude 1e+05, which exceeds MAX_ABS_AMPLITUDE=100 (...)"``. One pass over `x` when it is
    usable; the counting runs only for a clip that is not."""
    x = np.asarray(x)
    if x.size == 0:
        return None
    peak = max(float(x.max()), -float(x.min()))  # NaN propagates; no |x| temporary
    if peak <= MAX_ABS_AMPLITUDE:
        return None
    n_nan = int(np.count_nonzero(np.isnan(x)))
    n_inf = int(np.count_nonzero(np.isinf(x)))
    if n_nan or n_inf:
        plural = "s" if n_nan + n_inf > 1 else ""
        if n_nan and n_inf:
            what = f"{n_nan} NaN and {n_inf} infinite samples (non-finite)"
        elif n_nan:
            what = f"{n_nan} NaN sample{plural} (non-finite)"
        else:
            signs = ", ".join(s for s, n in (("+inf", np.count_nonzero(x == np.inf)),
                                              ("-inf", np.count_nonzero(x == -np.inf))) if n)
            what = f"{n_inf} infinite sample{plural} ({signs}, non-finite)"
        return f"holds {what} of {x.size}; a clip with any NaN/inf sample is unusable"
    return (f"has peak amplitude {peak:.3g}, which exceeds MAX_ABS_AMPLITUDE={MAX_ABS_AMPLITUDE:g} "
            f"({20 * math.log10(MAX_ABS_AMPLITUDE):.0f} dB above full scale 1.0): wrongly scaled or corrupt samples")


def check_samples(x: np.ndarray, path) -> np.ndarray:
    """`x` unchanged if it follows the sample policy, else `AudioFileError(path, cause)`:
    any NaN/inf sample, or a peak |amplitude| over `MAX_ABS_AMPLITUDE`, makes a clip unusable.
    Every file reader here calls it on what it decoded; other readers can too."""
    cause = unusable_samples_cause(x)
    if cause is not None:
        raise AudioFileError(path, cause)
    return x


def _read_frames(f: sf.SoundFile, path: str, start: int, n: int) -> np.ndarray:
    """Read up to `n` frames from `start` at the native rate, checked (`check_samples`), mixed to mono."""
    try:
        if start > 0:
            if f.seekable():
                f.seek(start)
            else:  # rare formats: skip forward in bounded blocks, never holding the skipped part
                left = start
                while left > 0:
                    got = len(f.read(min(left, 1 << 16), dtype="float32", always_2d=True))
                    if got == 0:
                        break
                    left -= got
        data = f.read(n, dtype="float32", always_2d=True)
    except Exception as err:
        raise AudioFileError(path, f"unreadable or corrupt audio data ({err})") from err
    check_samples(data, path)  # before the mix-down: a mean could overflow or hide a channel's inf
    mono = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    return np.ascontiguousarray(mono, dtype=np.float32)


def _resample(x: np.ndarray, rate_in: int, rate_out: int, quality: str) -> np.ndarray:
    if rate_in == rate_out or len(x) == 0:
        return x
    return soxr.resample(x, rate_in, rate_out, quality=quality).astype(np.float32, copy=False)


def _read_span(f: sf.SoundFile, path: str, sample_rate: int, start_out: int, n_out: int, quality: str) -> np.ndarray:
    """Exactly `n_out` samples at `sample_rate` starting at output sample `start_out`.

    Reads only the matching native frames plus `_CONTEXT_S` on each side; zero-pads past the
    end of the file."""
    rate_in, total = f.samplerate, f.frames
    ratio = rate_in / sample_rate
    first = int(math.floor(start_out * ratio))
    last = int(math.ceil((start_out + n_out) * ratio))  # exclusive, native frames
    if first >= total:
        raise AudioFileError(path, f"crop starts at {start_out / sample_rate:.3f} s, past the end ({total / rate_in:.3f} s)")
    if rate_in == sample_rate:
        x = _read_frames(f, path, first, n_out)
    else:
        ctx = int(math.ceil(_CONTEXT_S * rate_in))
        lo, hi = max(0, first - ctx), min(total, last + ctx)
        native = _read_frames(f, path, lo, hi - lo)
        y = _resample(native, rate_in, sample_rate, quality)
        skip = int(round(lo / ratio)) if lo else 0
        x = y[start_out - skip : start_out - skip + n_out]
    if len(x) < n_out:
        x = np.pad(x, (0, n_out - len(x)))
    return x


def load_audio(
    path,
    sample_rate: int,
    offset_s: float = 0.0,
    duration_s: float | None = None,
    *,
    quality: str = "HQ",
    max_seconds: float | None = DEFAULT_MAX_SECONDS,
) -> np.ndarray:
    """Mono float32 `(T,)` at `sample_rate`: the whole file, or `duration_s` from `offset_s`.

    With `duration_s` the result has exactly ``round(duration_s * sample_rate)`` samples
    (zero-padded past the end) and only those frames are decoded. A whole-file load longer
    than `max_seconds` raises (pass ``None`` to lift the guard)."""
    sample_rate = _check_target_rate(sample_rate)
    if offset_s < 0 or (duration_s is not None and duration_s <= 0):
        raise ValueError(f"offset_s must be >= 0 and duration_s > 0, got {offset_s}, {duration_s}")
    path = os.fspath(path)
    with _open(path) as f:
        if duration_s is not None:
            return _read_span(f, path, sample_rate, int(round(offset_s * sample_rate)),
                              int(round(duration_s * sample_rate)), quality)
        length_s = f.frames / f.samplerate - offset_s
        if max_seconds is not None and length_s > max_seconds:
            raise AudioFileError(
                path,
                f"{length_s:.1f} s is longer than max_seconds={max_seconds:g} for a whole-file load; "
                "load a crop (duration_s) or raise max_seconds",
            )
        if offset_s == 0:
            x = _read_frames(f, path, 0, f.frames)
            x = _resample(x, f.samplerate, sample_rate, quality)
            return x
        n_out = int(round(length_s * sample_rate))
        if n_out <= 0:
            raise AudioFileError(path, f"offset {offset_s:.3f} s is past the end ({f.frames / f.samplerate:.3f} s)")
        return _read_span(f, path, sample_rate, int(round(offset_s * sample_rate)), n_out, quality)


def crop_window(total: int, length: int, position: CropPosition, rng: np.random.Generator | None = None) -> tuple[int, int]:
    """Where a `length`-sample crop of a `total`-sample signal goes: ``(start, pad_left)``.

    `start` is the first sample taken from the signal; `pad_left` the zeros placed before it
    when the signal is shorter than the crop ("random" places it at random, else left-aligned)."""
    if position not in ("random", "start", "center"):
        raise ConfigError(f"crop must be 'random', 'start' or 'center', got {position!r}")
    spare = total - length
    if position == "start":
        return 0, 0
    if position == "center":
        return max(spare // 2, 0), 0
    rng = rng if rng is not None else np.random.default_rng()
    if spare >= 0:
        return int(rng.integers(0, spare + 1)), 0
    return 0, int(rng.integers(0, -spare + 1))


def load_crop(
    path,
    sample_rate: int,
    seconds: float,
    position: CropPosition = "random",
    rng: np.random.Generator | None = None,
    *,
    quality: str = "HQ",
) -> np.ndarray:
    """A `seconds`-long mono crop at `sample_rate` placed by `position`; decodes only the crop."""
    sample_rate = _check_target_rate(sample_rate)
    if seconds <= 0:
        raise ValueError(f"seconds must be > 0, got {seconds}")
    path = os.fspath(path)
    with _open(path) as f:
        return read_crop(f, path, sample_rate, seconds, position, rng, quality=quality)[0]


def read_crop(f: sf.SoundFile, path: str, sample_rate: int, seconds: float, position: CropPosition = "random",
              rng: np.random.Generator | None = None, *, quality: str = "HQ") -> tuple[np.ndarray, float]:
    """`load_crop` of an open file (on disk or in memory, e.g. a FLAC member of a tar shard):
    ``(crop, start_s)``, `start_s` the clip time of the crop's first sample (negative when a
    short clip is placed after leading zeros), so other streams can be cut at the same time."""
    n_out = int(round(seconds * sample_rate))
    total_out = int(math.floor(f.frames * sample_rate / f.samplerate))
    start, pad_left = crop_window(max(total_out, 1), n_out, position, rng)
    x = _read_span(f, path, sample_rate, start, n_out - pad_left, quality)
    if pad_left:
        x = np.concatenate([np.zeros(pad_left, np.float32), x])
    return x, (start - pad_left) / sample_rate


def load_random_crop(path, sample_rate: int, seconds: float, rng: np.random.Generator | None = None, **kwargs) -> np.ndarray:
    """A uniformly placed random `seconds`-long crop (see `load_crop`)."""
    return load_crop(path, sample_rate, seconds, "random", rng, **kwargs)
