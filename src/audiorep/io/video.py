"""Read a time window of a video file (audio track + low-resolution frames) with PyAV, seeking.

Every function raises `AudioFileError(path, cause)` for a file that cannot be used (not a media
file, truncated, no audio or no video stream, zero duration), so a data loader skips and counts
it like a bad audio file.

Choices a caller relies on:
- Times are seconds from the container's start (0 when it is negative: encoder priming), the
  same origin for both streams, so the container's A/V sync is kept. The file's length is the shorter of the two streams as the
  header gives them (`probe_av`), so a crop placed inside it has both sound and picture.
- Audio: mono (mean of channels) float32 at `sample_rate`, resampled with soxr like
  `io/audio.py`; exactly ``round(duration_s * sample_rate)`` samples. The decoded samples
  follow `io/audio.py`'s sample policy (`check_samples`): a float track holding any NaN/inf
  sample or a peak over `MAX_ABS_AMPLITUDE` in the decoded window is an error, never repaired.
- Frames: uint8 ``[F, 3, size, size]`` RGB, ``F = round(duration_s * fps)``. Frame j shows the
  last decoded frame at or before ``offset_s + (j + 0.5) / fps`` (the middle of its slot). Each
  frame is scaled so its short side is `size` (swscale, area averaging), then centre-cropped to a
  square; the pixel aspect ratio flag is ignored.
- Seeking: each stream is seeked to the keyframe before the window and decoded forward only
  until the window ends, so a few seconds of a long file cost a few seconds of decoding.
- Edges: parts of the window before 0 or past a stream's end (per the header) are silence and
  black frames. A stream that stops up to `END_SLACK_S` before its header end is padded
  (zeros / the last frame repeated); one that stops earlier is a truncated file and an error.
- Decoding is single-threaded per file: DataLoader workers are the parallelism, and codec
  threads would only compete with them (and add frame delay after every seek).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import av
import numpy as np
import soxr
from av.video.reformatter import VideoReformatter

from audiorep.errors import AudioFileError, ConfigError
from audiorep.io.audio import (
    CropPosition,
    _check_target_rate,
    check_file_path,
    check_samples,
    crop_window,
)

DEFAULT_MAX_SECONDS = 600.0
"""Whole-file loads longer than this raise instead of filling memory; crops are never limited."""

END_SLACK_S = 0.25
"""How far a stream may stop short of its header end and still count as whole (AAC padding,
rounded durations); a larger shortfall inside the asked window means a truncated file."""

_ATTACHED_PIC = 0x0400
"""FFmpeg's AV_DISPOSITION_ATTACHED_PIC: a cover image shown as a one-frame video stream."""

_AUDIO_CONTEXT_S = 0.05
"""Audio decoded on each side of the window so the resampler and AAC overlap have no edge."""


class AVInfo(NamedTuple):
    """What the header of a video file says: ``duration_s, has_audio, has_video = probe_av(p)``."""

    duration_s: float
    has_audio: bool
    has_video: bool


@dataclass
class _Opened:
    container: av.container.InputContainer
    path: str
    audio: av.audio.stream.AudioStream | None
    video: av.video.stream.VideoStream | None
    origin: float  # container start time, s: every time below is relative to it
    audio_end: float
    video_end: float

    @property
    def duration_s(self) -> float:
        ends = [e for e, s in ((self.audio_end, self.audio), (self.video_end, self.video)) if s is not None]
        return min(ends) if ends else 0.0

    def require_streams(self) -> None:
        if self.audio is None:
            raise AudioFileError(self.path, "no audio stream (a video without sound cannot teach audio)")
        if self.video is None:
            raise AudioFileError(self.path, "no video stream (audio-only file, or only a cover picture)")


_HMS = re.compile(r"^(\d+):(\d\d):(\d\d(?:\.\d+)?)$")


def _stream_end(stream, container_end: float | None, origin: float) -> float | None:
    """End time of `stream` per the header: its duration, Matroska's DURATION tag, or the file's."""
    start = float(stream.start_time * stream.time_base) if stream.start_time is not None else origin
    if stream.duration is not None and stream.duration > 0:
        return start + float(stream.duration * stream.time_base) - origin
    tag = _HMS.match(str(stream.metadata.get("DURATION", "")).strip())
    if tag:
        return start + int(tag[1]) * 3600 + int(tag[2]) * 60 + float(tag[3]) - origin
    return container_end


@contextlib.contextmanager
def _open(path) -> Iterator[_Opened]:
    """Open `path` and read its header (no frame is decoded); the caller decodes inside."""
    path = os.fspath(path)
    check_file_path(path, "video")
    try:
        container = av.open(path, metadata_errors="ignore")
    except Exception as err:  # FFmpeg reports junk, truncation and unknown formats alike
        raise AudioFileError(path, f"cannot open as a video: not a media file, or truncated or corrupt ({err})") from err
    try:
        audio = container.streams.audio[0] if container.streams.audio else None
        pictures = [s for s in container.streams.video if not int(getattr(s, "disposition", 0)) & _ATTACHED_PIC]
        video = pictures[0] if pictures else None
        for stream in (audio, video):
            if stream is not None:
                stream.thread_type = "NONE"
                stream.codec_context.thread_count = 1
        # A negative start is encoder priming before time 0 (AAC in Matroska with FFmpeg < 7), not
        # a shifted clock: counting from it would put the sound late against the picture.
        origin = max(container.start_time / av.time_base, 0.0) if container.start_time is not None else 0.0
        container_end = container.duration / av.time_base if container.duration is not None else None
        audio_end = _stream_end(audio, container_end, origin) if audio is not None else 0.0
        video_end = _stream_end(video, container_end, origin) if video is not None else 0.0
        if audio is None and video is None:
            raise AudioFileError(path, "no audio or video stream in the file")
        if (audio is not None and audio_end is None) or (video is not None and video_end is None):
            raise AudioFileError(path, "the header gives no duration (remux it, e.g. ffmpeg -i in -c copy out.mp4)")
        opened = _Opened(container, path, audio, video, origin, audio_end, video_end)
        if not opened.duration_s > 0:
            raise AudioFileError(path, f"zero duration ({opened.duration_s:.3f} s in the header)")
        yield opened
    finally:
        container.close()


def probe_av(path) -> AVInfo:
    """Duration (the shorter stream, s) and which streams exist, from the header only."""
    with _open(path) as f:
        return AVInfo(f.duration_s, f.audio is not None, f.video is not None)


def _decoded(f: _Opened, stream, from_s: float | None) -> Iterator:
    """Frames of `stream`, from the keyframe at or before `from_s` (from the start if None)."""
    target = 0.0 if from_s is None else max(from_s, 0.0)
    try:
        f.container.seek(math.floor((target + f.origin) / stream.time_base), stream=stream)
    except av.error.FFmpegError:  # unseekable: restart from the beginning and decode forward
        f.container.seek(0)
    for packet in f.container.demux(stream):
        yield from packet.decode()


def _time(frame, fallback: float, origin: float) -> float:
    """The frame's time from the container start; `fallback` (from the previous frame) without a pts."""
    return fallback if frame.time is None else frame.time - origin


_SAMPLE_DTYPES = {"u8": np.uint8, "s16": np.int16, "s32": np.int32, "s64": np.int64, "flt": np.float32,
                  "dbl": np.float64}
_INT_SCALE = {np.dtype(np.int16): 32768.0, np.dtype(np.int32): 2.0**31, np.dtype(np.int64): 2.0**63}


def _samples(frame) -> np.ndarray:
    """One decoded audio frame as ``[channels, samples]`` in its own dtype, read straight from its
    planes (PyAV's `to_ndarray` costs more than the AAC decoding itself)."""
    channels, n = len(frame.layout.channels), frame.samples
    dtype = _SAMPLE_DTYPES.get(frame.format.name.removesuffix("p"))
    if dtype is None:  # an unusual sample format: the slow, general path
        x = frame.to_ndarray()
        return x if frame.format.is_planar else x.reshape(-1, channels).T
    if frame.format.is_planar:
        return np.stack([np.frombuffer(frame.planes[c], dtype, n) for c in range(channels)])
    return np.frombuffer(frame.planes[0], dtype, n * channels).reshape(n, channels).T


def _mono(x: np.ndarray) -> np.ndarray:
    """``[channels, samples]`` of any sample dtype -> mono float32 in [-1, 1] (mean of channels)."""
    if x.dtype == np.uint8:
        x = (x.astype(np.float32) - 128.0) / 128.0
    elif x.dtype in _INT_SCALE:
        x = x.astype(np.float32) / np.float32(_INT_SCALE[x.dtype])
    x = x.astype(np.float32, copy=False)
    return x[0] if len(x) == 1 else x.mean(axis=0)


class _SeekMissed(Exception):
    """The demuxer landed after the asked time: decode again from the start."""


def _read_audio(f: _Opened, start_s: float, n_out: int, rate: int, quality: str) -> np.ndarray:
    """Exactly `n_out` samples at `rate` from file time `start_s` (may be < 0: zeros there)."""
    stop_s = start_s + n_out / rate
    need_end = min(stop_s, f.audio_end)  # decoded audio must reach this (less the slack)
    if need_end <= max(start_s, 0.0):
        return np.zeros(n_out, np.float32)
    lo, hi = start_s - _AUDIO_CONTEXT_S, stop_s + _AUDIO_CONTEXT_S
    for from_s in ((lo if lo > 0 else None), None):
        chunks, t0, t_end, native = [], None, 0.0, None
        try:
            for frame in _decoded(f, f.audio, from_s):
                native = native or frame.sample_rate
                t = _time(frame, t_end, f.origin)
                t_end = t + frame.samples / frame.sample_rate
                if t_end <= lo:
                    continue
                if t0 is None:
                    if from_s is not None and t > max(lo, 0.0) + 1.0 / frame.sample_rate * frame.samples:
                        raise _SeekMissed
                    t0 = t
                chunks.append(_samples(frame))
                if t_end >= hi:
                    break
        except _SeekMissed:
            continue
        except Exception as err:
            raise AudioFileError(f.path, f"undecodable audio near {start_s:.2f} s, corrupt or truncated ({err})") from err
        break
    if not chunks:
        raise AudioFileError(f.path, f"truncated: no audio could be decoded after {max(start_s, 0):.2f} s "
                                     f"(the header says {f.audio_end:.2f} s)")
    raw = np.concatenate(chunks, axis=1)
    if raw.dtype.kind == "f":  # integer samples are finite and within full scale by construction
        check_samples(raw, f.path)
    x = _mono(raw)
    decoded_end = t0 + len(x) / native
    if decoded_end < need_end - END_SLACK_S:
        raise AudioFileError(f.path, f"truncated: the audio stops at {decoded_end:.2f} s but the header says "
                                     f"{f.audio_end:.2f} s")
    if native != rate:
        x = soxr.resample(x, native, rate, quality=quality).astype(np.float32, copy=False)
    skip = round((start_s - t0) * rate)
    if skip < 0:  # the window starts before the first decoded sample
        x = np.concatenate([np.zeros(-skip, np.float32), x])
        skip = 0
    x = x[skip : skip + n_out]
    if len(x) < n_out:
        x = np.pad(x, (0, n_out - len(x)))
    return x


_local = threading.local()


def _rgb_square(frame, size: int) -> np.ndarray:
    """Scale so the short side is `size` (area averaging), crop the centre: uint8 [3, size, size].

    One reformatter per thread and process keeps its scaler between frames and clips:
    `frame.reformat` builds a new one each call, which costs ten times the scaling itself. It
    scales on one thread: swscale's thread pool would not survive a DataLoader worker's fork
    (the worker hangs), and the workers are the parallelism anyway."""
    w, h = frame.width, frame.height
    scale = size / min(w, h)
    sw, sh = max(size, round(w * scale)), max(size, round(h * scale))
    pid, reformatter = getattr(_local, "reformatter", (None, None))
    if pid != os.getpid():
        pid, reformatter = _local.reformatter = (os.getpid(), VideoReformatter())
    try:
        img = reformatter.reformat(frame, sw, sh, "rgb24", interpolation="AREA", threads=1)
    except TypeError:  # PyAV < 17 has no `threads` (and scales on one thread)
        img = reformatter.reformat(frame, sw, sh, "rgb24", interpolation="AREA")
    img = img.to_ndarray()
    y0, x0 = (sh - size) // 2, (sw - size) // 2
    return np.ascontiguousarray(img[y0 : y0 + size, x0 : x0 + size].transpose(2, 0, 1))


def _read_video(f: _Opened, start_s: float, n_frames: int, fps: float, size: int) -> np.ndarray:
    """`n_frames` frames sampled at ``start_s + (j + 0.5) / fps``; black outside [0, video end)."""
    out = np.zeros((n_frames, 3, size, size), np.uint8)
    targets = start_s + (np.arange(n_frames) + 0.5) / fps
    want = [j for j in range(n_frames) if 0.0 <= targets[j] < f.video_end]
    if not want:
        return out
    rate = f.video.average_rate or f.video.guessed_rate or 25
    step = 1.0 / float(rate)
    first = float(targets[want[0]])
    shown = [None, None]  # the last frame put in a slot and its conversion (often shown twice)

    def show(j: int, frame) -> None:
        if shown[0] is not frame:
            shown[:] = [frame, _rgb_square(frame, size)]
        out[j] = shown[1]

    for from_s in ((first if first > step else None), None):
        prev, prev_t, k = None, None, 0
        try:
            for frame in _decoded(f, f.video, from_s):
                t = _time(frame, 0.0 if prev_t is None else prev_t + step, f.origin)
                if prev is None and from_s is not None and t > first + step:
                    raise _SeekMissed
                while k < len(want) and t > targets[want[k]]:
                    show(want[k], prev if prev is not None else frame)  # no prev: the stream starts late
                    k += 1
                prev, prev_t = frame, t
                if k == len(want):
                    break
        except _SeekMissed:
            continue
        except Exception as err:
            raise AudioFileError(f.path, f"undecodable video near {first:.2f} s, corrupt or truncated ({err})") from err
        break
    if prev is None:
        raise AudioFileError(f.path, f"truncated: no video frame could be decoded after {first:.2f} s "
                                     f"(the header says {f.video_end:.2f} s)")
    for j in want[k:]:  # the stream stopped before these targets
        if targets[j] > prev_t + step + END_SLACK_S:
            raise AudioFileError(f.path, f"truncated: the video stops at {prev_t + step:.2f} s but the header "
                                         f"says {f.video_end:.2f} s")
        show(j, prev)
    return out


def _check_video_args(size, fps) -> tuple[int, float]:
    if not isinstance(size, (int, np.integer)) or size <= 0:
        raise ConfigError(f"video size must be a positive integer (pixels), got {size!r}")
    if not fps > 0:
        raise ConfigError(f"video fps must be > 0, got {fps!r}")
    return int(size), float(fps)


def _read_window(f: _Opened, rate: int, offset_s: float, duration_s: float, size: int, fps: float,
                 video: bool, quality: str) -> tuple[np.ndarray, np.ndarray | None]:
    f.require_streams()
    audio = _read_audio(f, offset_s, round(duration_s * rate), rate, quality)
    frames = _read_video(f, offset_s, round(duration_s * fps), fps, size) if video else None
    return audio, frames


def load_av_clip(path, sample_rate: int, offset_s: float = 0.0, duration_s: float | None = None,
                 size: int = 32, fps: float = 8.0, *, video: bool = True, quality: str = "HQ",
                 max_seconds: float | None = DEFAULT_MAX_SECONDS) -> tuple[np.ndarray, np.ndarray | None]:
    """``(audio float32 [T], frames uint8 [F, 3, size, size])`` for `duration_s` from `offset_s`.

    ``T = round(duration_s * sample_rate)``, ``F = round(duration_s * fps)``; without
    `duration_s`, from `offset_s` to the end (refused past `max_seconds`). A negative
    `offset_s` starts the window before the file (silence and black frames there). With
    ``video=False`` the frames are not decoded (``None``) but the video stream must exist."""
    rate = _check_target_rate(sample_rate)
    size, fps = _check_video_args(size, fps)
    if duration_s is not None and duration_s <= 0:
        raise ValueError(f"duration_s must be > 0, got {duration_s}")
    with _open(path) as f:
        if duration_s is None:
            duration_s = f.duration_s - offset_s
            if duration_s <= 0:
                raise AudioFileError(f.path, f"offset {offset_s:.3f} s is past the end ({f.duration_s:.3f} s)")
            if max_seconds is not None and duration_s > max_seconds:
                raise AudioFileError(f.path, f"{duration_s:.1f} s is longer than max_seconds={max_seconds:g} for a "
                                             "whole-file load; load a crop (duration_s) or raise max_seconds")
        return _read_window(f, rate, offset_s, duration_s, size, fps, video, quality)


def load_av_crop(path, sample_rate: int, seconds: float, size: int = 32, fps: float = 8.0,
                 position: CropPosition = "random", rng: np.random.Generator | None = None, *,
                 video: bool = True, quality: str = "HQ") -> tuple[np.ndarray, np.ndarray | None]:
    """A `seconds`-long window placed by `position` (as `io.audio.crop_window` places audio crops,
    in samples at `sample_rate`), read as `load_av_clip` reads one; the header is read once."""
    rate = _check_target_rate(sample_rate)
    size, fps = _check_video_args(size, fps)
    if seconds <= 0:
        raise ValueError(f"seconds must be > 0, got {seconds}")
    n_out = round(seconds * rate)
    with _open(path) as f:
        total = math.floor(f.duration_s * rate)
        start, pad_left = crop_window(max(total, 1), n_out, position, rng)
        return _read_window(f, rate, (start - pad_left) / rate, seconds, size, fps, video, quality)
