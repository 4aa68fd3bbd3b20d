"""Pack a source's clips into WebDataset tar shards, atomically and resumably.

Training from a few hundred large tars reads sequentially instead of opening a million small
files, and every clip is decoded and resampled once, here, instead of once per epoch. Each
clip is decoded whole at the model rate in DataLoader workers (in input order) and stored as
one sample in `shard_format`'s layout; a file that cannot be decoded is skipped and listed
with its cause, never fatal, because one bad file must not cost a night's packing.

Crash safety: a shard is written as ``NAME.partial``, fsync'd and renamed to ``NAME``, so a
file named ``*.tar`` is always complete; ``index.json`` is rewritten atomically after every
shard and says which inputs each shard covers, so a re-run with the same input and settings
resumes after the last finished shard. Shards carry a fixed mtime and owner: the same input
gives byte-identical shards, whether written in one run or resumed after a kill.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

import soundfile as sf
from torch.utils.data import DataLoader, Dataset

from audiorep.data.shard_format import FORMAT, FRAMES, INDEX_NAME, encode_sample, sample_key
from audiorep.data.sources import ClipSource
from audiorep.errors import AudioFileError, ConfigError
from audiorep.io.atomic_file import atomic_open, fsync_dir

MEGABYTE = 1_000_000
TAR_MTIME = 946684800  # 2000-01-01: any fixed time; the wall clock would make every run's bytes differ
TAR_OWNER = "audiorep"
BOOKKEEPING = ("relpath", "folder", "array_index")  # meta the sources add themselves, not the user's columns
BAD_FILE_ERRORS = (AudioFileError, OSError, ValueError, RuntimeError, EOFError, sf.LibsndfileError)


def _as_is(item):
    """DataLoader collate that leaves items alone (the default turns arrays into tensors)."""
    return item


def _atomic_write(path: Path, data: bytes) -> None:
    """Readers see the old index or the new one, never half."""
    with atomic_open(path) as fh:
        fh.write(data)


def _relative(path: str, root: str | None) -> str:
    """`path` relative to `root` (posix form) when under it, else as given: shards stay portable."""
    if root is None:
        return path
    full, base = os.path.abspath(path), os.path.abspath(root)
    if os.path.commonpath([full, base]) != base:
        return path
    return Path(os.path.relpath(full, base)).as_posix()


class _EncodedClips(Dataset):
    """Item j = input clip ``start + j`` decoded whole and encoded as shard members (in a worker,
    so decoding, resampling and FLAC encoding run in parallel), or the cause it was skipped."""

    def __init__(self, source: ClipSource, start: int, sample_rate: int, video: bool, root: str | None):
        self.source, self.start, self.sample_rate, self.video, self.root = source, start, sample_rate, video, root
        self.manifest = hasattr(source, "columns")  # a manifest's columns are all the user's: keep every one

    def __len__(self) -> int:
        return len(self.source) - self.start

    def __getitem__(self, j: int) -> dict:
        i = self.start + int(j)
        rec = self.source.records[i]
        path = _relative(rec.path, self.root)
        try:
            if self.video:
                fields = self.source.load_fields(i, None, sample_rate=self.sample_rate)
            else:
                fields = {"audio": self.source.load(i, None, sample_rate=self.sample_rate)}
            meta = rec.meta if self.manifest else {k: v for k, v in rec.meta.items() if k not in BOOKKEEPING}
            members = encode_sample(sample_key(i), fields["audio"], self.sample_rate,
                                    {"path": path, "label": rec.label, "meta": meta}, fields.get("video"))
        except BAD_FILE_ERRORS as err:
            cause = err.cause if isinstance(err, AudioFileError) else f"{type(err).__name__}: {err}"
            return {"input": i, "path": path, "cause": cause}
        return {"input": i, "members": members, "seconds": fields["audio"].size / self.sample_rate}


class _Shard:
    """One tar being written under ``NAME.partial``; `finish` makes it ``NAME``, `abort` removes it."""

    def __init__(self, path: Path, first_input: int):
        import webdataset as wds

        self.path, self.partial, self.first_input = path, path.with_name(path.name + ".partial"), first_input
        self.fh = open(self.partial, "wb")
        self.tar = wds.TarWriter(self.fh, encoder=False, mtime=TAR_MTIME, user=TAR_OWNER, group=TAR_OWNER)
        self.samples, self.seconds, self.size, self.audio_bytes, self.frame_bytes = 0, 0.0, 0, 0, 0

    def add(self, item: dict) -> None:
        members = item["members"]
        self.tar.write(members)
        sizes = {k: len(v) for k, v in members.items() if not k.startswith("__")}
        self.size += sum(512 + -(-n // 512) * 512 for n in sizes.values())  # tar header + padded data
        self.samples += 1
        self.seconds += item["seconds"]
        self.audio_bytes += sizes["flac"]
        self.frame_bytes += sizes.get(FRAMES, 0)

    def finish(self, next_input: int) -> dict:
        self.tar.close()
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        os.replace(self.partial, self.path)
        fsync_dir(self.path.parent)
        return {"name": self.path.name, "samples": self.samples, "seconds": round(self.seconds, 6),
                "bytes": self.path.stat().st_size, "first_input": self.first_input, "next_input": next_input,
                "audio_bytes": self.audio_bytes, "frame_bytes": self.frame_bytes}

    def abort(self) -> None:
        try:
            self.tar.close()  # else the tar stream flushes into the closed file when collected
        finally:
            self.fh.close()
        self.partial.unlink(missing_ok=True)


def _check_args(source, sample_rate, video, max_samples, max_megabytes, prefix, num_workers) -> None:
    if not isinstance(sample_rate, int) or sample_rate <= 0:
        raise ConfigError(f"sample_rate must be a positive integer (Hz), got {sample_rate!r}")
    if not isinstance(max_samples, int) or max_samples < 1:
        raise ConfigError(f"max_samples must be an integer >= 1, got {max_samples!r}")
    if not max_megabytes > 0:
        raise ConfigError(f"max_megabytes must be > 0, got {max_megabytes!r}")
    if not prefix or any(c in prefix for c in "/\\") or prefix.startswith("."):
        raise ConfigError(f"prefix must be a plain file name start (no '/', '\\', leading '.'), got {prefix!r}")
    if not isinstance(num_workers, int) or num_workers < 0:
        raise ConfigError(f"num_workers must be an integer >= 0, got {num_workers!r}")
    if len(source) == 0:
        raise ConfigError(f"{source!r} lists no clips: nothing to shard")
    if video is not None:
        size, fps = video
        if "video" not in source.fields:
            raise ConfigError(f"video={video!r} needs a source of videos (VideoSource), got {source!r}")
        if (getattr(source, "video_size", None), getattr(source, "video_fps", None)) != (size, float(fps)):
            raise ConfigError(f"video={video!r} but the source decodes {source.video_size} px at "
                              f"{source.video_fps:g} fps: build the VideoSource with the same size and fps")


def _header(source, sample_rate, video, settings, root) -> dict:
    """What identifies a shard set: a resume must match it exactly."""
    records = [[os.path.abspath(r.path), r.label, r.meta] for r in source.records]  # a relabelled manifest differs
    paths = json.dumps(records, sort_keys=True, default=str).encode("utf-8")
    where = getattr(source, "csv_path", None) or getattr(source, "root", None) or root or ""
    return {"format": FORMAT, "sample_rate": sample_rate,
            "video": None if video is None else {"size": int(video[0]), "fps": float(video[1])},
            "fields": ["audio"] if video is None else ["audio", "video"], "settings": settings,
            "input": {"path": os.path.abspath(where) if where else "", "count": len(source),
                      "fingerprint": hashlib.sha256(paths).hexdigest()}}


def _remove(out: Path, names) -> None:
    for name in names:
        (out / name).unlink(missing_ok=True)


def _own_files(out: Path, prefix: str) -> list[str]:
    """This writer's shards and partials for `prefix` (``PREFIX-NNNNNN.tar[.partial]``), nothing else."""
    pattern = re.compile(re.escape(prefix) + r"-\d{6,}\.tar(\.partial)?")
    return sorted(p.name for p in out.iterdir() if pattern.fullmatch(p.name))


def _start_or_resume(out: Path, header: dict, restart: bool) -> dict:
    """The index to continue from: the existing one when it matches, else a fresh one (written now,
    so a run killed before its first shard still leaves its settings behind)."""
    index_path, prefix = out / INDEX_NAME, header["settings"]["prefix"]
    old = None
    if index_path.exists():
        try:
            old = json.loads(index_path.read_text(encoding="utf-8"))
            if not isinstance(old, dict) or old.get("format") != FORMAT:
                raise ValueError(f"not an {FORMAT} index")
        except (OSError, ValueError) as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            if not restart:
                raise ConfigError(f"{index_path} is unreadable ({err}): pass restart=True (--restart) to start "
                                  "over, or choose another folder") from None
            old = {}
    if restart:
        old_prefix = str((old or {}).get("settings", {}).get("prefix", prefix))
        _remove(out, {*_own_files(out, prefix), *_own_files(out, old_prefix), INDEX_NAME})
        old = None
    if old is not None:
        differs = [k for k in header if old.get(k) != header[k]]
        if differs:
            raise ConfigError(f"{out} holds shards of another input or other settings ({', '.join(differs)} "
                              "differ): pass restart=True (--restart) to replace them, or choose another folder")
        missing = [s["name"] for s in old["shards"] if not (out / s["name"]).is_file()
                   or (out / s["name"]).stat().st_size != s["bytes"]]
        if missing:
            raise ConfigError(f"{out}: shards {', '.join(missing)} are missing or changed since they were written: "
                              "pass restart=True (--restart) to write them again")
        _remove(out, [n for n in _own_files(out, prefix) if n.endswith(".partial")])
        return old  # its skips all precede its last shard's next_input: it is written only as a shard closes
    if _own_files(out, prefix):
        raise ConfigError(f"{out} holds {prefix}-*.tar files but no {INDEX_NAME}: pass restart=True (--restart) "
                          "to replace them, or choose another folder")
    index = {**header, "shards": [], "samples": 0, "seconds": 0.0, "skipped": [], "complete": False}
    _atomic_write(index_path, json.dumps(index, indent=1).encode("utf-8"))
    return index


def _summary(index: dict, out: Path, status: str, started: float) -> dict:
    shards, seconds = index["shards"], index["seconds"]
    summary = {"status": status, "out_dir": str(out), "shards": len(shards), "samples": index["samples"],
               "seconds": seconds, "bytes": sum(s["bytes"] for s in shards), "skipped": len(index["skipped"]),
               "skipped_files": index["skipped"], "seconds_taken": time.perf_counter() - started,
               "audio_bytes_per_second": sum(s["audio_bytes"] for s in shards) / seconds if seconds else 0.0}
    if index["video"] is not None:
        summary["frame_bytes_per_second"] = sum(s["frame_bytes"] for s in shards) / seconds if seconds else 0.0
    return summary


def write_shards(source: ClipSource, out_dir, *, sample_rate: int, video: tuple[int, float] | None = None,
                 max_samples: int = 1000, max_megabytes: float = 256.0, prefix: str = "shard",
                 num_workers: int = 0, restart: bool = False, progress: bool = True, input_root=None) -> dict:
    """Write every clip of `source` into ``out_dir/{prefix}-{k:06d}.tar`` plus ``index.json``.

    A shard closes after `max_samples` samples or about `max_megabytes` MB (10^6 bytes), whichever
    comes first. `video=(size, fps)` stores frames too (the source must be a `VideoSource` built
    with that size and fps). Sample paths are stored relative to `input_root` (default: the
    source's folder, or its manifest's folder). Re-running into the same folder resumes, or
    returns at once when the set is complete; other input or settings raise `ConfigError` unless
    `restart`. Returns a summary (counts, bytes, the skipped files with causes, bytes per second)."""
    started = time.perf_counter()
    _check_args(source, sample_rate, video, max_samples, max_megabytes, prefix, num_workers)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if input_root is None:
        input_root = getattr(source, "root", None) or (
            os.path.dirname(source.csv_path) if getattr(source, "csv_path", None) else None)
    settings = {"max_samples": max_samples, "max_megabytes": float(max_megabytes), "prefix": prefix}
    index = _start_or_resume(out, _header(source, sample_rate, video, settings, input_root), restart)
    if index["complete"]:
        return _summary(index, out, "already complete", started)
    start = index["shards"][-1]["next_input"] if index["shards"] else 0
    status = "resumed" if start else "written"
    dataset = _EncodedClips(source, start, sample_rate, video is not None,
                            None if input_root is None else str(input_root))
    loader = DataLoader(dataset, batch_size=None, shuffle=False, num_workers=num_workers, collate_fn=_as_is)
    from tqdm.auto import tqdm

    bar = tqdm(total=len(source), initial=start, desc="shard", unit="clip",
               disable=not (progress and sys.stderr.isatty()))
    index_path, shard, max_bytes = out / INDEX_NAME, None, max_megabytes * MEGABYTE

    def finish(next_input: int) -> None:
        row = shard.finish(next_input)
        index["shards"].append(row)
        index["samples"] += row["samples"]
        index["seconds"] = round(index["seconds"] + row["seconds"], 6)
        _atomic_write(index_path, json.dumps(index, indent=1).encode("utf-8"))

    try:
        for item in loader:
            if "cause" in item:
                index["skipped"].append(item)
            else:
                if shard is None:
                    first = index["shards"][-1]["next_input"] if index["shards"] else 0
                    shard = _Shard(out / f"{prefix}-{len(index['shards']):06d}.tar", first)
                shard.add(item)
                if shard.samples >= max_samples or shard.size >= max_bytes:
                    finish(item["input"] + 1)
                    shard = None
            bar.update(1)
            bar.set_postfix(shards=len(index["shards"]), skipped=len(index["skipped"]), refresh=False)
        if shard is not None:
            finish(len(source))
            shard = None
        index["complete"] = True
        _atomic_write(index_path, json.dumps(index, indent=1).encode("utf-8"))
    except BaseException:
        if shard is not None:
            shard.abort()
        raise
    finally:
        bar.close()
    return _summary(index, out, status, started)
