"""Scene embeddings of a task's clips (files, or arrays in memory), computed once and cached.

The cache key covers everything that changes the numbers: the model (class, configuration
and every weight, hashed), the clips, and the audio settings (sample rate, clip length, chunk
length). Change any of them and the embeddings are recomputed; nothing stale is ever reused.
Nothing about the task is in the key, neither its name, nor its labels and folds, nor the
order or spelling of its paths: the clips of a file task are the set of their absolute, normalised
paths, embedded once in sorted order, and each task reads its rows from that in its own order.
So tasks over the same clips (digits and speakers of FSDD; a manifest's `label` and `labels`
tasks; two manifests listing the same files from different folders or in another order; scene and
events of the synthetic world, whose arrays are hashed) share one embedding pass. Files are written
atomically (`os.replace`); without a cache folder, embeddings are kept in memory for the life of
the cache.

Unusable clips never stop a task: `EmbeddingCache.usable` returns the embeddings with the clips
that could not be used, each with its cause: a file that cannot be read (`AudioFileError`:
missing, empty, a directory, corrupt, non-finite or absurd samples) or an embedding that is not
finite ("embedding is not finite"). Their rows are NaN, and nothing downstream may probe them.
The files that failed to load are remembered beside the cached embeddings and tried again on
every later hit, so a repaired file is picked up without `--no-cache`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch
from audiorep.errors import AudioFileError
from audiorep.eval.chunked_embedding import scene_embeddings
from audiorep.eval.progress import phase
from audiorep.frontend.resample import fft_resample
from audiorep.io.atomic_file import atomic_open
from audiorep.io.audio import load_audio


def model_fingerprint(model: torch.nn.Module) -> str:
    """sha256 over what makes a model's embeddings: its class, its repr (every module's
    settings: the front-end's window, hop, FFT size; pooling), its sample rate, and every
    parameter and buffer, including the ones a checkpoint does not keep (the mel filterbank,
    which holds the band edges)."""
    h = hashlib.sha256()
    h.update(f"{type(model).__module__}.{type(model).__qualname__}|{getattr(model, 'sample_rate', '')}|".encode())
    h.update(repr(model).encode())
    tensors = dict(model.state_dict())
    tensors.update((f"buffer:{name}", b) for name, b in model.named_buffers())
    for name, tensor in sorted(tensors.items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


def clip_files(task) -> list[str]:
    """The distinct files of a file task, as absolute normalised paths, sorted: what the cache
    embeds (and keys on) for every task over these clips, whatever its order or path spelling."""
    return sorted({os.path.abspath(p) for p in task.paths})


def clips_fingerprint(task) -> str:
    """sha256 of the task's clips: its distinct files (`clip_files`), or its in-memory arrays
    and their rate. The task's name, labels and folds are not part of it."""
    h = hashlib.sha256()
    if task.audio is None:
        h.update("files|".encode())
        h.update("\n".join(clip_files(task)).encode())
    else:
        h.update(f"memory|{task.sample_rate}|{tuple(task.audio.shape)}|".encode())
        h.update(np.ascontiguousarray(np.asarray(task.audio, dtype=np.float32)).tobytes())
    return h.hexdigest()[:16]


def cache_key(model_id: str, clips_id: str, sample_rate: int, clip_seconds: float | None, chunk_seconds: float) -> str:
    text = json.dumps([model_id, clips_id, sample_rate, clip_seconds, chunk_seconds])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def load_clip(path: str, sample_rate: int, clip_seconds: float | None) -> np.ndarray:
    """Whole file, or its first `clip_seconds` zero-padded to exactly that length."""
    if clip_seconds is None:
        return load_audio(path, sample_rate, max_seconds=None)
    return load_audio(path, sample_rate, duration_s=clip_seconds)


def memory_clips(task, sample_rate: int) -> torch.Tensor:
    """An in-memory task's clips [N, T] at `sample_rate`: resampled, then the first
    `task.clip_seconds` of each, zero-padded, as `load_clip` reads files."""
    audio = torch.as_tensor(task.audio, dtype=torch.float32)
    if task.sample_rate != sample_rate:
        audio = fft_resample(audio, task.sample_rate, sample_rate)
    if task.clip_seconds is not None:
        n = int(round(task.clip_seconds * sample_rate))
        audio = torch.nn.functional.pad(audio[:, :n], (0, max(0, n - audio.shape[1])))
    return audio


def task_clips(task, sample_rate: int) -> np.ndarray | list[np.ndarray]:
    """Every clip of a task at `sample_rate`, as evaluation reads it (in memory, or files through
    `load_clip`): [N, T] float32, or a list of 1-D arrays when whole files differ in length.
    For training on a task's labels (the supervised reference); a bad file raises."""
    if task.audio is not None:
        return memory_clips(task, sample_rate).numpy()
    clips = [load_clip(path, sample_rate, task.clip_seconds) for path in task.paths]
    return np.stack(clips) if len({len(c) for c in clips}) == 1 else clips


def _batches_of_equal_length(paths, sample_rate, clip_seconds, batch_size, errors: list | None = None):
    """Yield (indices, [B, T] tensor); clips of different lengths never share a batch.
    With an `errors` list, unusable files are recorded there (index, message) and skipped."""
    pending: dict[int, list] = {}
    for i, path in enumerate(paths):
        try:
            wave = load_clip(path, sample_rate, clip_seconds)
        except AudioFileError as err:
            if errors is None:
                raise
            errors.append((i, str(err)))
            continue
        bucket = pending.setdefault(len(wave), [])
        bucket.append((i, wave))
        if len(bucket) == batch_size:
            yield [j for j, _ in bucket], torch.from_numpy(np.stack([w for _, w in bucket]))
            del pending[len(wave)]
    for bucket in pending.values():
        yield [j for j, _ in bucket], torch.from_numpy(np.stack([w for _, w in bucket]))


@torch.no_grad()
def embed_in_batches(embed_fn, audio, batch_size: int = 32, progress: bool = False,
                     desc: str = "embedding") -> np.ndarray:
    """In-memory clips [N, T] -> embeddings [N, D] float32, `batch_size` clips per call."""
    audio = torch.as_tensor(audio, dtype=torch.float32)
    parts = []
    with phase(audio.shape[0], desc, "clip", progress) as bar:
        for i in range(0, audio.shape[0], batch_size):
            parts.append(embed_fn(audio[i : i + batch_size]).float().cpu())
            bar.update(parts[-1].shape[0])
    return torch.cat(parts).numpy()


@torch.no_grad()
def embed_files(model, paths: list[str], clip_seconds: float | None = None, batch_size: int = 32,
                device: str | torch.device = "cpu", chunk_seconds: float = 10.0, progress: bool = True,
                desc: str = "embedding", errors: list | None = None) -> np.ndarray:
    """Scene embeddings [N, D] float32 of audio files, read at the model's sample rate.

    A bad file raises AudioFileError, unless an `errors` list is given: then its row is NaN
    and (index, message) is appended to the list."""
    out = np.full((len(paths), int(model.embedding_size)), np.nan, dtype=np.float32)
    bar = phase(len(paths), desc, "clip", progress)
    n_errors = 0
    for idx, wave in _batches_of_equal_length(paths, model.sample_rate, clip_seconds, batch_size, errors):
        out[idx] = scene_embeddings(model, wave.to(device), chunk_seconds).cpu().numpy()
        bar.update(len(idx) + (len(errors) - n_errors if errors is not None else 0))
        n_errors = len(errors) if errors is not None else 0
    bar.close()
    return out


NOT_FINITE = "embedding is not finite"
"""The cause given for a clip whose embedding holds NaN or inf."""


def _cause(path: str, message: str) -> str:
    """An AudioFileError's message without the path it starts with."""
    prefix = f"{path}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def _atomic_save(path: Path, array) -> None:
    """`array` (np.save) or bytes, written atomically to `path`."""
    with atomic_open(path, fsync=False) as fh:
        fh.write(array) if isinstance(array, bytes) else np.save(fh, array)


class EmbeddingCache:
    """`get(model, task)` returns cached scene embeddings [N, D] or computes and stores them;
    `usable(model, task)` also returns the clips that could not be used, instead of raising.

    `hits` and `misses` count lookups; a miss is one embedding pass over the clips. Tasks over
    the same clips share an entry (see the module's docstring), so they cost one pass."""

    def __init__(self, cache_dir: str | os.PathLike | None, batch_size: int = 32, device="cpu",
                 chunk_seconds: float = 10.0, progress: bool = True):
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.batch_size, self.device, self.chunk_seconds, self.progress = batch_size, device, chunk_seconds, progress
        self.hits = 0
        self.misses = 0
        self._memory: dict[str, tuple[np.ndarray, list]] = {}
        self._fresh: set[str] = set()  # keys whose failed files were read during this cache's life

    def key(self, model, task) -> str:
        return cache_key(model_fingerprint(model), clips_fingerprint(task), model.sample_rate, task.clip_seconds,
                         self.chunk_seconds)

    def get(self, model, task, model_name: str = "model") -> np.ndarray:
        """Embeddings [N, D] of every clip; a file that cannot be used raises AudioFileError."""
        emb, skipped = self.usable(model, task, model_name)
        for i, cause in skipped:
            if cause != NOT_FINITE:
                raise AudioFileError(task.paths[i], cause)
        return emb

    def usable(self, model, task, model_name: str = "model") -> tuple[np.ndarray, list[tuple[int, str]]]:
        """(embeddings [N, D], skipped): `skipped` lists (index, cause) for every clip that
        cannot be used, in clip order; its row of the embeddings is NaN. Only the other rows,
        all finite, may reach a probe."""
        key = self.key(model, task)
        path = self.cache_dir / f"{key}.npy" if self.cache_dir is not None else None
        # the entry's clips: a file task's distinct files in sorted order; in-memory clips as they are
        files = clip_files(task) if task.audio is None else None
        if key in self._memory or (path is not None and path.is_file()):
            self.hits += 1
            emb, errors = self._memory[key] if key in self._memory else self._load(path)
            if errors and files is not None and key not in self._fresh:
                emb, errors = self._retry(model, task, files, model_name, emb, errors, key, path)
        else:
            self.misses += 1
            emb, errors = self._compute(model, task, files, model_name)
            self._store(key, path, emb, errors, model, task, files, model_name)
        self._fresh.add(key)
        if files is not None:  # entry rows -> this task's rows, in its order
            row = {f: j for j, f in enumerate(files)}
            order = np.array([row[os.path.abspath(p)] for p in task.paths], dtype=np.int64)
            cause = dict(errors)
            emb = emb[order]
            errors = [(i, cause[j]) for i, j in enumerate(order.tolist()) if j in cause]
        failed = {i: cause for i, cause in errors}
        for i in np.flatnonzero(~np.isfinite(emb).all(axis=1)).tolist():
            failed.setdefault(i, NOT_FINITE)
        emb = emb.copy() if failed else emb
        emb[sorted(failed)] = np.nan
        return emb, sorted(failed.items())

    def _load(self, path: Path) -> tuple[np.ndarray, list]:
        meta = path.with_suffix(".json")
        errors = json.loads(meta.read_text()).get("errors", []) if meta.is_file() else []
        return np.load(path), [(int(i), str(cause)) for i, cause in errors]

    def _store(self, key, path, emb, errors, model, task, files, model_name) -> None:
        if path is None:
            self._memory[key] = (emb, errors)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # the file list first: embeddings without it would pass NaN rows off as embeddings
        _atomic_save(path.with_suffix(".json"), json.dumps(
            {"model": model_name, "task": task.name, "root": task.root,
             "n": len(files) if files is not None else len(task.paths),
             "sample_rate": model.sample_rate, "clip_seconds": task.clip_seconds,
             "chunk_seconds": self.chunk_seconds, "errors": [[i, cause] for i, cause in errors]}, indent=1).encode())
        _atomic_save(path, emb)

    def _retry(self, model, task, files, model_name, emb, errors, key, path) -> tuple[np.ndarray, list]:
        """Files that failed to load before are read again; the ones that load now are embedded."""
        idx = [i for i, _ in errors]
        again: list = []
        rows = embed_files(model, [files[i] for i in idx], task.clip_seconds, self.batch_size, self.device,
                           self.chunk_seconds, progress=False, errors=again)
        errors = [(idx[j], _cause(files[idx[j]], msg)) for j, msg in again]
        if len(again) < len(idx):
            emb = emb.copy()
            emb[idx] = rows
            self._store(key, path, emb, errors, model, task, files, model_name)
        return emb, errors

    def _compute(self, model, task, files, model_name: str) -> tuple[np.ndarray, list]:
        desc = f"embedding {task.name} with {model_name}"
        if files is not None:
            errors: list = []
            emb = embed_files(model, files, task.clip_seconds, self.batch_size, self.device,
                              self.chunk_seconds, self.progress, desc=desc, errors=errors)
            return emb, sorted((i, _cause(files[i], msg)) for i, msg in errors)
        audio = memory_clips(task, model.sample_rate)
        return embed_in_batches(lambda wave: scene_embeddings(model, wave.to(self.device), self.chunk_seconds),
                                audio, self.batch_size, progress=self.progress, desc=desc), []
