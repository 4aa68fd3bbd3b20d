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

    ``clip_seconds=None`` yields whole clips (variable length; `collate_clips` zero-pads)."""

    def __init__(self, source: ClipSource, sample_rate: int, clip_seconds: float | None,
                 crop: str = "random", seed: int = 0):
        if crop not in CROPS:
            raise ConfigError(f"crop must be one of {CROPS}, got {crop!r}")
        if clip_seconds is not None and clip_seconds <= 0:
            raise ConfigError(f"clip_seconds must be > 0, got {clip_seconds!r}")
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
            audio = self.source.load(index, self.clip_seconds, rng, crop=self.crop, sample_rate=self.sample_rate)
        except AudioFileError as err:
            return {"error": str(err), "index": index}
        return {"audio": torch.from_numpy(audio), "index": index}

    @property
    def collate_fn(self):
        """`collate_clips` that knows the clip length, so an all-bad batch is ``[0, T_clip]``."""
        return functools.partial(collate_clips, clip_samples=self.clip_samples)


def collate_clips(items: list[dict], clip_samples: int | None = None) -> dict:
    """Stack good items into ``audio [B, T]`` and ``index [B]``; list the bad ones in ``errors``.

    Clips of different lengths are zero-padded at the end to the longest, and ``lengths [B]``
    gives each clip's true length. A batch with no good item has ``audio`` of shape
    ``[0, clip_samples or 0]``."""
    good = [it for it in items if "error" not in it]
    errors = [it["error"] for it in items if "error" in it]
    if not good:
        audio = torch.zeros(0, clip_samples or 0)
        lengths = torch.zeros(0, dtype=torch.long)
    else:
        lengths = torch.tensor([len(it["audio"]) for it in good], dtype=torch.long)
        longest = int(lengths.max())
        if bool((lengths == longest).all()):
            audio = torch.stack([it["audio"] for it in good])
        else:
            audio = torch.nn.utils.rnn.pad_sequence([it["audio"] for it in good], batch_first=True)
    index = torch.tensor([it["index"] for it in good], dtype=torch.long)
    return {"audio": audio, "index": index, "lengths": lengths, "errors": errors}
