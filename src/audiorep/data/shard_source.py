"""Which WebDataset tar shards a config names, and what their ``index.json`` says about them.

`ShardSource` reads no sample: only the small index the shard writer puts beside the shards,
so a config error (no shards, video asked of audio-only shards, a frame size that differs) is
reported at once, naming the path, instead of inside a DataLoader worker an hour later.
`ShardStream` (shard_stream.py) reads the samples.

`path` may be a folder (the shards its index lists, else its ``*.tar`` sorted), a brace pattern
(``/data/shard-{000000..000099}.tar``), one local ``.tar``, a URL or ``pipe:`` command that
WebDataset's ``gopen`` opens (braces expanded too), or a list of any of these.

Choices:
- An index that is not ``complete`` (the writer was stopped or is still running) is a
  *warning*, not an error: the shards it lists were closed before it was written, so they are
  whole and a run on them is useful (a quick look at a large set while it is being written);
  only they are read, since a ``.tar`` it does not list may be half-written. The warning says
  how many samples are listed, so a run on too few is visible.
- Samples per epoch come from the index, or from ``epoch_samples`` (which wins); a URL has no
  index here, so without ``epoch_samples`` it is a ConfigError (the trainer needs an epoch).
- Shards at another sample rate are allowed: the stream resamples each crop (soxr).
"""

from __future__ import annotations

import glob
import json
import os
import warnings

from braceexpand import braceexpand

from audiorep.data.shard_format import FORMAT, INDEX_NAME
from audiorep.errors import ConfigError

SHARD_FIELDS = ("audio", "video")


def is_url(path: str) -> bool:
    """A path `gopen` opens other than as a local file: ``pipe:...`` or ``scheme://...``."""
    return path.startswith("pipe:") or "://" in path


class ShardSource:
    """The shards (`urls`, with `counts` from the index, None where unknown) and what they hold."""

    per_clip_fields: tuple[str, ...] = ()

    def __init__(self, path, *, sample_rate: int = 16000, fields=("audio",), video_size=None, video_fps=None,
                 epoch_samples: int | None = None):
        self.path = path
        self.sample_rate = int(sample_rate)
        self.fields = tuple(fields)
        bad = [f for f in self.fields if f not in SHARD_FIELDS]
        if bad or "audio" not in self.fields:
            raise ConfigError(f"shards at {path!r} hold audio (and video when written from video); fields "
                              f"{list(self.fields)} ask for {', '.join(bad) or 'no audio'}")
        if epoch_samples is not None and int(epoch_samples) <= 0:
            raise ConfigError(f"data.shards.epoch_samples must be a positive integer, got {epoch_samples!r}")
        self._indexes: dict[str, dict | None] = {}  # folder -> its index (None: none there)
        urls, counts = [], []
        for one in path if isinstance(path, (list, tuple)) else [path]:
            u, c = self._resolve(os.fspath(one))
            urls += u
            counts += c
        keep = [i for i, c in enumerate(counts) if c != 0]  # an empty shard holds nothing to read
        self.urls, self.counts = [urls[i] for i in keep], [counts[i] for i in keep]
        if not self.urls:
            raise ConfigError(f"no shards found at {path!r}: " + ("every shard is empty" if urls else "no .tar files"))
        index = self._one_index()
        self.index = index
        self.shard_rate = int(index["sample_rate"]) if index else None
        self._check_video(index, video_size, video_fps)
        known = None if None in self.counts else sum(self.counts)
        self.epoch_samples = int(epoch_samples) if epoch_samples is not None else known
        if self.epoch_samples is None:
            raise ConfigError(f"the number of samples per epoch of the shards at {path!r} is unknown (no index.json "
                              f"lists {'them' if known is None else 'all of them'}, e.g. for URLs): set "
                              "data.shards.epoch_samples")

    def __len__(self) -> int:
        return self.epoch_samples

    def __repr__(self) -> str:
        video = f", video {self.video_size}px at {self.video_fps:g} fps" if "video" in self.fields else ""
        rate = f"{self.shard_rate} Hz shards" if self.shard_rate else "shards at an unknown rate"
        return (f"ShardSource({len(self.urls)} shards, {len(self)} samples per epoch, {rate} read at "
                f"{self.sample_rate} Hz{video}, path={self.path!r})")

    def _resolve(self, p: str) -> tuple[list[str], list[int | None]]:
        if is_url(p):
            urls = list(braceexpand(p))
            return urls, [None] * len(urls)
        if os.path.isdir(p):
            index = self._index_in(p)
            tars = sorted(glob.glob(os.path.join(glob.escape(p), "*.tar")))
            if index is not None:  # the index lists the shards that were closed; others may be half-written
                listed = {s["name"]: s for s in index["shards"]}
                missing = [n for n in sorted(listed) if not os.path.isfile(os.path.join(p, n))]
                if missing:
                    raise ConfigError(f"shards at {p!r}: {len(missing)} shard(s) the index lists do not exist "
                                      f"(e.g. {missing[0]}); rewrite the shards or the index")
                unlisted = [t for t in tars if os.path.basename(t) not in listed]
                if unlisted:
                    warnings.warn(f"shards at {p!r}: {len(unlisted)} .tar file(s) not in {INDEX_NAME} are ignored "
                                  f"(e.g. {os.path.basename(unlisted[0])}; half-written, or from another set)",
                                  stacklevel=4)
                tars = [os.path.join(p, n) for n in sorted(listed)]
            if not tars:
                raise ConfigError(f"no shards found at {p!r}: the folder holds no .tar files")
            return tars, [self._count(t) for t in tars]
        files = [p] if os.path.isfile(p) else list(braceexpand(p))
        missing = [f for f in files if not os.path.isfile(f)]
        if missing:
            what = "does not exist" if files == [p] else f"names {len(files)} shards, {len(missing)} of which do " \
                                                          f"not exist (e.g. {missing[0]})"
            raise ConfigError(f"no shards found at {p!r}: it {what}")
        return files, [self._count(f) for f in files]

    def _count(self, file: str) -> int | None:
        """Samples in a local shard by the index beside it, None when it does not list it."""
        index = self._index_in(os.path.dirname(file) or ".")
        if index is None:
            return None
        shard = next((s for s in index["shards"] if s["name"] == os.path.basename(file)), None)
        return None if shard is None else int(shard["samples"])

    def _index_in(self, folder: str) -> dict | None:
        folder = os.path.abspath(folder)
        if folder not in self._indexes:
            self._indexes[folder] = _read_index(os.path.join(folder, INDEX_NAME))
        return self._indexes[folder]

    def _one_index(self) -> dict | None:
        """The index that describes the shards (several folders must agree on rate and video)."""
        found = [(f, i) for f, i in self._indexes.items() if i is not None]
        for (f0, i0), (f1, i1) in zip(found, found[1:]):
            for key in ("sample_rate", "video"):
                if i0.get(key) != i1.get(key):
                    raise ConfigError(f"shards at {self.path!r} disagree on {key}: {i0.get(key)!r} in {f0}, "
                                      f"{i1.get(key)!r} in {f1}")
        return found[0][1] if found else None

    def _check_video(self, index: dict | None, video_size, video_fps) -> None:
        held = (index or {}).get("video")
        self.video_size, self.video_fps = (held["size"], float(held["fps"])) if held else (video_size, video_fps)
        if "video" not in self.fields:
            return
        if index is not None and not held:
            raise ConfigError(f"this method needs video frames, but the shards at {self.path!r} hold none (fields: "
                              f"{', '.join(index.get('fields', ['audio']))}); write them from video files "
                              "(audiorep shard) or choose an audio-only method")
        if index is None:
            if video_fps is None or video_size is None:
                raise ConfigError(f"the shards at {self.path!r} have no index.json to give the frame size and rate: "
                                  "set data.video.size and data.video.fps")
            return
        if video_size is not None and frame_hw(video_size) != frame_hw(held["size"]):
            raise ConfigError(f"the shards at {self.path!r} hold {held['size']}px frames but data.video.size is "
                              f"{video_size}: set data.video.size={held['size']} or rewrite the shards")
        if video_fps is not None and abs(float(video_fps) - float(held["fps"])) > 1e-6:
            raise ConfigError(f"the shards at {self.path!r} hold frames at {float(held['fps']):g} fps but "
                              f"data.video.fps is {float(video_fps):g}: set data.video.fps={float(held['fps']):g} "
                              "or rewrite the shards")


def frame_hw(size) -> tuple[int, int]:
    """(H, W) of a frame size given as one number (square) or a pair."""
    return (int(size), int(size)) if isinstance(size, (int, float)) else tuple(int(s) for s in size)


def _read_index(path: str) -> dict | None:
    """The index at `path` (None when absent), checked for format; an incomplete one warns."""
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            index = json.load(fh)
        shards = index["shards"]
        if not all(isinstance(s.get("name"), str) and int(s["samples"]) >= 0 for s in shards):
            raise ValueError("a shard entry lacks a name or a sample count")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise ConfigError(f"shard index {path!r} is unreadable ({err}); rewrite the shards") from None
    if index.get("format") != FORMAT:
        raise ConfigError(f"shard index {path!r} is of format {index.get('format')!r}, not {FORMAT!r}: "
                          "these shards were written by another tool or version; rewrite them with audiorep shard")
    if not index.get("complete", False):
        warnings.warn(f"shard index {path!r} is not complete (the writer stopped or is still running): reading "
                      f"only the {len(shards)} shard(s), {sum(int(s['samples']) for s in shards)} samples, it lists",
                      stacklevel=5)
    return index
