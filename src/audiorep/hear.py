"""The HEAR benchmark API (https://hearbenchmark.com/hear-api.html) for any audiorep model.

    model = load_model("checkpoint.pt")           # or "" / "logmel" / "random" for baselines
    scene = get_scene_embeddings(audio, model)    # audio [n, samples] at model.sample_rate -> [n, D]
    emb, ts = get_timestamp_embeddings(audio, model)  # [n, frames, D], frame centres in ms [n, frames]

Outputs are float32 torch tensors on the model's device. Timestamps are frame centres in
milliseconds on a regular grid with a hop of at most 50 ms (a coarser model's frames are
linearly interpolated). Audio of any length >= 0.1 s works; long audio is processed in
chunks of `chunk_seconds` and the batch in groups of `batch_size`, so memory stays bounded.

Input: HEAR passes float32 in [-1, 1]. Other float dtypes (float64, float16, bfloat16) are
accepted and cast to float32 (after the checks, on the original values); integer, bool and
complex tensors raise ValueError (int16 PCM must be scaled to [-1, 1] by the caller: audiorep
cannot know its full scale). Each row follows `audiorep.io.audio`'s sample policy: any NaN/inf
sample, or a peak |amplitude| over `MAX_ABS_AMPLITUDE` (100, 40 dB above full scale), raises a
ValueError naming the row ("HEAR audio row 3 holds 1 NaN sample ..."). An empty batch
``[0, n_samples]`` gives empty outputs: ``[0, D]``, and ``[0, T', D]`` with timestamps
``[0, T']`` where T' is the frame count of `n_samples`.
"""

from __future__ import annotations

import torch
from torch import nn

from audiorep.errors import ConfigError
from audiorep.eval.chunked_embedding import frame_embeddings, scene_embeddings
from audiorep.io.audio import MAX_ABS_AMPLITUDE, unusable_samples_cause

MAX_HOP_S = 0.05
MIN_SECONDS = 0.1


class HearModel(nn.Module):
    """An audiorep embedder with the attributes HEAR asks for."""

    def __init__(self, embedder: nn.Module, chunk_seconds: float = 10.0, batch_size: int = 16):
        super().__init__()
        self.embedder = embedder.eval()
        self.sample_rate = int(embedder.sample_rate)
        self.scene_embedding_size = int(embedder.embedding_size)
        self.timestamp_embedding_size = int(getattr(embedder, "frame_embedding_size", embedder.embedding_size))
        self.chunk_seconds = chunk_seconds
        self.batch_size = batch_size

    @property
    def device(self) -> torch.device:
        tensor = next(self.embedder.parameters(), None)
        if tensor is None:
            tensor = next(self.embedder.buffers(), None)
        return tensor.device if tensor is not None else torch.device("cpu")


def load_model(model_file_path: str = "", device: str | torch.device = "cpu") -> HearModel:
    """Any audiorep checkpoint; '' or 'logmel' gives the log-mel baseline, 'random' a random-init encoder."""
    from audiorep.api import load

    return HearModel(load(model_file_path or "logmel", device=device))


def _check_audio(audio: torch.Tensor, model: HearModel) -> torch.Tensor:
    if not isinstance(audio, torch.Tensor) or audio.dim() != 2:
        shape = tuple(audio.shape) if hasattr(audio, "shape") else type(audio).__name__
        raise ConfigError(f"HEAR audio must be a torch tensor [n_sounds, n_samples], got {shape}")
    if not audio.dtype.is_floating_point:
        raise ValueError(f"HEAR audio must be float32 in [-1, 1], got dtype {audio.dtype}"
                         + (" (scale integer PCM to [-1, 1] first, e.g. int16 / 32768)"
                            if audio.dtype not in (torch.bool, torch.complex64, torch.complex128) else ""))
    if audio.shape[1] < MIN_SECONDS * model.sample_rate - 1e-6:
        raise ConfigError(
            f"HEAR audio has {audio.shape[1]} samples ({audio.shape[1] / model.sample_rate:.3f} s); "
            f"at least {MIN_SECONDS} s at {model.sample_rate} Hz is needed"
        )
    if audio.numel():
        # one reduction per row on the input's device; NaN propagates through amax/amin
        peak = torch.maximum(audio.amax(1), -audio.amin(1))
        bad = ~(peak <= MAX_ABS_AMPLITUDE)
        if bad.any():
            row = int(bad.nonzero()[0, 0])
            cause = unusable_samples_cause(audio[row].detach().cpu().float().numpy()
                                           if audio.dtype == torch.bfloat16 else audio[row].detach().cpu().numpy())
            raise ValueError(f"HEAR audio row {row} {cause} (HEAR audio is float in [-1, 1]; "
                             f"{int(bad.sum())} of {audio.shape[0]} rows break this)")
    return audio.to(model.device, torch.float32)


@torch.no_grad()
def get_scene_embeddings(audio: torch.Tensor, model: HearModel) -> torch.Tensor:
    """[n_sounds, n_samples] -> [n_sounds, scene_embedding_size] float32."""
    audio = _check_audio(audio, model)
    if audio.shape[0] == 0:
        return torch.zeros(0, model.scene_embedding_size, device=model.device)
    parts = [scene_embeddings(model.embedder, audio[i : i + model.batch_size], model.chunk_seconds)
             for i in range(0, audio.shape[0], model.batch_size)]
    return torch.cat(parts).to(model.device, torch.float32)


@torch.no_grad()
def get_timestamp_embeddings(audio: torch.Tensor, model: HearModel) -> tuple[torch.Tensor, torch.Tensor]:
    """[n_sounds, n_samples] -> (embeddings [n_sounds, n_frames, D] float32, timestamps_ms [n_sounds, n_frames])."""
    audio = _check_audio(audio, model)
    if audio.shape[0] == 0:  # the frame grid of one silent row of this length, and no row
        emb, times_s = frame_embeddings(model.embedder, audio.new_zeros(1, audio.shape[1]), model.chunk_seconds,
                                        max_hop_s=MAX_HOP_S)
        timestamps = (times_s * 1000.0).to(torch.float32).to(model.device)
        return emb[:0].to(model.device, torch.float32), timestamps.unsqueeze(0)[:0].contiguous()
    embs, times_s = [], None
    for i in range(0, audio.shape[0], model.batch_size):
        emb, times_s = frame_embeddings(model.embedder, audio[i : i + model.batch_size], model.chunk_seconds,
                                        max_hop_s=MAX_HOP_S)
        embs.append(emb)
    emb = torch.cat(embs).to(model.device, torch.float32)
    timestamps = (times_s * 1000.0).to(torch.float32).to(model.device)
    return emb, timestamps.unsqueeze(0).expand(emb.shape[0], -1).contiguous()
