"""Where clips come from: a folder of files, a manifest CSV, or arrays in memory.

A source is a list of `ClipRecord`s plus `load(i, seconds=None, rng=None)`, which returns
clip `i` as mono float32 at the source's `sample_rate` (a crop when `seconds` is given).
File sources never touch the files when built, so a bad file surfaces as an
`AudioFileError` when that clip is loaded, and the dataset can skip it.
"""

from __future__ import annotations

import copy
import csv
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soxr

from audiorep.errors import ConfigError
from audiorep.io.audio import CropPosition, crop_window, load_audio, load_crop

DEFAULT_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff")


@dataclass
class ClipRecord:
    """One clip: where it is, its label if any, and every other known fact in `meta`."""

    path: str
    label: Any = None
    meta: dict = field(default_factory=dict)


def _matches(value, condition) -> bool:
    if callable(condition):
        return bool(condition(value))
    if isinstance(condition, (list, tuple, set, frozenset)):
        return str(value) in {str(c) for c in condition}
    return str(value) == str(condition)


class ClipSource:
    """Shared behaviour: length, records, subsets. Subclasses implement `load`."""

    records: list[ClipRecord]
    sample_rate: int

    def __len__(self) -> int:
        return len(self.records)

    def load(self, i: int, seconds: float | None = None, rng: np.random.Generator | None = None, *,
             crop: CropPosition = "random", sample_rate: int | None = None) -> np.ndarray:
        raise NotImplementedError

    def subset(self, indices: Iterable[int]) -> "ClipSource":
        """A source with only the records at `indices` (in that order); e.g. one fold."""
        new = copy.copy(self)
        new.records = [self.records[int(i)] for i in indices]
        return new

    def filter(self, **conditions) -> "ClipSource":
        """Records whose `label`/`path`/meta values match every condition.

        A condition is a value (compared as text, so ``fold=1`` matches "1"), a list/set of
        values, or a predicate. ``src.filter(split="train")``, ``src.filter(speaker=["a","b"])``."""
        keep = []
        for i, rec in enumerate(self.records):
            ok = True
            for key, cond in conditions.items():
                if key == "label":
                    value = rec.label
                elif key == "path":
                    value = rec.path
                elif key in rec.meta:
                    value = rec.meta[key]
                else:
                    ok = False
                    break
                if not _matches(value, cond):
                    ok = False
                    break
            if ok:
                keep.append(i)
        return self.subset(keep)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} clips, sample_rate={self.sample_rate})"


class _FileSource(ClipSource):
    def __init__(self, records: list[ClipRecord], sample_rate: int, quality: str, max_seconds: float | None):
        self.records = records
        self.sample_rate = int(sample_rate)
        self.quality = quality
        self.max_seconds = max_seconds

    def load(self, i, seconds=None, rng=None, *, crop="random", sample_rate=None):
        """Clip `i` at `sample_rate` (default: the source's); a `crop` crop when `seconds` is set."""
        rate = int(sample_rate or self.sample_rate)
        path = self.records[i].path
        if seconds is None:
            return load_audio(path, rate, quality=self.quality, max_seconds=self.max_seconds)
        return load_crop(path, rate, seconds, crop, rng, quality=self.quality)


class FolderSource(_FileSource):
    """Every audio file under `root` (recursive), sorted by path so the order is reproducible.

    With ``label_from_folder=True`` the name of each file's parent folder is its label."""

    def __init__(self, root, extensions: Sequence[str] = DEFAULT_EXTENSIONS, *, sample_rate: int = 16000,
                 label_from_folder: bool = False, quality: str = "HQ", max_seconds: float | None = 600.0):
        root = Path(root)
        if not root.is_dir():
            raise ConfigError(f"FolderSource root {str(root)!r} is not a directory")
        exts = tuple(e.lower() if e.startswith(".") else "." + e.lower() for e in extensions)
        paths = sorted(p for p in root.rglob("*") if p.suffix.lower() in exts and p.is_file())
        records = []
        for p in paths:
            rel = p.relative_to(root)
            folder = rel.parent.as_posix()
            records.append(ClipRecord(str(p), p.parent.name if label_from_folder else None,
                                      {"relpath": rel.as_posix(), "folder": folder}))
        super().__init__(records, sample_rate, quality, max_seconds)
        self.root = str(root)


class ManifestSource(_FileSource):
    """Clips listed in a CSV with a `path` column and any optional columns.

    `path` is relative to the CSV's folder (or to `root` when given) unless absolute.
    Every other column goes into `meta` as text, except `labels`, which is split on ';'
    into a list (multi-label); `label` is also put in `ClipRecord.label`."""

    def __init__(self, csv_path, root=None, *, sample_rate: int = 16000, quality: str = "HQ",
                 max_seconds: float | None = 600.0):
        csv_path = Path(csv_path)
        if not csv_path.is_file():
            raise ConfigError(f"manifest {str(csv_path)!r} does not exist")
        base = Path(root) if root is not None else csv_path.parent
        with open(csv_path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            columns = [c.strip() for c in (reader.fieldnames or [])]
            if not columns:
                raise ConfigError(f"manifest {str(csv_path)!r} is empty (no header row)")
            if "path" not in columns:
                raise ConfigError(f"manifest {str(csv_path)!r} has no 'path' column (columns: {', '.join(columns)})")
            reader.fieldnames = columns
            records = []
            for line, row in enumerate(reader, start=2):
                rel = (row.get("path") or "").strip()
                if not rel:
                    raise ConfigError(f"manifest {str(csv_path)!r} line {line}: empty 'path'")
                full = rel if os.path.isabs(rel) else str(base / rel)
                meta = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k not in ("path", None)}
                if "labels" in meta:
                    meta["labels"] = [s.strip() for s in (meta["labels"] or "").split(";") if s.strip()]
                label = meta.get("label") or None
                records.append(ClipRecord(full, label, meta))
        if not records:
            raise ConfigError(f"manifest {str(csv_path)!r} has a header but no rows")
        super().__init__(records, sample_rate, quality, max_seconds)
        self.csv_path = str(csv_path)
        self.columns = columns


class ArraySource(ClipSource):
    """Clips already in memory (e.g. the synthetic world): `audio` is `[N, T]` or N 1-D arrays.

    `load` crops from memory; `sample_rate` is the rate of the arrays, and asking `load`
    for another rate resamples the crop with soxr."""

    def __init__(self, audio, sample_rate: int, meta: list[dict] | None = None, *, quality: str = "HQ"):
        if hasattr(audio, "detach"):  # torch tensor, without importing torch here
            audio = audio.detach().cpu().numpy()
        if isinstance(audio, np.ndarray):
            if audio.ndim != 2:
                raise ConfigError(f"ArraySource audio must be [N, T], got shape {tuple(audio.shape)}")
            audio = audio.astype(np.float32, copy=False)
        else:
            audio = [np.asarray(a, dtype=np.float32).reshape(-1) for a in audio]
        n = len(audio)
        if meta is not None and len(meta) != n:
            raise ConfigError(f"ArraySource got {n} clips but {len(meta)} meta entries")
        metas = meta if meta is not None else [{} for _ in range(n)]
        self.audio = audio
        self.sample_rate = int(sample_rate)
        self.quality = quality
        self.records = [ClipRecord(f"<array {i}>", m.get("label"), dict(m, array_index=i)) for i, m in enumerate(metas)]

    def load(self, i, seconds=None, rng=None, *, crop="random", sample_rate=None):
        """Clip `i` (a `crop` crop of `seconds` when given), at `sample_rate` (default: source's)."""
        x = self.audio[self.records[i].meta["array_index"]]
        rate = int(sample_rate or self.sample_rate)
        if seconds is not None:
            n_out = int(round(seconds * rate))
            n_in = int(round(seconds * self.sample_rate))
            start, pad_left = crop_window(len(x), n_in, crop, rng)
            x = x[start : start + n_in - pad_left]
            x = np.pad(x, (pad_left, n_in - pad_left - len(x)))
        if rate != self.sample_rate:
            x = soxr.resample(x, self.sample_rate, rate, quality=self.quality).astype(np.float32, copy=False)
            if seconds is not None:
                x = np.pad(x[:n_out], (0, max(0, n_out - len(x))))
        return np.array(x, dtype=np.float32, copy=True)


def filter_source(source: ClipSource, predicate: Callable[[ClipRecord], bool]) -> ClipSource:
    """The records of `source` for which `predicate(record)` is true."""
    return source.subset([i for i, r in enumerate(source.records) if predicate(r)])
