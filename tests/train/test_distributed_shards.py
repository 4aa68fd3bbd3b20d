"""Two processes (gloo, CPU, as torchrun launches them) train from tar shards: each rank reads its
own shards, so the ranks' samples are disjoint and together the whole set, and the weights stay
equal across ranks (DDP averages the gradients of different data)."""

import os

import numpy as np
import soundfile as sf
import torch
import torch.multiprocessing as mp

from audiorep.data.shard_writer import write_shards
from audiorep.data.sources import FolderSource
from audiorep.methods.simclr import SimCLR
from audiorep.train.trainer import Trainer

SHARDS, PER_SHARD, BATCH = 8, 6, 4  # each rank: 4 shards x 6 = 24 samples = 6 steps of 4


def _run(rank, world, tmp, port, shards, steps):
    from test_distributed import join_group
    from test_trainer import tiny_cfg

    join_group(rank, world, port)
    seen, original = [], SimCLR.forward

    def forward(self, batch, generator=None):  # the samples this rank trains on
        seen.extend(batch["index"].tolist())
        return original(self, batch, generator)

    SimCLR.forward = forward
    cfg = tiny_cfg(tmp, f"train.steps={steps}", f"train.batch_size={BATCH}", "train.device=cpu",
                   "data.source=shards", f"data.path={shards}", "data.shards.shuffle_buffer=5")
    trainer = Trainer(cfg, progress=False)
    summary = trainer.fit()
    weights = {k: p.detach() for k, p in trainer.method.named_parameters()}
    torch.save({"seen": seen, "steps": summary["steps"], "weights": weights}, os.path.join(tmp, f"rank{rank}.pt"))


def test_two_ranks_read_disjoint_shards_and_keep_equal_weights(tmp_path):
    from test_distributed import free_port

    rng = np.random.default_rng(0)
    audio = tmp_path / "audio"
    audio.mkdir()
    t = np.arange(16000) / 16000
    for i in range(SHARDS * PER_SHARD):
        tone = 0.3 * np.sin(2 * np.pi * 200 * 2 ** (i % 4) * t) + 0.02 * rng.standard_normal(t.size)
        sf.write(audio / f"clip{i:03d}.wav", tone.astype(np.float32), 16000)
    shards = tmp_path / "shards"
    write_shards(FolderSource(audio), shards, sample_rate=16000, max_samples=PER_SHARD, progress=False)
    steps = SHARDS * PER_SHARD // (2 * BATCH)  # one pass over each rank's shards
    mp.spawn(_run, args=(2, str(tmp_path), free_port(), str(shards), steps), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]
    assert ranks[0]["steps"] == ranks[1]["steps"] == steps
    seen = [set(r["seen"]) for r in ranks]
    assert all(len(r["seen"]) == len(s) == steps * BATCH for r, s in zip(ranks, seen))  # no sample twice
    assert not seen[0] & seen[1]
    assert seen[0] | seen[1] == set(range(SHARDS * PER_SHARD))
    for key, value in ranks[0]["weights"].items():
        torch.testing.assert_close(ranks[1]["weights"][key], value, msg=f"{key} differs across ranks")
