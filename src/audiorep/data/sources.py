"""Where clips come from: a folder of files, a manifest CSV, or arrays in memory.

A source is a list of `ClipRecord`s plus `load(i, seconds=None, rng=None)`, which returns
clip `i` as mono float32 at the source's `sample_rate` (a crop when `seconds` is given).
`load_fields` returns the clip as named arrays: `{"audio": ...}`, plus any time-aligned
field the source holds (an `ArraySource`'s isolated `sources` or video frames), all
cropped at the same place. `fields` names them.

An `ArraySource` field runs at the audio's rate (`[N, ..., T]`, time on the last axis,
cropped and resampled sample for sample with the audio, returned as float32) unless
`field_rates` gives it a rate of its own: then it is `[N, F, ...]` with time on axis 1
(video frames `[N, F, 3, H, W]` at `field_rates={"video": fps}`), it is cropped at the same
start time as the audio (first frame round(start_s * rate), round(seconds * rate) frames,
zero frames where the crop runs past either end), never resampled, and keeps its dtype
(uint8 frames stay uint8, a quarter of the memory of float32). Rate 0 means one value per
clip (`field_rates={"label": 0}`): `[N, ...]`, e.g. class indices int64 `[N]` or multi-hot
float32 `[N, C]`; item i is `values[i]` whatever the crop or the rate, in its own dtype.
File sources never touch the files when built, so a bad file surfaces as an
`AudioFileError` when that clip is loaded, and the dataset can skip it.
"""

from __future__ import annotations

import codecs
import copy
import csv
import io
import os
from collections.abc import Iterable, Sequence
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
    fields: tuple[str, ...] = ("audio",)
    per_clip_fields: tuple[str, ...] = ()  # fields with one value per clip (labels): stacked, never padded

    def __len__(self) -> int:
        return len(self.records)

    def load(self, i: int, seconds: float | None = None, rng: np.random.Generator | None = None, *,
             crop: CropPosition = "random", sample_rate: int | None = None) -> np.ndarray:
        raise NotImplementedError

    def load_fields(self, i: int, seconds: float | None = None, rng: np.random.Generator | None = None, *,
                    crop: CropPosition = "random", sample_rate: int | None = None) -> dict[str, np.ndarray]:
        """Clip `i` as named arrays, every field cropped at the same place."""
        return {"audio": self.load(i, seconds, rng, crop=crop, sample_rate=sample_rate)}

    def subset(self, indices: Iterable[int]) -> ClipSource:
        """A source with only the records at `indices` (in that order); e.g. one fold."""
        new = copy.copy(self)
        new.records = [self.records[int(i)] for i in indices]
        return new

    def filter(self, **conditions) -> ClipSource:
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
    into a list (multi-label); `label` is also put in `ClipRecord.label`.

    The CSV is UTF-8 text (a byte-order mark is allowed), a header row naming the columns,
    then one row per clip with as many cells as the header (blank lines are skipped).
    Anything else (another encoding, a binary file, a folder, a ragged row, no header, no
    `path` column, no rows) is one `ConfigError` naming the file, the line and the cause."""

    def __init__(self, csv_path, root=None, *, sample_rate: int = 16000, quality: str = "HQ",
                 max_seconds: float | None = 600.0):
        csv_path = Path(csv_path)
        base = Path(root) if root is not None else csv_path.parent
        name = repr(str(csv_path))
        reader = csv.reader(io.StringIO(_read_manifest_text(csv_path), newline=""))
        rows = _manifest_rows(reader, name)
        header = next(rows, None)
        if header is None:
            raise ConfigError(f"manifest {name} is empty (no header row)")
        _, cells = header
        columns = [c.strip() for c in cells]
        if "path" not in columns:
            raise ConfigError(f"manifest {name} has no 'path' column (columns: {', '.join(columns)})"
                              + _no_header_hint(columns))
        records = []
        for line, cells in rows:
            if len(cells) != len(columns):
                raise ConfigError(f"manifest {name} line {line}: {len(cells)} "
                                  f"{'cell' if len(cells) == 1 else 'cells'}, the header has {len(columns)}")
            row = dict(zip(columns, cells))
            rel = row["path"].strip()
            if not rel:
                raise ConfigError(f"manifest {name} line {line}: empty 'path'")
            full = rel if os.path.isabs(rel) else str(base / rel)
            meta = {k: v.strip() for k, v in row.items() if k != "path"}
            if "labels" in meta:
                meta["labels"] = [s.strip() for s in meta["labels"].split(";") if s.strip()]
            label = meta.get("label") or None
            records.append(ClipRecord(full, label, meta))
        if not records:
            raise ConfigError(f"manifest {name} has a header but no rows")
        super().__init__(records, sample_rate, quality, max_seconds)
        self.csv_path = str(csv_path)
        self.columns = columns


def _read_manifest_text(csv_path: Path) -> str:
    """The text of a manifest file, or a ConfigError saying why it is not UTF-8 CSV text."""
    name = repr(str(csv_path))
    if csv_path.is_dir():
        raise ConfigError(f"{name} is a folder, not a manifest CSV")
    if not csv_path.exists():
        raise ConfigError(f"manifest {name} does not exist")
    try:
        raw = csv_path.read_bytes()
    except OSError as err:
        raise ConfigError(f"manifest {name} cannot be read ({err.strerror or type(err).__name__})") from err
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(f"manifest {name} is UTF-16 text, not UTF-8; save it as UTF-8")
    raw = raw.removeprefix(codecs.BOM_UTF8)  # utf-8-sig: the mark spreadsheet programs write
    if b"\x00" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\x00")) + 1
        raise ConfigError(f"manifest {name} is a binary file, not CSV text (a NUL byte at line {line})")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise ConfigError(f"manifest {name} is not UTF-8 text (byte 0x{raw[err.start]:02x} at line {line}); "
                          "save it as UTF-8") from None


def _manifest_rows(reader, name: str):
    """(first line number, cells) of each non-blank CSV row."""
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise ConfigError(f"manifest {name} line {line}: not valid CSV ({err})") from None
        if len(cells) > 1 or (cells and cells[0].strip()):
            yield line, cells


def _no_header_hint(columns: list[str]) -> str:
    """When the first row looks like a clip rather than column names, say the header is missing."""
    if any(Path(c).suffix.lower() in DEFAULT_EXTENSIONS for c in columns):
        return "; the first row looks like a clip: add a header row such as 'path,label'"
    return ""


class ArraySource(ClipSource):
    """Clips already in memory (e.g. the synthetic world): `audio` is `[N, T]` or N 1-D arrays.

    `fields` adds named arrays aligned in time with the audio: `[N, ..., T]` at the audio's
    rate (the isolated sources `[N, K, T]` of the synthetic world), or, for a name in
    `field_rates` (frames per second), `[N, F, ...]` with time on axis 1 (video
    `[N, F, 3, H, W]`), or, at rate 0, one value per clip (`[N]` class indices, `[N, C]`
    multi-hot labels), which no crop or resampling touches. `load_fields` crops every timed
    field at the crop's start time. `sample_rate` is the rate of the audio; asking for
    another rate resamples the audio and the audio-rate fields with soxr (frame-rate and
    per-clip fields keep theirs)."""

    def __init__(self, audio, sample_rate: int, meta: list[dict] | None = None, *, quality: str = "HQ",
                 fields: dict | None = None, field_rates: dict | None = None):
        audio = _as_numpy(audio)
        if isinstance(audio, np.ndarray):
            if audio.ndim != 2:
                raise ConfigError(f"ArraySource audio must be [N, T], got shape {tuple(audio.shape)}")
        else:
            audio = [np.asarray(a, dtype=np.float32).reshape(-1) for a in audio]
        n = len(audio)
        if meta is not None and len(meta) != n:
            raise ConfigError(f"ArraySource got {n} clips but {len(meta)} meta entries")
        fields = dict(fields or {})
        rates = {name: float(r) for name, r in (field_rates or {}).items()}
        unknown = [name for name in rates if name not in fields]
        if unknown:
            raise ConfigError(f"ArraySource field_rates names {', '.join(unknown)}, which fields does not hold")
        extra = {name: _as_numpy(values, keep_dtype=name in rates) for name, values in fields.items()}
        for name, values in extra.items():
            if rates.get(name) == 0:
                if values.ndim < 1 or len(values) != n:
                    raise ConfigError(f"ArraySource field {name!r} has one value per clip (rate 0), so it must be "
                                      f"[N={n}, ...], got shape {tuple(values.shape)}")
            elif name in rates:
                _check_framed_field(name, values, rates[name], audio, int(sample_rate))
            elif not isinstance(audio, np.ndarray) or len(values) != n or values.shape[-1] != audio.shape[-1]:
                raise ConfigError(f"ArraySource field {name!r} must be [N={n}, ..., T] like the audio, "
                                  f"got shape {tuple(values.shape)}")
        metas = meta if meta is not None else [{} for _ in range(n)]
        self.audio = audio
        self.extra = extra
        self.field_rates = rates
        self.fields = ("audio", *extra)
        self.per_clip_fields = tuple(name for name in extra if rates.get(name) == 0)
        self.sample_rate = int(sample_rate)
        self.quality = quality
        self.records = [ClipRecord(f"<array {i}>", m.get("label"), dict(m, array_index=i)) for i, m in enumerate(metas)]

    def load(self, i, seconds=None, rng=None, *, crop="random", sample_rate=None):
        """Clip `i` (a `crop` crop of `seconds` when given), at `sample_rate` (default: source's)."""
        return self.load_fields(i, seconds, rng, crop=crop, sample_rate=sample_rate, only_audio=True)["audio"]

    def load_fields(self, i, seconds=None, rng=None, *, crop="random", sample_rate=None, only_audio=False):
        row = self.records[i].meta["array_index"]
        arrays = {"audio": self.audio[row]}
        framed, per_clip = {}, {}
        if not only_audio:
            for name, values in self.extra.items():
                r = self.field_rates.get(name)
                (arrays if r is None else per_clip if r == 0 else framed)[name] = values[row]
        rate = int(sample_rate or self.sample_rate)
        if seconds is not None:
            n_in = round(seconds * self.sample_rate)
            start, pad_left = crop_window(arrays["audio"].shape[-1], n_in, crop, rng)
            arrays = {k: _crop_last_axis(x, start, n_in, pad_left) for k, x in arrays.items()}
            start_s = (start - pad_left) / self.sample_rate  # the clip time at the crop's first sample
            framed = {k: crop_first_axis(x, round(start_s * self.field_rates[k]),
                                          round(seconds * self.field_rates[k])) for k, x in framed.items()}
        if rate != self.sample_rate:
            n_out = round(seconds * rate) if seconds is not None else None
            arrays = {k: self._resample(x, rate, n_out) for k, x in arrays.items()}
        out = {k: np.array(x, dtype=np.float32, copy=True) for k, x in arrays.items()}
        out.update((k, np.array(x, copy=True)) for k, x in (framed | per_clip).items())
        return out

    def _resample(self, x: np.ndarray, rate: int, n_out: int | None) -> np.ndarray:
        """[..., T] at the source's rate -> [..., T'] at `rate` (exactly n_out samples when given)."""
        if x.ndim == 1:
            y = soxr.resample(x, self.sample_rate, rate, quality=self.quality)
        else:  # soxr resamples [frames, channels]
            rows = np.ascontiguousarray(x.reshape(-1, x.shape[-1]).T)
            y = soxr.resample(rows, self.sample_rate, rate, quality=self.quality).T.reshape(*x.shape[:-1], -1)
        if n_out is not None:
            y = np.pad(y[..., :n_out], [(0, 0)] * (y.ndim - 1) + [(0, max(0, n_out - y.shape[-1]))])
        return y.astype(np.float32, copy=False)


def _as_numpy(values, keep_dtype: bool = False):
    if hasattr(values, "detach"):  # torch tensor, without importing torch here
        values = values.detach().cpu().numpy()
    if keep_dtype:
        return np.asarray(values)
    return values.astype(np.float32, copy=False) if isinstance(values, np.ndarray) else values


def _check_framed_field(name: str, values: np.ndarray, rate: float, audio, sample_rate: int) -> None:
    """A field with its own rate must be [N, F, ...] and last as long as the audio (within a frame)."""
    if not rate > 0:
        raise ConfigError(f"ArraySource field_rates[{name!r}] must be > 0 (frames per second) or 0 (one value "
                          f"per clip), got {rate}")
    if not isinstance(audio, np.ndarray):
        raise ConfigError(f"ArraySource field {name!r} needs the audio as one [N, T] array")
    if values.ndim < 2 or len(values) != len(audio):
        raise ConfigError(f"ArraySource field {name!r} must be [N={len(audio)}, F, ...] (time on axis 1), "
                          f"got shape {tuple(values.shape)}")
    audio_s, field_s = audio.shape[-1] / sample_rate, values.shape[1] / rate
    if abs(audio_s - field_s) > 1.0 / rate + 1e-9:
        raise ConfigError(f"ArraySource field {name!r} lasts {field_s:.3f} s ({values.shape[1]} frames at "
                          f"{rate:g}/s) but the audio lasts {audio_s:.3f} s")


def _crop_last_axis(x: np.ndarray, start: int, n: int, pad_left: int) -> np.ndarray:
    """n samples of the last axis from `start`, after `pad_left` zeros, zero-padded at the end."""
    x = x[..., start : start + n - pad_left]
    return np.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad_left, n - pad_left - x.shape[-1])])


def crop_first_axis(x: np.ndarray, first: int, n: int) -> np.ndarray:
    """n entries of axis 0 from index `first` (may be negative), zero-filled outside the array."""
    lo, hi = min(max(first, 0), len(x)), min(max(first + n, 0), len(x))
    before = lo - first
    return np.pad(x[lo:hi], [(before, n - before - (hi - lo))] + [(0, 0)] * (x.ndim - 1))
