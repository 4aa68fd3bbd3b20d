"""One training example as the members of a WebDataset tar shard, and back.

A shard is a plain tar whose members are grouped by key (the name up to the first dot), the
WebDataset convention, so any WebDataset tool can list or re-shard them:

- ``{key}.flac``: the audio, mono, at the shard set's sample rate, 16-bit FLAC (lossless
  after 16-bit quantisation; about a half to a third of 16-bit WAV). A clip whose peak exceeds
  1.0 (a float file) is scaled down to fit and its ``gain`` written in the metadata, so the
  reader restores the original level.
- ``{key}.json``: UTF-8 metadata: the input ``path``, ``label``, every other manifest column in
  ``meta``, ``seconds``, ``sample_rate``, ``gain`` and, with video, ``frames``.
- ``{key}.frames.npz`` (audio-visual shards only): the frames, uint8 ``[F, 3, H, W]`` at the
  shard set's size and rate, aligned with the audio's first sample, as a zlib-compressed
  ``.npz`` (lossless; read with ``allow_pickle=False``).

Keys are the input's position, zero-padded (``000000042``): unique, sortable, dot-free.
Nothing here unpickles: each member is decoded by the one decoder its extension names, and a
sample with a missing or undecodable member raises `ShardSampleError` naming the shard and key.
`decode_crop` decodes only the FLAC frames a training crop needs (libsndfile seeks in memory),
so a shard of long recordings costs no more per crop than the files it was written from.
"""

from __future__ import annotations

import io
import json
import math
import zipfile

import numpy as np
import soundfile as sf

from audiorep.data.sources import crop_first_axis
from audiorep.errors import AudiorepError, AudioFileError
from audiorep.io.audio import CropPosition, read_crop

FORMAT = "audiorep-shards/1"
INDEX_NAME = "index.json"
AUDIO, META, FRAMES = "flac", "json", "frames.npz"


class ShardSampleError(AudiorepError):
    """A sample of a shard cannot be used (a member missing, truncated or undecodable)."""

    def __init__(self, where: str, cause: str):
        self.where, self.cause = where, cause
        super().__init__(f"{where}: {cause}")


def sample_key(position: int) -> str:
    return f"{int(position):09d}"


def encode_sample(key: str, audio: np.ndarray, sample_rate: int, meta: dict,
                  frames: np.ndarray | None = None) -> dict:
    """The members of one sample: ``{"__key__": key, "flac": bytes, "json": bytes[, "frames.npz": bytes]}``."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    gain = 1.0 if peak <= 1.0 else 0.999 / peak
    buf = io.BytesIO()
    sf.write(buf, audio * gain if gain != 1.0 else audio, int(sample_rate), format="FLAC", subtype="PCM_16")
    info = {**meta, "seconds": audio.size / sample_rate, "sample_rate": int(sample_rate), "gain": gain}
    out = {"__key__": key, AUDIO: buf.getvalue()}
    if frames is not None:
        frames = np.asarray(frames)
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[1] != 3:
            raise ValueError(f"frames must be uint8 [F, 3, H, W], got {frames.dtype} {tuple(frames.shape)}")
        fbuf = io.BytesIO()
        np.savez_compressed(fbuf, frames=frames)
        out[FRAMES] = fbuf.getvalue()
        info["frames"] = int(frames.shape[0])
    out[META] = json.dumps(info, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return out


def _metadata(members: dict, where: str, video: bool) -> tuple[dict, float]:
    """The sample's metadata and gain, after checking every member it needs is there."""
    for ext in (AUDIO, META) + ((FRAMES,) if video else ()):
        if not isinstance(members.get(ext), (bytes, bytearray)):
            raise ShardSampleError(where, f"no {ext!r} member (found {sorted(k for k in members if not k.startswith('__'))})")
    try:
        meta = json.loads(members[META].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ShardSampleError(where, f"unreadable metadata ({err})") from None
    if not isinstance(meta, dict):
        raise ShardSampleError(where, f"the metadata is a {type(meta).__name__}, not a JSON object")
    gain = meta.get("gain", 1.0)
    if isinstance(gain, bool) or not isinstance(gain, (int, float)) or not (math.isfinite(gain) and gain > 0):
        raise ShardSampleError(where, f"the metadata's gain {gain!r} is not a positive number")
    return meta, float(gain)


def _open_flac(members: dict, where: str) -> sf.SoundFile:
    try:
        return sf.SoundFile(io.BytesIO(members[AUDIO]))
    except (sf.LibsndfileError, RuntimeError, ValueError) as err:
        raise ShardSampleError(where, f"undecodable FLAC ({err})") from None


def _read(f: sf.SoundFile, where: str, sample_rate: int, seconds: float, crop, rng) -> tuple[np.ndarray, float]:
    try:
        return read_crop(f, where, sample_rate, seconds, crop, rng)
    except AudioFileError as err:  # all samples NaN, a FLAC stream cut short, ...
        raise ShardSampleError(where, err.cause) from None


def _frames(members: dict, where: str) -> np.ndarray:
    try:
        with np.load(io.BytesIO(members[FRAMES]), allow_pickle=False) as z:
            frames = z["frames"]
    except (ValueError, OSError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise ShardSampleError(where, f"undecodable frames ({err})") from None
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[1] != 3:
        raise ShardSampleError(where, f"frames are {frames.dtype} {tuple(frames.shape)}, not uint8 [F, 3, H, W]")
    return frames


def decode_sample(members: dict, where: str, video: bool = False) -> dict:
    """``{"audio": float32 [T], "sample_rate": int, "meta": dict[, "video": uint8 [F, 3, H, W]]}``:
    the whole sample, from its raw members (bytes by extension, as a tar iterator groups them)."""
    meta, gain = _metadata(members, where, video)
    with _open_flac(members, where) as f:
        rate = f.samplerate
        audio = _read(f, where, rate, f.frames / rate, "start", None)[0] if f.frames else np.zeros(0, np.float32)
    if not audio.size:
        raise ShardSampleError(where, "empty audio")
    out = {"audio": audio / np.float32(gain) if gain != 1.0 else audio, "sample_rate": int(rate), "meta": meta}
    if video:
        out["video"] = _frames(members, where)
    return out


def decode_crop(members: dict, where: str, sample_rate: int, seconds: float, crop: CropPosition = "random",
                rng: np.random.Generator | None = None, video_fps: float | None = None) -> dict:
    """``{"audio": float32 [round(seconds * sample_rate)][, "video": uint8 [round(seconds * fps), 3, H, W]]}``:
    a crop placed as `load_crop` places one in a file, decoding only the FLAC frames it needs
    (a 2-s crop of a 60-s recording costs 2 s of decoding); with `video_fps`, the frames from
    the crop's start time (zero frames where it runs past either end), as `ArraySource` cuts them."""
    meta, gain = _metadata(members, where, video_fps is not None)
    with _open_flac(members, where) as f:
        if not f.frames:
            raise ShardSampleError(where, "empty audio")
        clip_s = f.frames / f.samplerate
        audio, start_s = _read(f, where, sample_rate, seconds, crop, rng)
    out = {"audio": audio / np.float32(gain) if gain != 1.0 else audio}
    if video_fps is not None:
        frames = _frames(members, where)
        if abs(frames.shape[0] / video_fps - clip_s) > 1.0 / video_fps + 1e-9:
            raise ShardSampleError(where, f"{frames.shape[0]} frames at {video_fps:g}/s do not last as long as the "
                                          f"audio ({clip_s:.3f} s)")
        out["video"] = crop_first_axis(frames, round(start_s * video_fps), round(seconds * video_fps))
    return out
