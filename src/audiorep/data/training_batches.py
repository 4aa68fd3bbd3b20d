"""The batches a training run reads, from any step on: the one door between data and trainer.

Two kinds of data, one contract (``steps_per_epoch`` and ``from_step(step)``, an endless
iterator of collated batches, the first of which is the batch of step `step`):

- `IndexedBatches`: a map-style source (files, a manifest, arrays in memory) through
  `ClipDataset`, a `ResumableSampler` (each rank every world_size-th clip of a per-epoch
  permutation) and a DataLoader. Resume is exact.
- `StreamedBatches`: WebDataset tar shards through `ShardStream` (shards split across ranks and
  workers, a shuffle buffer, an endless stream of nominal epochs). Resume is exact up to the
  shuffle buffer lost at the kill (see `data/shard_stream.py`).

`sample_batches` gives the first `clips` clips of either kind in random order, for a part that
is fitted on the data before training (a tokenizer).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator

import numpy as np
from torch.utils.data import DataLoader, Subset

from audiorep.data.dataset import ClipDataset, collate_clips
from audiorep.data.sampler import ResumableSampler
from audiorep.data.shard_source import ShardSource
from audiorep.data.shard_stream import ShardStream


class IndexedBatches:
    def __init__(self, source, sample_rate: int, clip_seconds: float | None, *, fields=("audio",), seed: int = 0,
                 rank: int = 0, world_size: int = 1, batch_size: int, num_workers: int = 0, pin_memory: bool = False):
        self.dataset = ClipDataset(source, sample_rate, clip_seconds, crop="random", seed=seed, fields=fields)
        self.sampler = ResumableSampler(len(self.dataset), seed, rank, world_size)
        self.loader = DataLoader(self.dataset, batch_size=batch_size, sampler=self.sampler, num_workers=num_workers,
                                 collate_fn=self.dataset.collate_fn, drop_last=True, pin_memory=pin_memory,
                                 persistent_workers=False)
        self.batch_size = batch_size
        self.steps_per_epoch = len(self.sampler) // batch_size

    def from_step(self, step: int) -> Iterator[dict]:
        """Batches from step `step` on, epoch after epoch, resuming mid-epoch without replaying."""
        epoch, offset = divmod(step, self.steps_per_epoch)
        while True:
            self.sampler.set_epoch(epoch, offset * self.batch_size)
            self.dataset.set_epoch(epoch)
            yield from self.loader
            epoch, offset = epoch + 1, 0


class StreamedBatches:
    def __init__(self, source: ShardSource, clip_seconds: float, *, seed: int = 0, rank: int = 0,
                 world_size: int = 1, batch_size: int, num_workers: int = 0, pin_memory: bool = False,
                 shuffle_buffer: int = 1000):
        if clip_seconds is None:
            raise ValueError("streamed shards are batched as fixed-length crops: set data.clip_seconds")
        self.source, self.clip_seconds = source, clip_seconds
        self.stream_args = dict(seed=seed, rank=rank, world_size=world_size, shuffle_buffer=shuffle_buffer,
                                batch_size=batch_size)
        self.loader_args = dict(batch_size=batch_size, num_workers=num_workers, pin_memory=pin_memory,
                                collate_fn=functools.partial(collate_clips,
                                                             clip_samples=round(clip_seconds * source.sample_rate)))
        # a nominal epoch: the shards' samples once over all ranks (the stream itself never ends)
        self.steps_per_epoch = max(1, len(source) // (batch_size * world_size))

    def from_step(self, step: int) -> Iterator[dict]:
        stream = ShardStream(self.source, self.clip_seconds, start_step=step, **self.stream_args)
        yield from DataLoader(stream, **self.loader_args)


def sample_batches(source, clips: int, sample_rate: int, clip_seconds: float, *, seed: int = 0,
                   batch_size: int = 64, num_workers: int = 0, shuffle_buffer: int = 1000) -> Iterator[dict]:
    """Batches holding `clips` random crops of `source` in random order (fewer if it is smaller):
    a random subset of a map-style source, or the first clips of a shuffled stream of shards."""
    if isinstance(source, ShardSource):
        stream = ShardStream(source, clip_seconds, seed=seed, shuffle_buffer=shuffle_buffer, batch_size=batch_size)
        loader = DataLoader(stream, batch_size=batch_size, num_workers=num_workers,
                            collate_fn=functools.partial(collate_clips, clip_samples=stream.clip_samples))
        return itertools.islice(loader, -(-min(clips, len(source)) // batch_size))
    dataset = ClipDataset(source, sample_rate, clip_seconds, crop="random", seed=seed)
    order = np.random.default_rng(seed).permutation(len(dataset))[: min(clips, len(dataset))]
    return iter(DataLoader(Subset(dataset, order.tolist()), batch_size=batch_size, num_workers=num_workers,
                           collate_fn=dataset.collate_fn))
