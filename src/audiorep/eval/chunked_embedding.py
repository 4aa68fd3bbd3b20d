"""Scene and frame embeddings of audio of any length, in chunks so memory stays bounded.

- Scene: audio up to `chunk_seconds` goes through the embedder whole. Longer audio is cut
  into n = ceil(T / chunk) nearly equal chunks (no short tail), and their embeddings are
  averaged, weighted by chunk length.
- Frames: audio is processed in cores of `chunk_seconds` (a whole number of frame hops) with
  `context_seconds` of real audio on each side, and only frames centred inside the core are
  kept, so chunk edges do not show and the frame grid stays regular across chunks.
- Frame hop: if the embedder's hop exceeds `max_hop_s` (HEAR asks for <= 50 ms), frames are
  linearly interpolated onto a grid whose hop divides the original one, so every original
  frame is kept.
- Audio shorter than the embedder's `min_input_seconds` (when it declares one) is
  zero-padded to it, and frames centred past the real end are dropped.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _pad_to_min(embedder, audio: torch.Tensor) -> torch.Tensor:
    min_s = float(getattr(embedder, "min_input_seconds", 0.0) or 0.0)
    min_samples = int(math.ceil(min_s * embedder.sample_rate))
    if audio.shape[-1] < min_samples:
        audio = F.pad(audio, (0, min_samples - audio.shape[-1]))
    return audio


@torch.no_grad()
def scene_embeddings(embedder, audio: torch.Tensor, chunk_seconds: float = 10.0) -> torch.Tensor:
    """[B, T] -> [B, D] float32."""
    n_samples = audio.shape[-1]
    chunk = int(round(chunk_seconds * embedder.sample_rate))
    if n_samples <= chunk:
        return embedder(_pad_to_min(embedder, audio)).float()
    n_chunks = math.ceil(n_samples / chunk)
    bounds = torch.linspace(0, n_samples, n_chunks + 1).round().long().tolist()
    total = None
    for start, stop in zip(bounds[:-1], bounds[1:]):
        part = embedder(_pad_to_min(embedder, audio[:, start:stop])).float() * ((stop - start) / n_samples)
        total = part if total is None else total + part
    return total


def _hop_samples(embedder) -> int:
    return max(1, int(round(embedder.frame_hop_s * embedder.sample_rate)))


@torch.no_grad()
def frame_embeddings(
    embedder, audio: torch.Tensor, chunk_seconds: float = 10.0, context_seconds: float = 1.0, max_hop_s: float | None = 0.05
) -> tuple[torch.Tensor, torch.Tensor]:
    """[B, T] -> (embeddings [B, F, D] float32, frame centre times in seconds [F] float64)."""
    sr = embedder.sample_rate
    n_samples = audio.shape[-1]
    hop = _hop_samples(embedder)
    core = max(hop, int(chunk_seconds * sr) // hop * hop)
    context = int(math.ceil(context_seconds * sr / hop)) * hop
    padded = _pad_to_min(embedder, audio)
    if padded.shape[-1] <= core + context:
        emb, times = embedder.frames(padded)
        emb, times = emb.float(), times.to(torch.float64).cpu()
    else:
        embs, all_times = [], []
        for start in range(0, n_samples, core):
            left = max(0, start - context)
            seg = _pad_to_min(embedder, padded[:, left : min(padded.shape[-1], start + core + context)])
            e, t = embedder.frames(seg)
            t = t.to(torch.float64).cpu() + left / sr
            keep = (t >= start / sr - 1e-9) & (t < (start + core) / sr - 1e-9)
            embs.append(e.float()[:, keep.to(e.device)])
            all_times.append(t[keep])
        emb, times = torch.cat(embs, dim=1), torch.cat(all_times)
    if padded.shape[-1] > n_samples:  # drop frames centred in the zero padding
        keep = times <= n_samples / sr + 1e-9
        keep[0] = True
        emb, times = emb[:, keep.to(emb.device)], times[keep]
    if max_hop_s is not None and len(times) > 1:
        emb, times = _refine_hop(emb, times, max_hop_s)
    return emb, times


def _refine_hop(emb: torch.Tensor, times: torch.Tensor, max_hop_s: float) -> tuple[torch.Tensor, torch.Tensor]:
    hop = float(times[1] - times[0])
    factor = math.ceil(hop / max_hop_s - 1e-4)  # float32 times: 0.1000001 s is a 100 ms hop
    if factor <= 1:
        return emb, times
    n_new = (len(times) - 1) * factor + 1
    emb = F.interpolate(emb.transpose(1, 2), size=n_new, mode="linear", align_corners=True).transpose(1, 2)
    new_times = times[0] + torch.arange(n_new, dtype=torch.float64) * (hop / factor)
    return emb, new_times
