"""An endless stream of training clips from tar shards, split across ranks and DataLoader workers.

Items are those of `ClipDataset` (``{"audio", ["video",] "index"}`` or ``{"error", "index"}``),
so `collate_clips` batches both kinds of data the same way; ``index`` is the sample's key (its
position in the writer's input), ``-1`` on an error item.

Who reads what: there are ``slots = world_size * max(1, num_workers)`` readers; reader
``slot = rank * workers + worker`` reads, in its stream-epoch e, the shards ``order_e[slot::slots]``
of a permutation drawn from ``(seed, e)`` (the same on every rank), epoch after epoch forever,
so no two readers ever read the same shard in the same epoch. A slot's epoch ends with its
shuffle buffer drained: one epoch of a slot holds each sample of its shards exactly once.

Why samples are decoded only after the shuffle buffer: a buffered or skipped sample then costs
its bytes, not a FLAC decode, and a crop decodes only its own FLAC frames (`shard_format.decode_crop`);
nothing here unpickles. A shard
that cannot be opened or read to its end (an unreachable URL, a truncated tar) is one error
item and the stream goes on with the next shard; a sample that cannot be decoded, or whose
audio is not finite, is an error item too (silence is not an error, as for files). No NaN leaves
the stream.

Random crops use a generator seeded by ``(seed, slot, p)``, p the sample's position in its
slot's sequence of raw samples, so a sample read at the same position is cropped the same way
in a resumed run.

Resume (``start_step=S``): a DataLoader over an IterableDataset batches inside each worker and
takes batches from the workers in turn, so worker w had made the batches b < S with
``b % W == w`` (`items_before`) and its stream had emitted ``n = items_before(...)`` items. A
new DataLoader starts again at its worker 0, whose first batch is now batch S, so worker w of
the resumed loader plays worker ``(w + S) % W`` of the first one. It skips the first n raw
samples of that worker's sequence (whole shards by the index counts without opening them, else
by reading tar members without decoding) and starts an empty shuffle buffer. How close that
is: at the kill the worker had taken n + b raw samples, and the b <= `shuffle_buffer` it still
buffered are lost. So, per slot, in the epoch of the kill the killed-then-resumed run misses b
samples (buffered, at positions < n) and repeats b (at positions >= n, already emitted before
the kill) compared with an uninterrupted run; every later epoch holds the same samples (in
another order: the buffer draws differ), each cropped the same way. With ``shuffle_buffer=0``
the resumed stream is identical to the uninterrupted one. A broken shard (fewer samples than
its index count) shifts a resumed stream by the difference, as it is skipped by its count.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info
from webdataset.gopen import gopen
from webdataset.handlers import reraise_exception
from webdataset.tariterators import group_by_keys, tar_file_expander

from audiorep.data.dataset import CROPS
from audiorep.data.shard_format import ShardSampleError, decode_crop
from audiorep.data.shard_source import ShardSource, frame_hw
from audiorep.errors import ConfigError

_EPOCH_END = object()


def items_before(step: int, batch_size: int, num_workers: int, worker: int) -> int:
    """Items worker `worker` of a DataLoader with `num_workers` workers emitted for batches 0..step-1."""
    workers = max(1, int(num_workers))
    batches = max(0, -(-(int(step) - int(worker)) // workers))  # b < step with b % workers == worker
    return batches * int(batch_size)


class ShardStream(IterableDataset):
    """Endless `ClipDataset`-style items from `source`'s shards, this rank's and worker's share of
    them (see the module docstring); batch it with `collate_clips` at `batch_size`."""

    def __init__(self, source: ShardSource, clip_seconds: float, *, seed: int = 0, rank: int = 0, world_size: int = 1,
                 shuffle_buffer: int = 1000, batch_size: int = 1, start_step: int = 0, crop: str = "random"):
        if not clip_seconds or clip_seconds <= 0:
            raise ConfigError(f"streamed shards are cut into fixed-length crops: clip_seconds must be > 0, "
                              f"got {clip_seconds!r}")
        if crop not in CROPS:
            raise ConfigError(f"crop must be one of {CROPS}, got {crop!r}")
        if shuffle_buffer < 0 or batch_size < 1 or start_step < 0 or not 0 <= rank < world_size:
            raise ValueError(f"bad stream settings: shuffle_buffer={shuffle_buffer}, batch_size={batch_size}, "
                             f"start_step={start_step}, rank={rank}, world_size={world_size}")
        self.source, self.clip_seconds, self.crop = source, float(clip_seconds), crop
        self.seed, self.rank, self.world_size = int(seed), int(rank), int(world_size)
        self.shuffle_buffer, self.batch_size, self.start_step = int(shuffle_buffer), int(batch_size), int(start_step)
        self.sample_rate, self.fields = source.sample_rate, source.fields
        self._check_slots(1)

    @property
    def clip_samples(self) -> int:
        return int(round(self.clip_seconds * self.sample_rate))

    def _check_slots(self, workers: int) -> None:
        shards, slots = len(self.source.urls), self.world_size * workers
        if shards < slots:
            raise ConfigError(f"{shards} shard(s) at {self.source.path!r} cannot feed {self.world_size} rank(s) x "
                              f"{workers} DataLoader worker(s) = {slots} readers, each of which needs its own "
                              "shards: write more, smaller shards (audiorep shard --max-samples) or use fewer "
                              "workers (data.num_workers)")

    def __iter__(self):
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        self._check_slots(workers)
        worker = (worker + self.start_step) % workers  # the loader's first batch is batch start_step: see above
        slots, slot = self.world_size * workers, self.rank * workers + worker
        skip = items_before(self.start_step, self.batch_size, workers, worker)
        state = np.random.SeedSequence([self.seed, self.rank, worker, skip]).generate_state(2)
        rng = random.Random(int(state[0]) << 32 | int(state[1]))
        for pos, entry in _shuffled(self._entries(slot, slots, skip), self.shuffle_buffer, rng):
            yield self._item(entry, slot, pos)

    def _entries(self, slot: int, slots: int, skip: int):
        """(position, raw sample or error item) of this slot's shards, epoch after epoch, from `skip` on."""
        urls, counts, pos = self.source.urls, self.source.counts, 0
        for epoch in itertools.count():
            for i in np.random.default_rng([self.seed, epoch]).permutation(len(urls))[slot::slots]:
                if counts[i] is not None and pos + counts[i] <= skip:
                    pos += counts[i]  # skipped without opening it
                    continue
                for entry in read_shard(urls[i], counts[i]):
                    if pos >= skip:
                        yield pos, entry
                    pos += 1
            yield pos, _EPOCH_END

    def _item(self, entry: dict, slot: int, pos: int) -> dict:
        """Decode the crop of one raw sample; anything wrong with it becomes an error item."""
        if "error" in entry:
            return entry
        key = entry["__key__"]
        where = f"{entry['__url__']}:{key}"
        video = "video" in self.fields
        rng = np.random.default_rng([self.seed, slot, pos]) if self.crop == "random" else None
        try:
            with np.errstate(all="ignore"):
                arrays = decode_crop(entry, where, self.sample_rate, self.clip_seconds, self.crop, rng,
                                     video_fps=self.source.video_fps if video else None)
            if video and self.source.video_size is not None and \
                    tuple(arrays["video"].shape[2:]) != frame_hw(self.source.video_size):
                raise ShardSampleError(where, f"frames are {tuple(arrays['video'].shape[2:])}, the shards' size is "
                                              f"{self.source.video_size}")
            if not np.isfinite(arrays["audio"]).all():
                raise ShardSampleError(where, "audio holds NaN or infinite samples")
        except ShardSampleError as err:
            return {"error": str(err), "index": -1}
        except Exception as err:  # anything else one sample can throw must not end a long run
            return {"error": f"{where}: undecodable sample ({type(err).__name__}: {err})", "index": -1}
        return {**{k: torch.from_numpy(arrays[k]) for k in self.fields}, "index": int(key) if key.isdigit() else -1}

    def __repr__(self) -> str:
        return (f"ShardStream({self.source!r}, clip_seconds={self.clip_seconds:g}, rank {self.rank}/{self.world_size}, "
                f"shuffle_buffer={self.shuffle_buffer}, start_step={self.start_step})")


def _shuffled(entries, size: int, rng: random.Random):
    """Draw at random from a buffer of `size` raw samples, drained at each epoch end (error items pass)."""
    buf: list = []
    for pos, entry in entries:
        if entry is _EPOCH_END:
            while buf:
                j = rng.randrange(len(buf))
                buf[j], buf[-1] = buf[-1], buf[j]
                yield buf.pop()
        elif size == 0 or "error" in entry:
            yield pos, entry
        elif len(buf) < size:
            buf.append((pos, entry))
        else:
            j = rng.randrange(size)
            out, buf[j] = buf[j], (pos, entry)
            yield out


def read_shard(url: str, expected: int | None = None):
    """The raw samples (members by extension) of one shard, undecoded; a shard that cannot be
    opened or read to its end, or holds fewer samples than its index says, ends in one error item."""
    n, stream = 0, None
    try:
        stream = gopen(url)
        files = tar_file_expander([{"url": url, "stream": stream}], handler=reraise_exception)
        for sample in group_by_keys(files, handler=reraise_exception):
            n += 1
            yield sample
    except Exception as err:  # a broken tar or an unreachable URL must not stop a long run
        cause = err.args[0] if err.args else ""
        yield {"error": f"{url}: unreadable shard after {n} sample(s) ({type(err).__name__}: {cause})", "index": -1}
        return
    finally:
        if stream is not None:
            try:
                stream.close()
            except Exception:  # a pipe closed early reports its reader's exit status; nothing to do
                pass
    if n == 0:
        yield {"error": f"{url}: shard holds no samples", "index": -1}
    elif expected is not None and n < expected:
        yield {"error": f"{url}: shard ended after {n} of the {expected} samples its index lists", "index": -1}
