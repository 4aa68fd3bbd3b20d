"""The frozen representation: front-end + encoder + pooling, loadable from any checkpoint.

`AudioEmbedder.forward` gives one scene embedding per clip (mean + max over time of the
frame features, as PANNs pool); `frames` gives timestamped frame embeddings for the HEAR
API. Every method trains its encoder inside an `AudioEmbedder`, so what is evaluated is
exactly what was trained.
"""

from __future__ import annotations

import torch
from torch import nn

from audiorep.errors import CheckpointError
from audiorep.frontend.log_mel import LogMel


class AudioEmbedder(nn.Module):
    def __init__(self, frontend: LogMel, encoder: nn.Module):
        super().__init__()
        self.frontend = frontend
        self.encoder = encoder

    @property
    def sample_rate(self) -> int:
        return self.frontend.sample_rate

    @property
    def embedding_size(self) -> int:
        return self.encoder.out_dim

    @property
    def frame_hop_s(self) -> float:
        return self.frontend.hop_seconds * self.encoder.time_stride

    def frame_features(self, wave: torch.Tensor) -> torch.Tensor:
        """Waveform [B, T] -> frame features [B, D, T']."""
        return self.encoder(self.frontend(wave))

    @staticmethod
    def pool(features: torch.Tensor) -> torch.Tensor:
        return features.mean(dim=-1) + features.amax(dim=-1)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return self.pool(self.frame_features(wave))

    def frames(self, wave: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Waveform [B, T] -> (frame embeddings [B, T', D], frame centre times in seconds [T'])."""
        feats = self.frame_features(wave).transpose(1, 2)
        n = feats.shape[1]
        hop = self.frame_hop_s
        # Frame i of the log-mel is centred at i*hop_mel; a stride-s stage averages s of
        # them, so output frame j covers mel frames [j*s, j*s + s) and is centred halfway.
        stride_s = self.frontend.hop_seconds
        times = torch.arange(n, device=feats.device, dtype=torch.float32) * hop + (self.encoder.time_stride - 1) / 2 * stride_s
        return feats, times


def build_embedder(cfg) -> AudioEmbedder:
    """An `AudioEmbedder` at random initialisation from a `Config` (see audiorep.config)."""
    from audiorep.builders import build_encoder, build_frontend

    return AudioEmbedder(build_frontend(cfg), build_encoder(cfg))


def load_embedder(checkpoint_path, device: str | torch.device = "cpu") -> AudioEmbedder:
    """The trained embedder from an audiorep checkpoint, in eval mode on `device`."""
    from audiorep.config import config_from_dict
    from audiorep.train.checkpoint import load_checkpoint

    state = load_checkpoint(checkpoint_path)
    if "config" not in state or "embedder" not in state:
        raise CheckpointError(f"{checkpoint_path}: not an audiorep checkpoint (no config/embedder entries)")
    embedder = build_embedder(config_from_dict(state["config"]))
    missing, unexpected = embedder.load_state_dict(state["embedder"], strict=False)
    if missing or unexpected:
        raise CheckpointError(f"{checkpoint_path}: weights do not match the encoder in its config "
                              f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    return embedder.to(device).eval()


def random_init_embedder(encoder_name: str = "cnn", seed: int = 0, cfg=None) -> AudioEmbedder:
    """The same architecture at random initialisation: the floor every method must beat."""
    from audiorep.config import Config, EncoderConfig

    cfg = cfg or Config(encoder=EncoderConfig(name=encoder_name))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return build_embedder(cfg).eval()


def random_init_like(checkpoint_path, seed: int = 0) -> AudioEmbedder:
    """The architecture of a checkpoint at random initialisation (its config, fresh weights)."""
    from audiorep.config import config_from_dict
    from audiorep.train.checkpoint import load_checkpoint

    state = load_checkpoint(checkpoint_path)
    if "config" not in state:
        raise CheckpointError(f"{checkpoint_path}: not an audiorep checkpoint (no config entry)")
    return random_init_embedder(cfg=config_from_dict(state["config"]), seed=seed)
