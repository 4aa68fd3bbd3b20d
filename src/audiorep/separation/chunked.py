"""Separate signals of any length in overlapping chunks, with bounded memory.

A separator (`forward([B,T]) -> [B,M,T]`, e.g. `TDCNSeparator`) sees one chunk of
`chunk` samples at a time; consecutive chunks overlap by at least `overlap` samples:

    chunk k-1  |-------------------------------|
    chunk k                        |-------------------------------|
                                   |guard|  fade  |guard|
                                   <---- overlap ----->

In the overlap the output is chunk k-1's alone for the first quarter (a guard: chunk k's
first samples have no left context), a raised-cosine cross-fade from k-1 to k over the
middle half, and chunk k's alone for the last quarter (chunk k-1's last samples have no
right context). The fade weights sum to one, so outputs that sum to their chunk's input
(mixture consistency) still sum to the whole input. A separator whose receptive field reaches
less than a quarter of the overlap from each sample, and whose output depends on nothing
else, gives exactly its unchunked output. `TDCNSeparator` normalises each chunk by its RMS and
its global layer norms pool over the whole chunk, so its chunked output differs from a
whole-file pass by how much those statistics change between chunks and the whole file.

**Channel order.** A MixIT separator's channels have no fixed meaning: the same source may come
out of channel 2 in one chunk and channel 5 in the next. Each chunk's channels are therefore
permuted to match the previous chunk's (already aligned) channels on their overlap before they
are cross-faded: the permutation maximises the summed inner products between matched channels
(equivalently, it minimises their summed squared difference; `align_channels`, the Hungarian
algorithm via scipy's `linear_sum_assignment`), so a source keeps one output file for the whole
signal as long as it sounds in the overlaps.

The last chunk is moved back to end at the end of the signal (so it is a full chunk with full
left context), which can make its overlap longer than `overlap`. Memory is one chunk of input,
its separator activations and one chunk of M output channels, whatever the signal's length:
`separate_stream` reads through a callback and hands finished output spans to another.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from audiorep.errors import AudioFileError

DEFAULT_CHUNK_SECONDS = 10.0
DEFAULT_OVERLAP_SECONDS = 2.0
WAV_LIMIT_BYTES = 4_000_000_000
"""A plain WAV header counts bytes in 32 bits; longer outputs are written as RF64 (same .wav name)."""


class NonFiniteOutputError(AudioFileError):
    """The separator produced NaN or inf samples for this input (for example an absurdly loud
    one): the file cannot be separated, like any other unusable audio file."""


def chunk_starts(total: int, chunk: int, overlap: int) -> list[int]:
    """Start sample of each chunk of a `total`-sample signal: every `chunk - overlap` samples,
    the last one moved back so that it ends at `total` (one chunk when `total <= chunk`)."""
    if chunk < 1 or not 0 <= overlap < chunk:
        raise ValueError(f"need chunk >= 1 and 0 <= overlap < chunk, got chunk={chunk}, overlap={overlap}")
    hop = chunk - overlap
    starts = [0]
    while starts[-1] + chunk < total:
        starts.append(min(starts[-1] + hop, total - chunk))
    return starts


def align_channels(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Index array `p` such that ``current[p]`` best matches `previous` ([M,L] each, the same
    stretch of signal): the permutation with the largest summed inner product between
    matched channels (the least summed squared difference). Ties, such as all-silent
    overlaps, keep the current order."""
    from scipy.optimize import linear_sum_assignment

    m = previous.shape[0]
    gram = previous.astype(np.float64) @ current.astype(np.float64).T  # [M_prev, M_cur]
    scale = float(np.abs(gram).max()) if gram.size else 0.0
    if not math.isfinite(scale) or scale == 0.0:
        return np.arange(m)
    gram = gram / scale + 1e-9 * np.eye(m)  # break exact ties in favour of the current order
    rows, cols = linear_sum_assignment(gram, maximize=True)
    return cols[np.argsort(rows)]


def _fade(length: int) -> np.ndarray:
    """Raised-cosine weights of the incoming chunk, rising from ~0 to ~1 over `length` samples."""
    t = (np.arange(length, dtype=np.float64) + 0.5) / length
    return (0.5 - 0.5 * np.cos(np.pi * t)).astype(np.float32)


@dataclass
class ChunkReport:
    """What `separate_stream` did: chunk and sample counts, and how many chunks were re-ordered."""

    chunks: int
    samples: int
    permuted_chunks: int


def separate_stream(
    separator: torch.nn.Module,
    read: Callable[[int, int], np.ndarray],
    total: int,
    write: Callable[[np.ndarray], None],
    chunk: int,
    overlap: int,
    device: str | torch.device = "cpu",
    progress: Iterator | None = None,
    name: str = "<signal>",
) -> ChunkReport:
    """Separate a `total`-sample signal chunk by chunk.

    `read(start, n)` returns samples [start, start+n) as float32 `(n,)`; `write(block)` receives
    consecutive finished output spans `[M, k]` (float32) in order, `total` samples in all.
    `progress`, if given, is advanced once per chunk (`.update(1)`). Raises
    `NonFiniteOutputError` at the first chunk whose output holds a NaN or inf (nothing of that
    chunk is written)."""
    if total < 1:
        raise ValueError(f"{name}: nothing to separate (0 samples)")
    starts = chunk_starts(total, min(chunk, total), overlap if chunk < total else 0)
    length = min(chunk, total)
    pending: np.ndarray | None = None  # aligned output of the current chunk from `emitted` on
    pending_end = 0
    emitted = 0
    permuted = 0
    rate = getattr(separator, "sample_rate", None)
    for start in starts:
        x = np.asarray(read(start, length), dtype=np.float32)
        if x.shape != (length,):
            raise ValueError(f"{name}: read({start}, {length}) returned shape {x.shape}")
        with torch.no_grad():
            out = separator(torch.from_numpy(x).to(device).unsqueeze(0))[0].float().cpu().numpy()
        if not np.isfinite(out).all():
            where = (f"{start / rate:.1f}-{(start + length) / rate:.1f} s" if rate
                     else f"samples {start}-{start + length}")
            raise NonFiniteOutputError(name, f"the separator produced NaN/inf samples in the chunk at {where} "
                                       "(input level out of range?)")
        end = start + length
        if pending is None:
            pending, pending_end = out, end
        else:
            # overlap [start, pending_end); pending covers [emitted, pending_end)
            lo = max(start, emitted)
            prev = pending[:, lo - emitted:]
            cur = out[:, lo - start: pending_end - start]
            order = align_channels(prev, cur)
            if not np.array_equal(order, np.arange(len(order))):
                out = out[order]
                permuted += 1
            span = pending_end - lo
            guard = span // 4
            fade_len = span - 2 * guard
            f0 = lo + guard
            w = _fade(fade_len) if fade_len > 0 else np.zeros(0, np.float32)
            if f0 > emitted:
                write(np.ascontiguousarray(pending[:, : f0 - emitted]))
            if fade_len > 0:
                mixed = pending[:, f0 - emitted: f0 - emitted + fade_len] * (1.0 - w) + \
                    out[:, f0 - start: f0 - start + fade_len] * w
                write(np.ascontiguousarray(mixed, dtype=np.float32))
            emitted = f0 + fade_len
            pending, pending_end = out[:, emitted - start:], end
        if progress is not None:
            progress.update(1)
    write(np.ascontiguousarray(pending))
    return ChunkReport(len(starts), total, permuted)


def separate_array(
    separator: torch.nn.Module,
    audio: torch.Tensor | np.ndarray,
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    overlap_seconds: float | None = None,
    device: str | torch.device | None = None,
) -> np.ndarray:
    """An in-memory signal `(T,)` -> channels `[M,T]` (float32) by `separate_stream`."""
    x = audio.detach().float().cpu().numpy() if isinstance(audio, torch.Tensor) else np.asarray(audio, np.float32)
    if device is None:
        device = next((p.device for p in separator.parameters()), torch.device("cpu"))
    chunk, overlap = chunk_samples(separator.sample_rate, chunk_seconds, overlap_seconds)
    parts: list[np.ndarray] = []
    separate_stream(separator, lambda s, n: x[s: s + n], len(x), parts.append, chunk, overlap, device)
    return np.concatenate(parts, axis=1)


def chunk_samples(sample_rate: int, chunk_seconds: float, overlap_seconds: float | None = None) -> tuple[int, int]:
    """(chunk, overlap) in samples. The overlap must be at most half the chunk; `None` means
    `DEFAULT_OVERLAP_SECONDS` or a fifth of the chunk, whichever is shorter."""
    if overlap_seconds is None:
        overlap_seconds = min(DEFAULT_OVERLAP_SECONDS, chunk_seconds / 5)
    if not (math.isfinite(chunk_seconds) and chunk_seconds > 0 and math.isfinite(overlap_seconds)
            and overlap_seconds >= 0):
        raise ValueError(f"chunk_seconds must be > 0 and overlap_seconds >= 0, got {chunk_seconds}, {overlap_seconds}")
    chunk = max(int(round(chunk_seconds * sample_rate)), 1)
    overlap = int(round(overlap_seconds * sample_rate))
    if 2 * overlap > chunk:
        raise ValueError(f"overlap ({overlap_seconds:g} s) must be at most half the chunk ({chunk_seconds:g} s)")
    return chunk, overlap


@dataclass
class FileResult:
    """A separated file: its input rate and length, the output rate and the files written."""

    path: str
    input_rate: int
    seconds: float
    output_rate: int
    outputs: list[Path]
    report: ChunkReport


def separate_file(
    separator: torch.nn.Module,
    path: str | os.PathLike,
    outputs: list[Path],
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    overlap_seconds: float | None = None,
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> FileResult:
    """Separate the audio file `path` into `outputs` (one mono 32-bit float WAV per channel at
    the separator's rate), reading, separating and writing one chunk at a time.

    Each output is written under a temporary name (`.<name>.part` beside it) and renamed
    into place only when every channel is complete, so a failed or killed run never leaves a
    file that looks finished. On any failure the temporary files are removed and the error
    propagates: `AudioFileError` for an unusable input (from `audiorep.io.audio`),
    `NonFiniteOutputError` when the separator's output is not finite."""
    import soundfile as sf

    from audiorep.io.audio import audio_info, load_audio

    path = os.fspath(path)
    rate, m = int(separator.sample_rate), int(separator.num_channels)
    if len(outputs) != m:
        raise ValueError(f"{m} channels need {m} output paths, got {len(outputs)}")
    info = audio_info(path)
    total = int(round(info.frames / info.sample_rate * rate))
    if total < 1:
        raise AudioFileError(path, f"{info.duration_s:.6f} s is shorter than one sample at the separator's {rate} Hz")
    chunk, overlap = chunk_samples(rate, chunk_seconds, overlap_seconds)
    fmt = "RF64" if total * 4 + 1024 > WAV_LIMIT_BYTES else "WAV"
    temps = [p.with_name(f".{p.name}.part") for p in outputs]
    handles: list = []
    bar = None
    try:
        for t in temps:
            handles.append(sf.SoundFile(t, "w", samplerate=rate, channels=1, subtype="FLOAT", format=fmt))

        def read(start: int, n: int) -> np.ndarray:
            return load_audio(path, rate, offset_s=start / rate, duration_s=n / rate)

        def write(block: np.ndarray) -> None:
            for h, wave in zip(handles, block):
                h.write(wave)

        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(chunk_starts(total, min(chunk, total), overlap if chunk < total else 0)),
                       desc=Path(path).name, unit="chunk", leave=False)
        report = separate_stream(separator, read, total, write, chunk, overlap, device, bar, name=path)
        for h in handles:
            h.close()
        for t, p in zip(temps, outputs):
            os.replace(t, p)
    except BaseException:
        for h in handles:
            try:
                h.close()
            except Exception:  # noqa: BLE001 - already failing; the file is removed next
                pass
        for t in temps:
            t.unlink(missing_ok=True)
        raise
    finally:
        if bar is not None:
            bar.close()
    return FileResult(path, info.sample_rate, info.duration_s, rate, list(outputs), report)
