"""Clips of fixed length from any source, as a torch Dataset that never dies on a bad file.

A file that cannot be used becomes an item ``{"error": "path: cause", "index": i}``;
`collate_clips` drops it and reports it in the batch's ``errors`` so the trainer can count
and log bad files instead of stopping a long run on the first one.

Random crops are drawn from a numpy Generator seeded by ``(seed, epoch, index)``: they change
every epoch (call `set_epoch`) and are the same whatever the number of DataLoader workers.
With ``persistent_workers=True`` the workers keep their own copy of the dataset, so the
epoch must then be set before the workers start (or not be relied on).
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch.utils.data import Dataset

from audiorep.data.sources import ClipSource
from audiorep.errors import AudioFileError, ConfigError

CROPS = ("random", "start", "center")


class ClipDataset(Dataset):
    """Item `i` = ``{"audio": float32 Tensor[T_clip], "index": i}`` or ``{"error": str, "index": i}``.

    ``clip_seconds=None`` yields whole clips (variable length; `collate_clips` zero-pads).
    `fields` asks for more of the source's fields (``("audio", "sources")``): time-aligned
    ones cropped where the audio is, per-clip ones (``label``) as they are; a source without
    one is a ConfigError naming it."""

    def __init__(self, source: ClipSource, sample_rate: int, clip_seconds: float | None,
                 crop: str = "random", seed: int = 0, fields: tuple[str, ...] = ("audio",)):
        missing = [f for f in fields if f not in source.fields]
        if missing:
            raise ConfigError(f"the data source {source!r} has no {', '.join(missing)} "
                              f"(it holds {', '.join(source.fields)})")
        self.fields = tuple(fields)
        self.per_clip_fields = tuple(f for f in self.fields if f in getattr(source, "per_clip_fields", ()))
        if crop not in CROPS:
            raise ConfigError(f"crop must be one of {CROPS}, got {crop!r}")
        if clip_seconds is not None and clip_seconds <= 0:
            raise ConfigError(f"clip_seconds must be > 0, got {clip_seconds!r}")
        if clip_seconds is None and "video" in fields:  # frames of unequal counts cannot be stacked
            raise ConfigError("video clips are batched as fixed-length crops: set clip_seconds (data.clip_seconds)")
        self.source = source
        self.sample_rate = int(sample_rate)
        self.clip_seconds = clip_seconds
        self.crop = crop
        self.seed = int(seed)
        self.epoch = 0

    @property
    def clip_samples(self) -> int | None:
        return None if self.clip_seconds is None else int(round(self.clip_seconds * self.sample_rate))

    def set_epoch(self, epoch: int) -> None:
        """New random crops for a new epoch (same crops for the same epoch and seed)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.source)

    def rng_for(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.epoch, int(index)])

    def __getitem__(self, index: int) -> dict:
        index = int(index)
        rng = self.rng_for(index) if self.crop == "random" else None
        try:
            if self.fields == ("audio",):
                arrays = {"audio": self.source.load(index, self.clip_seconds, rng, crop=self.crop,
                                                    sample_rate=self.sample_rate)}
            else:
                arrays = self.source.load_fields(index, self.clip_seconds, rng, crop=self.crop,
                                                 sample_rate=self.sample_rate)
        except AudioFileError as err:
            return {"error": str(err), "index": index}
        return {**{k: torch.from_numpy(arrays[k]) for k in self.fields}, "index": index}

    @property
    def collate_fn(self):
        """`collate_clips` that knows the clip length, so an all-bad batch is ``[0, T_clip]``, and
        which fields hold one value per clip."""
        return functools.partial(collate_clips, clip_samples=self.clip_samples, per_clip=self.per_clip_fields)


def collate_clips(items: list[dict], clip_samples: int | None = None, per_clip: tuple[str, ...] = ()) -> dict:
    """Stack good items into ``audio [B, T]`` and ``index [B]`` (and any other timed field into
    ``[B, ..., T]``); list the bad ones in ``errors``: a batch is a mapping of named fields.

    Clips of different lengths are zero-padded at the end to the longest, and ``lengths [B]``
    gives each clip's true length. A field in `per_clip` (and any 0-d item) has one value per
    clip and is stacked as it is, never padded: class indices ``label [B]`` int64, multi-hot
    ``label [B, C]`` float. A batch with no good item has ``audio`` of shape
    ``[0, clip_samples or 0]``."""
    good = [it for it in items if "error" not in it]
    errors = [it["error"] for it in items if "error" in it]
    if not good:
        return {"audio": torch.zeros(0, clip_samples or 0), "index": torch.zeros(0, dtype=torch.long),
                "lengths": torch.zeros(0, dtype=torch.long), "errors": errors}
    batch = {name: torch.stack([it[name] for it in good]) if name in per_clip or good[0][name].ndim == 0
             else _stack_padded([it[name] for it in good]) for name in good[0] if name != "index"}
    batch["index"] = torch.tensor([it["index"] for it in good], dtype=torch.long)
    batch["lengths"] = torch.tensor([it["audio"].shape[-1] for it in good], dtype=torch.long)
    batch["errors"] = errors
    return batch


def _stack_padded(tensors: list[torch.Tensor]) -> torch.Tensor:
    """[..., T_i] tensors -> [B, ..., max T_i], zero-padded at the end of the last axis."""
    longest = max(t.shape[-1] for t in tensors)
    if any(t.shape[-1] != longest for t in tensors):
        tensors = [torch.nn.functional.pad(t, (0, longest - t.shape[-1])) for t in tensors]
    return torch.stack(tensors)
