"""Many synthetic scenes in memory, generated in chunks so peak memory stays bounded.

Chunk k of a set uses seed `seed * 100_003 + k`, so a set depends only on (n, seed, chunk)
and the world settings. Only what is asked for is kept: the isolated sources of 2,000
four-second clips at 16 kHz would take 2.6 GB, and only a supervised separator needs them.
With `video` (a `VideoData`-like object: size, fps, distractors), each chunk's video track
is rendered from its scenes (`render_video`), uint8, time on axis 1.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import torch

from audiorep.data.synthetic.video import render_video
from audiorep.data.synthetic.world import SyntheticWorld


@dataclass
class SyntheticClips:
    """Mixtures and labels of n scenes (CPU tensors). With `sources`, `sources [n, K, T]`
    holds the isolated events plus the background as one more slot when there is one, so
    `audio == sources.sum(1)`."""

    audio: torch.Tensor  # [n, T]
    meta: list[dict]
    events: torch.Tensor  # [n, C] multi-hot
    scene: torch.Tensor  # [n] long
    class_names: tuple[str, ...]
    scene_names: tuple[str, ...]
    sources: torch.Tensor | None = None
    video: torch.Tensor | None = None  # [n, F, 3, H, W] uint8 when asked for


def generate_clips(n: int, seed: int, sample_rate: int, clip_seconds: float, max_events: int = 4,
                   background: bool = True, sources: bool = False, progress: bool = True,
                   chunk: int = 250, video=None) -> SyntheticClips:
    from tqdm.auto import tqdm

    world = SyntheticWorld(sample_rate=sample_rate, clip_seconds=clip_seconds, max_events=max_events,
                           background=background)
    audio, meta, events, scenes, isolated, frames = [], [], [], [], [], []
    bar = tqdm(total=n, desc="synthetic scenes", unit="clip", leave=False,
               disable=not (progress and sys.stderr.isatty()))  # no redraws in a log
    for k, start in enumerate(range(0, n, chunk)):
        chunk_seed = seed * 100_003 + k
        batch = world.generate(min(chunk, n - start), seed=chunk_seed)
        if video is not None:
            frames.append(render_video(batch, size=video.size, fps=video.fps, seed=chunk_seed,
                                       distractors=video.distractors))
        audio.append(batch.audio)
        meta.extend(batch.meta())
        events.append(batch.events)
        scenes.append(batch.scene)
        if sources:
            slots = [batch.sources] + ([batch.background.unsqueeze(1)] if background else [])
            isolated.append(torch.cat(slots, dim=1))
        bar.update(len(batch))
    bar.close()
    return SyntheticClips(torch.cat(audio), meta, torch.cat(events), torch.cat(scenes), world.class_names,
                          world.scene_names, torch.cat(isolated) if sources else None,
                          torch.cat(frames) if video is not None else None)
