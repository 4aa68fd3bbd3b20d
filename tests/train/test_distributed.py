"""The DDP path on CPU: two processes (gloo) train through the real Trainer, as torchrun would launch them."""

import os

import torch
import torch.multiprocessing as mp

from audiorep.train.trainer import Trainer


def _rank(rank, world, tmp, port):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    from test_trainer import tiny_cfg, toy_source

    cfg = tiny_cfg(tmp, "train.steps=4", "train.checkpoint_every=2", "train.device=cpu")
    summary = Trainer(cfg, progress=False, source=toy_source()).fit()
    torch.save(summary, os.path.join(tmp, f"summary{rank}.pt"))


def test_two_processes_train_in_step_and_rank0_writes_the_checkpoint(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_rank, args=(2, str(tmp_path), port), nprocs=2, join=True)
    summaries = [torch.load(tmp_path / f"summary{r}.pt") for r in range(2)]
    assert all(s["steps"] == 4 for s in summaries)
    assert (tmp_path / "last.pt").exists() and (tmp_path / "metrics.csv").exists()
    state = torch.load(tmp_path / "last.pt", weights_only=True)
    assert state["step"] == 4
