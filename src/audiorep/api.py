"""The Python API for users: load a model, embed a waveform, a file or a folder.

    import audiorep.api as ar
    model = ar.load("runs/simclr/checkpoint.pt")    # or "logmel" / "random" baselines
    v = ar.embed_file(model, "dog.wav")             # np.ndarray [D]
    paths, X = ar.embed_folder(model, "clips/")     # [N, D], one row per file (sorted paths)
    frames, times_s = ar.embed_frames(model, wave, sample_rate=44100)

Audio is resampled to the model's rate; long audio is embedded in chunks (bounded memory).
"""

from __future__ import annotations

import os

import numpy as np
import soxr
import torch

from audiorep.builders import BASELINES, build_baseline, load_embedder
from audiorep.errors import ConfigError
from audiorep.eval.chunked_embedding import frame_embeddings, scene_embeddings
from audiorep.eval.embedding_cache import embed_files, load_clip
from audiorep.models.concat_embedder import ConcatEmbedder


def load(model: str | os.PathLike = "logmel", device: str | torch.device = "cpu") -> torch.nn.Module:
    """An embedder in eval mode: a checkpoint path, or a baseline name ('logmel', 'random').
    `A.pt+B.pt` joins models into one (`ConcatEmbedder`: e.g. contrastive + generative)."""
    spec = os.fspath(model)
    if "+" in spec and not os.path.exists(spec):
        return ConcatEmbedder([load(part, device) for part in spec.split("+")]).to(device).eval()
    embedder = build_baseline(spec) if spec in BASELINES else load_embedder(spec, device=device)
    return embedder.to(device).eval()


def _model_device(model) -> torch.device:
    tensor = next(model.parameters(), None)
    if tensor is None:
        tensor = next(model.buffers(), None)
    return tensor.device if tensor is not None else torch.device("cpu")


def _prepare(model, wave, sample_rate: int | None) -> tuple[torch.Tensor, bool]:
    """Waveform [T] or [B, T] (numpy or torch) -> float32 [B, T] at the model's rate on its device."""
    single = np.ndim(wave) == 1
    if isinstance(wave, torch.Tensor):
        wave = wave.detach().cpu().numpy()
    wave = np.atleast_2d(np.asarray(wave, dtype=np.float32))
    if wave.ndim != 2:
        raise ConfigError(f"a waveform must be [T] or [B, T], got shape {wave.shape}")
    if sample_rate is not None and sample_rate != model.sample_rate:
        wave = np.stack([soxr.resample(w, sample_rate, model.sample_rate) for w in wave]).astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(wave)).to(_model_device(model)), single


@torch.no_grad()
def embed_waveform(model, wave, sample_rate: int | None = None, chunk_seconds: float = 10.0) -> np.ndarray:
    """Scene embedding: [T] -> [D], or [B, T] -> [B, D]. `sample_rate` defaults to the model's."""
    batch, single = _prepare(model, wave, sample_rate)
    out = scene_embeddings(model, batch, chunk_seconds).cpu().numpy()
    return out[0] if single else out


@torch.no_grad()
def embed_frames(model, wave, sample_rate: int | None = None, chunk_seconds: float = 10.0,
                 max_hop_s: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Frame embeddings: [T] -> ([T', D], times_s [T']) or [B, T] -> ([B, T', D], times_s [T'])."""
    batch, single = _prepare(model, wave, sample_rate)
    emb, times = frame_embeddings(model, batch, chunk_seconds, max_hop_s=max_hop_s)
    emb = emb.cpu().numpy()
    return (emb[0] if single else emb), times.numpy()


def embed_file(model, path, clip_seconds: float | None = None, chunk_seconds: float = 10.0) -> np.ndarray:
    """Scene embedding [D] of one audio file (the first `clip_seconds` when given)."""
    return embed_waveform(model, load_clip(os.fspath(path), model.sample_rate, clip_seconds), chunk_seconds=chunk_seconds)


def embed_folder(model, folder, clip_seconds: float | None = None, batch_size: int = 32, progress: bool = True,
                 chunk_seconds: float = 10.0) -> tuple[list[str], np.ndarray]:
    """Every audio file under `folder` (recursive, sorted) -> (paths, embeddings [N, D])."""
    from audiorep.data.sources import FolderSource

    paths = [r.path for r in FolderSource(folder).records]
    if not paths:
        raise ConfigError(f"no audio files found under {os.fspath(folder)}")
    emb = embed_files(model, paths, clip_seconds, batch_size, _model_device(model), chunk_seconds, progress)
    return paths, emb
