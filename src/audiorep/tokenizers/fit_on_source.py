"""Fit a tokenizer on unlabelled audio: random crops of a source -> front-end -> patches.

Clips are read by DataLoader workers (`sample_batches`: a random subset of files, or the first
clips of a shuffled stream of shards; bad files are skipped and listed), the
front-end and the fit run on `device` (the training device), and patches that lie in the zero
padding of a short clip are left out, so silence that was never recorded gets no codeword.
"""

from __future__ import annotations

import sys
import time

import torch
from tqdm.auto import tqdm

from audiorep.data.training_batches import sample_batches
from audiorep.errors import ConfigError


@torch.no_grad()
def collect_patches(source, frontend, tokenizer, clips: int, clip_seconds: float, seed: int = 0,
                    device: str | torch.device = "cpu", num_workers: int = 0, batch_size: int = 64,
                    progress: bool = True) -> tuple[torch.Tensor, list[str]]:
    """Patches [N, dim] on `device` from `clips` random crops of `source`, and the bad files."""
    loader = sample_batches(source, clips, frontend.sample_rate, clip_seconds, seed=seed, batch_size=batch_size,
                            num_workers=num_workers)
    frontend = frontend.to(device)
    hop = frontend.hop_seconds * frontend.sample_rate * tokenizer.patch_frames  # samples per token
    patches, errors = [], []
    bar = tqdm(loader, desc="tokenizer: reading clips", unit="batch", disable=not (progress and sys.stderr.isatty()))
    for batch in bar:
        errors += batch["errors"]
        if not len(batch["audio"]):
            continue
        p = tokenizer.patches(frontend(batch["audio"].to(device)))  # [B, N, dim]
        real = torch.clamp(torch.floor(batch["lengths"].to(device) / hop), min=1)  # patches holding real audio
        keep = torch.arange(p.shape[1], device=device)[None, :] < real[:, None]
        patches.append(p[keep])
    if not patches:
        raise ConfigError(f"the tokenizer found no readable clip to fit on ({len(errors)} bad files, e.g. "
                          f"{errors[:1]})")
    return torch.cat(patches), errors


def fit_on_source(tokenizer, source, frontend, clips: int, clip_seconds: float, seed: int = 0,
                  device: str | torch.device = "cpu", num_workers: int = 0, progress: bool = True,
                  **fit_kwargs) -> dict:
    """Fit `tokenizer` (moved to `device`) on patches of `source`; returns its history with the
    reading time, the number of patches and the bad files."""
    t = time.perf_counter()
    patches, errors = collect_patches(source, frontend, tokenizer, clips, clip_seconds, seed, device,
                                      num_workers, progress=progress)
    read_s = time.perf_counter() - t
    history = tokenizer.to(device).fit(patches, seed=seed, **fit_kwargs)
    return {**history, "read_seconds": read_s, "patches": int(patches.shape[0]), "bad_files": errors}
