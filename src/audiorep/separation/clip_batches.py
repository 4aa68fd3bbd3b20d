"""Where a separator's training clips come from: an in-memory pool (the synthetic world,
with its isolated sources for PIT) or a stream of files (folder or manifest).

Both give `sample(n, generator) -> {"audio": [n,L], "sources": [n,K,L] or None}` on the
training device; random crops of the pool are one batched gather, not a per-clip loop.
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader

from audiorep.errors import ConfigError


class TensorClipPool:
    """Random crops of length `clip_samples` from clips held as a tensor [N,T] (and, when
    given, their isolated sources [N,K,T], cropped at the same place)."""

    def __init__(self, audio: torch.Tensor, clip_samples: int, sources: torch.Tensor | None = None, device="cpu"):
        if audio.dim() != 2:
            raise ConfigError(f"TensorClipPool audio must be [N,T], got {tuple(audio.shape)}")
        if clip_samples > audio.shape[1]:
            raise ConfigError(f"clip length {clip_samples} samples exceeds the pool's clips ({audio.shape[1]} samples)")
        self.audio = audio.to(device, torch.float32)
        self.sources = None if sources is None else sources.to(device, torch.float32)
        self.clip_samples = int(clip_samples)
        self.device = torch.device(device)

    def __len__(self) -> int:
        return self.audio.shape[0]

    def sample(self, n: int, generator: torch.Generator | None = None) -> dict:
        idx = torch.randint(len(self), (n,), generator=generator)
        start = torch.randint(self.audio.shape[1] - self.clip_samples + 1, (n,), generator=generator)
        pos = (start.unsqueeze(1) + torch.arange(self.clip_samples)).to(self.device)  # [n,L]
        idx = idx.to(self.device)
        audio = self.audio[idx].gather(1, pos)
        sources = None
        if self.sources is not None:
            src = self.sources[idx]
            sources = src.gather(2, pos.unsqueeze(1).expand(-1, src.shape[1], -1))
        return {"audio": audio, "sources": sources}


class FileClipStream:
    """Random crops from a `ClipSource` (folder, manifest) through a DataLoader; bad files are
    skipped and counted in `errors` (never stop a long run)."""

    def __init__(self, source, sample_rate: int, clip_seconds: float, device="cpu", num_workers: int = 0, seed: int = 0):
        from audiorep.data.dataset import ClipDataset

        if len(source) == 0:
            raise ConfigError(f"{source!r} holds no audio files")
        self.dataset = ClipDataset(source, sample_rate, clip_seconds, crop="random", seed=seed)
        self.device = torch.device(device)
        self.num_workers = num_workers
        self.errors: list[str] = []
        self._epoch, self._iter, self._batch = 0, None, None

    def _next(self, n: int) -> dict:
        if self._iter is None or self._batch != n:
            self.dataset.set_epoch(self._epoch)
            loader = DataLoader(self.dataset, batch_size=n, shuffle=True, drop_last=False,
                                num_workers=self.num_workers, collate_fn=self.dataset.collate_fn)
            self._iter, self._batch = iter(loader), n
        try:
            return next(self._iter)
        except StopIteration:
            self._epoch += 1
            self._iter = None
            return self._next(n)

    def sample(self, n: int, generator: torch.Generator | None = None) -> dict:
        parts, have = [], 0
        for _ in range(100):
            batch = self._next(n)
            self.errors.extend(batch["errors"])
            if batch["audio"].shape[0]:
                parts.append(batch["audio"])
                have += batch["audio"].shape[0]
            if have >= n:
                break
        if have < n:
            raise ConfigError(f"could not read enough clips; last errors: {self.errors[-3:]}")
        return {"audio": torch.cat(parts)[:n].to(self.device), "sources": None}


def synthetic_pool(n_clips: int, sample_rate: int, clip_seconds: float, seed: int = 0, device="cpu",
                   world_seconds: float = 4.0, max_events: int = 4, background: bool = True) -> TensorClipPool:
    """A pool of synthetic-world scenes; sources = isolated events plus the background as one
    more slot (so `audio == sources.sum(1)` holds for PIT)."""
    from audiorep.data.synthetic import SyntheticWorld

    world = SyntheticWorld(sample_rate=sample_rate, clip_seconds=world_seconds, max_events=max_events, background=background)
    scenes = world.generate(n_clips, seed)
    sources = scenes.sources
    if background:
        sources = torch.cat([sources, scenes.background.unsqueeze(1)], dim=1)
    return TensorClipPool(scenes.audio, int(round(clip_seconds * sample_rate)), sources, device)


def file_stream(path: str, sample_rate: int, clip_seconds: float, device="cpu", num_workers: int = 0, seed: int = 0) -> FileClipStream:
    """A folder of audio files, or a manifest CSV, as a clip stream."""
    from pathlib import Path

    from audiorep.data.sources import FolderSource, ManifestSource

    p = Path(path)
    if p.is_dir():
        source = FolderSource(p, sample_rate=sample_rate)
    elif p.suffix.lower() == ".csv":
        source = ManifestSource(p, sample_rate=sample_rate)
    else:
        raise ConfigError(f"training data {path!r}: expected 'synthetic', a folder of audio files or a manifest .csv")
    return FileClipStream(source, sample_rate, clip_seconds, device, num_workers, seed)
