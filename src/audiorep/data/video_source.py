"""Video files (a folder or a manifest CSV) as a source of audio clips with time-aligned frames.

`load_fields` returns ``{"audio": float32 [T], "video": uint8 [F, 3, H, W]}`` cut from the same
window of the file: audio at the model rate, frames at `video_fps` and `video_size` (see
`io/video.py` for how frames are sampled, scaled and cropped). `load` decodes the audio only,
at the same crop position for the same `rng`, so an audio-only run sees the same clips.

Nothing is opened when the source is built (a folder of 100k videos lists instantly); each
clip's duration comes from its header when the clip is loaded, and a file without sound or
picture, truncated or undecodable raises `AudioFileError` then, which `ClipDataset` turns into
a skipped, counted item. Both streams are required even by `load`, so audio-only and
audio-visual runs over one source use the same files.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from audiorep.data.sources import ClipSource, FolderSource, ManifestSource
from audiorep.errors import ConfigError
from audiorep.io.audio import CropPosition
from audiorep.io.video import DEFAULT_MAX_SECONDS, load_av_clip, load_av_crop

VIDEO_EXTENSIONS = (".mp4", ".mkv", ".webm", ".avi", ".mov")


class VideoSource(ClipSource):
    """Every video under a folder (recursive, sorted by path), or the rows of a manifest CSV.

    A manifest has a `path` column (relative to the CSV's folder, or to `root`) and optional
    `label`/meta columns, read exactly as `ManifestSource` reads them; a folder lists files with
    one of `extensions`, labelled by their parent folder's name with ``label_from_folder``."""

    fields = ("audio", "video")

    def __init__(self, root_or_manifest, *, sample_rate: int = 16000, video_size: int = 32, video_fps: float = 8.0,
                 extensions: Sequence[str] = VIDEO_EXTENSIONS, root=None, label_from_folder: bool = False,
                 quality: str = "HQ", max_seconds: float | None = DEFAULT_MAX_SECONDS):
        where = Path(root_or_manifest)
        if not isinstance(video_size, int) or video_size <= 0:
            raise ConfigError(f"video_size must be a positive integer (pixels), got {video_size!r}")
        if not video_fps > 0:
            raise ConfigError(f"video_fps must be > 0, got {video_fps!r}")
        if where.is_dir():  # the file listing rules are the audio sources' own, not a copy
            listed = FolderSource(where, extensions, label_from_folder=label_from_folder)
            self.root = str(where)
        elif where.is_file():
            listed = ManifestSource(where, root)
            self.csv_path, self.columns = listed.csv_path, listed.columns
        else:
            raise ConfigError(f"VideoSource: {str(where)!r} is neither a folder of videos nor a manifest CSV")
        self.records = listed.records
        self.sample_rate = int(sample_rate)
        self.video_size = video_size
        self.video_fps = float(video_fps)
        self.quality = quality
        self.max_seconds = max_seconds

    def _read(self, i, seconds, rng, crop: CropPosition, sample_rate, video: bool):
        rate = int(sample_rate or self.sample_rate)
        path = self.records[i].path
        if seconds is None:
            return load_av_clip(path, rate, 0.0, None, self.video_size, self.video_fps, video=video,
                                quality=self.quality, max_seconds=self.max_seconds)
        return load_av_crop(path, rate, seconds, self.video_size, self.video_fps, crop, rng, video=video,
                            quality=self.quality)

    def load(self, i, seconds=None, rng=None, *, crop: CropPosition = "random", sample_rate=None) -> np.ndarray:
        """Clip `i`'s audio (mono float32 at `sample_rate`, default the source's); no frame is decoded."""
        return self._read(i, seconds, rng, crop, sample_rate, video=False)[0]

    def load_fields(self, i, seconds=None, rng=None, *, crop: CropPosition = "random",
                    sample_rate=None) -> dict[str, np.ndarray]:
        """``{"audio": [T], "video": [F, 3, H, W] uint8}`` of clip `i`, both from one window."""
        audio, video = self._read(i, seconds, rng, crop, sample_rate, video=True)
        return {"audio": audio, "video": video}

    def __repr__(self) -> str:
        return (f"VideoSource({len(self)} clips, sample_rate={self.sample_rate}, video_size={self.video_size}, "
                f"video_fps={self.video_fps:g})")
