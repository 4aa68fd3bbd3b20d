"""write_av_file: one clip (mono audio + RGB frames) as an MP4 that any player and PyAV read.

Video is H.264 (libx264, yuv420p, so width and height must be even), audio is AAC, mono, at
the clip's own rate. The file appears atomically: it is written under a temporary name in
the same folder and moved into place with `os.replace`, so a reader never sees half a file
and a killed writer leaves no file with the real name.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np

from audiorep.errors import ConfigError


def _as_array(x) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor, without importing torch here
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def write_av_file(path, audio, sample_rate: int, frames, fps: float, *, crf: int = 18,
                  preset: str = "veryfast", audio_bitrate: int = 64000) -> Path:
    """Write `audio` (float [T], in [-1, 1]) and `frames` (uint8 [F, 3, H, W]) to `path` (MP4).

    `fps` may be fractional (kept as an exact-enough Fraction). Odd H or W is a ConfigError:
    yuv420p halves the chroma planes, so libx264 needs even sizes. Returns the path."""
    import av  # deferred: only writing videos needs PyAV

    path = Path(path)
    audio = _as_array(audio).astype(np.float32, copy=False).reshape(-1)
    frames = _as_array(frames)
    if frames.ndim != 4 or frames.shape[1] != 3 or frames.dtype != np.uint8:
        raise ConfigError(f"{path}: frames must be uint8 [F, 3, H, W], got {frames.dtype} {tuple(frames.shape)}")
    n_frames, _, height, width = frames.shape
    if n_frames < 1:
        raise ConfigError(f"{path}: no frames to write")
    if height % 2 or width % 2:
        raise ConfigError(f"{path}: H.264 (yuv420p) needs even frame sizes, got {width}x{height}; "
                          "use an even video size such as 8, 16, 32 or 64")
    if fps <= 0:
        raise ConfigError(f"{path}: fps must be > 0, got {fps}")
    if sample_rate <= 0:
        raise ConfigError(f"{path}: sample_rate must be > 0, got {sample_rate}")

    rate = Fraction(fps).limit_denominator(1001)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix or '.mp4'}")
    try:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            vstream = container.add_stream("libx264", rate=rate)
            vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
            vstream.codec_context.time_base = 1 / rate
            vstream.options = {"crf": str(int(crf)), "preset": preset}
            astream = container.add_stream("aac", rate=int(sample_rate))
            astream.layout = "mono"
            astream.bit_rate = int(audio_bitrate)

            # Frame j is shown at j / fps; packets are muxed as they come out of each encoder.
            hwc = np.ascontiguousarray(frames.transpose(0, 2, 3, 1))
            for j in range(n_frames):  # one encoder call per frame: the codec API is per frame
                frame = av.VideoFrame.from_ndarray(hwc[j], format="rgb24")
                frame.pts = j
                frame.time_base = vstream.codec_context.time_base
                container.mux(vstream.encode(frame))
            container.mux(vstream.encode(None))

            step = astream.codec_context.frame_size or 1024  # AAC takes frames of this size (the last may be short)
            for start in range(0, audio.size, step):
                chunk = np.ascontiguousarray(audio[start : start + step])
                frame = av.AudioFrame.from_ndarray(chunk[None], format="fltp", layout="mono")
                frame.sample_rate = int(sample_rate)
                frame.pts = start
                frame.time_base = Fraction(1, int(sample_rate))
                container.mux(astream.encode(frame))
            container.mux(astream.encode(None))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
