"""What a command's audio inputs name: files, folders and manifest CSVs, in any mix.

`audio_inputs(["a.wav", "recordings/", "more.csv"])` is the one place every command that takes
audio (`embed`, `separate`, `augment`, `shard`) turns its command-line inputs into clips:

- a folder gives its files with one of `extensions`, recursively, sorted by path (listed by
  `FolderSource`, so `meta` holds `relpath` and `folder` relative to it);
- a `.csv` file is a manifest: its rows as `ManifestSource` reads them (paths relative to the
  CSV's folder, every other column in `meta`, `label` in `label`);
- any other file is one clip, tried as it is named (its suffix is not checked);
- a path that does not exist, a folder without a single audio file, or an unreadable manifest
  is a `ConfigError` naming it, raised before any work starts.

A file reached twice (named twice, or both named and inside a named folder) is kept once, at
its first place. Nothing is opened but manifests: a bad audio file surfaces when it is loaded.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from audiorep.data.sources import DEFAULT_EXTENSIONS, ClipRecord, FolderSource, ManifestSource, _FileSource
from audiorep.errors import ConfigError

FILE, FOLDER, MANIFEST = "file", "folder", "manifest"


@dataclass
class AudioInput(ClipRecord):
    """A `ClipRecord` that also says which command-line input it came from (`origin`, as given)
    and how that input was read (`kind`: "file", "folder" or "manifest")."""

    origin: str = ""
    kind: str = FILE

    def relative(self) -> Path:
        """Where the clip sits inside its input: the path under the folder or the manifest's
        folder (a manifest row outside it, or a named file: just the file name)."""
        if self.kind == FOLDER:
            return Path(self.meta["relpath"])
        if self.kind == MANIFEST:
            base = os.path.abspath(os.path.dirname(self.origin))
            full = os.path.abspath(self.path)
            try:
                if os.path.commonpath([full, base]) == base:
                    return Path(os.path.relpath(full, base))
            except ValueError:  # another drive (Windows)
                pass
        return Path(Path(self.path).name)


def _extensions(extensions: Sequence[str]) -> tuple[str, ...]:
    return tuple(e.lower() if e.startswith(".") else "." + e.lower() for e in extensions)


def audio_inputs(items: Iterable[str | os.PathLike], extensions: Sequence[str] = DEFAULT_EXTENSIONS,
                 what: str = "audio") -> list[AudioInput]:
    """The clips that `items` (files, folders, manifest CSVs; any mix) name, in order, each once.
    `what` names the files in messages ("audio", "video")."""
    exts = _extensions(extensions)
    found: list[AudioInput] = []
    seen: set[str] = set()
    for item in items:
        raw = os.fspath(item)
        path = Path(raw)
        if path.is_dir():
            records = FolderSource(path, exts).records
            if not records:
                raise ConfigError(f"input {raw!r} is a folder without {what} files ({', '.join(exts)}) in it "
                                  "or under it")
            kind = FOLDER
        elif path.suffix.lower() == ".csv" and path.is_file():
            records = ManifestSource(path).records
            kind = MANIFEST
        elif path.exists():
            records = [ClipRecord(raw)]
            kind = FILE
        else:
            hint = " (a manifest CSV)" if path.suffix.lower() == ".csv" else ""
            raise ConfigError(f"input {raw!r}{hint} does not exist; give {what} files, folders of them or "
                              "manifest CSVs (a 'path' column)")
        for rec in records:
            key = os.path.normcase(os.path.abspath(rec.path))
            if key in seen:
                continue
            seen.add(key)
            found.append(AudioInput(rec.path, rec.label, dict(rec.meta), origin=raw, kind=kind))
    return found


def single_root(inputs: Sequence[AudioInput], items: Sequence[str]) -> str | None:
    """The one folder or manifest all `inputs` came from, when `items` was exactly that; else None."""
    if len(items) == 1 and inputs and inputs[0].kind in (FOLDER, MANIFEST):
        return inputs[0].origin
    return None


def common_folder(inputs: Sequence[AudioInput]) -> str | None:
    """The deepest folder holding every input's file (None when there are none)."""
    if not inputs:
        return None
    return os.path.commonpath([os.path.dirname(os.path.abspath(rec.path)) for rec in inputs])


class ListedSource(_FileSource):
    """A file source over the clips `audio_inputs` listed (a mix of files, folders and
    manifests); it loads them as `FolderSource` and `ManifestSource` do (a bad file surfaces
    as an `AudioFileError` when that clip is loaded)."""

    def __init__(self, inputs: Sequence[AudioInput], *, sample_rate: int = 16000, quality: str = "HQ",
                 max_seconds: float | None = 600.0):
        super().__init__([ClipRecord(rec.path, rec.label, dict(rec.meta)) for rec in inputs], sample_rate,
                         quality, max_seconds)


def listed_video_source(inputs: Sequence[AudioInput], *, sample_rate: int = 16000, video_size: int = 32,
                        video_fps: float = 8.0, max_seconds: float | None = None):
    """A `VideoSource` over the clips `audio_inputs` listed (`VideoSource` itself reads one
    folder or one manifest): the same loading, frames and checks, over any mix of inputs."""
    from audiorep.data.video_source import DEFAULT_MAX_SECONDS, VideoSource

    if not isinstance(video_size, int) or video_size <= 0:
        raise ConfigError(f"video_size must be a positive integer (pixels), got {video_size!r}")
    if not video_fps > 0:
        raise ConfigError(f"video_fps must be > 0, got {video_fps!r}")
    source = VideoSource.__new__(VideoSource)  # its constructor lists a folder or a manifest; these are listed
    source.records = [ClipRecord(rec.path, rec.label, dict(rec.meta)) for rec in inputs]
    source.sample_rate, source.video_size, source.video_fps = int(sample_rate), video_size, float(video_fps)
    source.quality = "HQ"
    source.max_seconds = DEFAULT_MAX_SECONDS if max_seconds is None else max_seconds
    return source


__all__ = ["AudioInput", "ListedSource", "audio_inputs", "common_folder", "listed_video_source", "single_root"]
