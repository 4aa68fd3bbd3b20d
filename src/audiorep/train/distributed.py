"""torchrun / torch.distributed set-up: one process per device, nothing home-made."""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_distributed(device_pref: str = "auto") -> tuple[DistInfo, torch.device]:
    """Join the process group when launched by torchrun; pick this process's device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    info = DistInfo(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))
    use_cuda = torch.cuda.is_available() and device_pref in ("auto", "cuda")
    if device_pref not in ("auto", "cuda", "cpu") and not device_pref.startswith("cuda:"):
        device = torch.device(device_pref)
    elif device_pref.startswith("cuda:"):
        device = torch.device(device_pref)
    else:
        device = torch.device(f"cuda:{info.local_rank}" if use_cuda else "cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if info.enabled and not dist.is_initialized():
        # one group for the life of the process: several runs in one process (an ablation's
        # variants) share it, and it is taken down at exit
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        atexit.register(cleanup_distributed)
    return info, device


def cleanup_distributed() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def finish_together(info: DistInfo) -> None:
    """Every rank waits here until all have finished the run.

    Rank 0's last checkpoint is then on disk before any rank returns, and the wait releases
    the GIL long enough for Gloo's worker threads to free the last collective's tensors:
    a process that reaches interpreter shutdown while one of them still holds a Python
    tensor aborts with "terminate called without an active exception" (pytorch#190489;
    about 1 two-process run in 50 on this CPU before this wait)."""
    if info.enabled:
        dist.barrier()


def any_rank(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """True on every rank when `flag` is true on any: a decision all ranks must take together
    (skipping a step: DDP hangs if one rank runs backward and another does not)."""
    if not info.enabled:
        return bool(flag)
    t = torch.tensor([float(flag)], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def gather_objects(obj, info: DistInfo) -> list:
    """`obj` of every rank, in rank order (just `[obj]` in one process)."""
    if not info.enabled:
        return [obj]
    out = [None] * info.world_size
    dist.all_gather_object(out, obj)
    return out


def broadcast_from_main(values: list[float], info: DistInfo, device: torch.device) -> list[float]:
    """Rank 0's `values` on every rank: decisions taken from them (stop, rate, checkpoints) agree."""
    if not info.enabled:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.broadcast(t, src=0)
    return t.tolist()
