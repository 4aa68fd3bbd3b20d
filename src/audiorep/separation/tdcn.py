"""A TDCN++-style masking separator (time-domain convolutional network, improved).

    wave -> learned analysis filterbank -> bottleneck -> R repeats of X dilated separable
    conv blocks (global layer norm, learnable residual scales, skip paths, and dense
    connections from each block to the same block of the next repeat) -> one sigmoid mask per
    output channel -> shared learned synthesis filterbank -> mixture-consistency projection.

The input is normalised to unit RMS before the network and the output is scaled back, so the
separator behaves the same on loud and quiet clips.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from audiorep.config import check
from audiorep.separation.mixture_consistency import mixture_consistency


@dataclass
class TDCNConfig:
    num_channels: int = 8  # M output channels (4 and 8 are typical)
    sample_rate: int = 8000
    num_filters: int = 256  # analysis/synthesis filterbank size
    kernel_size: int = 32  # filterbank window, samples (stride = kernel_size // 2)
    bottleneck: int = 64
    hidden: int = 128
    blocks_per_repeat: int = 6  # dilations 1, 2, ..., 2^(X-1)
    repeats: int = 2
    conv_kernel: int = 3
    consistency: str = "uniform"  # "uniform", "power" or "none"

    def validate(self, key="model"):
        check(self.num_channels >= 2, f"{key}.num_channels", self.num_channels, "an integer >= 2")
        check(self.sample_rate >= 1000, f"{key}.sample_rate", self.sample_rate, "a rate in Hz >= 1000")
        check(self.kernel_size >= 2 and self.kernel_size % 2 == 0, f"{key}.kernel_size", self.kernel_size,
              "an even number of samples (the hop is half of it)")
        check(self.consistency in ("uniform", "power", "none"), f"{key}.consistency", self.consistency,
              "one of uniform, power, none")


def _global_norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(1, channels, eps=1e-8)


class SeparableBlock(nn.Module):
    """1x1 expand -> PReLU/norm -> dilated depthwise conv -> PReLU/norm -> 1x1 to residual and skip."""

    def __init__(self, bottleneck: int, hidden: int, kernel: int, dilation: int):
        super().__init__()
        self.expand = nn.Conv1d(bottleneck, hidden, 1)
        self.act1, self.norm1 = nn.PReLU(), _global_norm(hidden)
        self.depthwise = nn.Conv1d(hidden, hidden, kernel, dilation=dilation, padding=dilation * (kernel - 1) // 2, groups=hidden)
        self.act2, self.norm2 = nn.PReLU(), _global_norm(hidden)
        self.residual = nn.Conv1d(hidden, bottleneck, 1)
        self.skip = nn.Conv1d(hidden, bottleneck, 1)
        self.residual_scale = nn.Parameter(torch.tensor(0.5))  # TDCN++: learnable scale, small at init

    def drop_residual(self) -> None:
        """The last block's residual output feeds nothing: without it every parameter gets a
        gradient (DDP requires that)."""
        del self.residual, self.residual_scale
        self.residual = self.residual_scale = None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.norm1(self.act1(self.expand(x)))
        h = self.norm2(self.act2(self.depthwise(h)))
        residual = x if self.residual is None else x + self.residual_scale * self.residual(h)
        return residual, self.skip(h)


class TDCNSeparator(nn.Module):
    """forward(mixture [B,T]) -> channels [B,M,T] that sum to the mixture (unless consistency='none')."""

    def __init__(self, config: TDCNConfig | None = None, **overrides):
        super().__init__()
        cfg = config or TDCNConfig()
        if overrides:
            cfg = TDCNConfig(**{**asdict(cfg), **overrides})
        cfg.validate("TDCNConfig")
        self.config = cfg
        self.num_channels, self.sample_rate = cfg.num_channels, cfg.sample_rate
        self.stride = cfg.kernel_size // 2
        self.analysis = nn.Conv1d(1, cfg.num_filters, cfg.kernel_size, stride=self.stride, bias=False)
        self.input_norm = _global_norm(cfg.num_filters)
        self.bottleneck = nn.Conv1d(cfg.num_filters, cfg.bottleneck, 1)
        self.blocks = nn.ModuleList(
            SeparableBlock(cfg.bottleneck, cfg.hidden, cfg.conv_kernel, 2**x)
            for _ in range(cfg.repeats)
            for x in range(cfg.blocks_per_repeat)
        )
        # dense connection: block x of repeat r also receives block x's input of repeat r-1
        self.repeat_links = nn.ModuleList(
            nn.Conv1d(cfg.bottleneck, cfg.bottleneck, 1) for _ in range((cfg.repeats - 1) * cfg.blocks_per_repeat)
        )
        self.mask_head = nn.Sequential(nn.PReLU(), nn.Conv1d(cfg.bottleneck, cfg.num_channels * cfg.num_filters, 1))
        self.synthesis = nn.ConvTranspose1d(cfg.num_filters, 1, cfg.kernel_size, stride=self.stride, bias=False)
        # built and then dropped, so the other weights draw the same initial values as before
        self.blocks[-1].drop_residual()
        self._register_load_state_dict_pre_hook(self._skip_unused_residual)

    def _skip_unused_residual(self, state_dict, prefix, *args) -> None:
        """Checkpoints written before `drop_residual` hold the last block's unused residual weights."""
        last = f"{prefix}blocks.{len(self.blocks) - 1}."
        for key in [k for k in state_dict if k.startswith(last + "residual")]:
            del state_dict[key]

    def forward(self, mixture: torch.Tensor) -> torch.Tensor:
        if mixture.dim() != 2:
            raise ValueError(f"TDCNSeparator expects a [B,T] mixture, got shape {tuple(mixture.shape)}")
        batch, length = mixture.shape
        scale = mixture.pow(2).mean(-1, keepdim=True).sqrt().clamp_min(1e-5)
        x = mixture / scale
        # pad one hop on each side and up to a whole number of hops: every sample is seen by 2 windows
        extra = (-length) % self.stride
        x = nn.functional.pad(x, (self.stride, self.stride + extra)).unsqueeze(1)
        basis = torch.relu(self.analysis(x))  # [B,N,F]
        h = self.bottleneck(self.input_norm(basis))
        skips = 0.0
        x_blocks = self.config.blocks_per_repeat
        previous_inputs: list[torch.Tensor] = []
        for i, block in enumerate(self.blocks):
            if i >= x_blocks:
                h = h + self.repeat_links[i - x_blocks](previous_inputs[i - x_blocks])
            previous_inputs.append(h)
            h, skip = block(h)
            skips = skips + skip
        masks = torch.sigmoid(self.mask_head(skips))  # [B, M*N, F]
        frames = basis.shape[-1]
        masked = masks.view(batch, self.num_channels, -1, frames) * basis.unsqueeze(1)
        waves = self.synthesis(masked.reshape(batch * self.num_channels, -1, frames))
        waves = waves.view(batch, self.num_channels, -1)[..., self.stride : self.stride + length] * scale.unsqueeze(1)
        if self.config.consistency != "none":
            waves = mixture_consistency(waves, mixture, self.config.consistency)
        return waves

    def separate_long(self, audio: torch.Tensor, chunk_seconds: float = 10.0,
                      overlap_seconds: float | None = None) -> torch.Tensor:
        """Separate a long [T] or [B,T] signal in overlapping, cross-faded chunks whose channels
        are aligned to the previous chunk's (`audiorep.separation.chunked`; bounded working
        memory, and the channels still sum to the input)."""
        from audiorep.separation.chunked import separate_array

        single = audio.dim() == 1
        rows = audio.unsqueeze(0) if single else audio
        out = torch.stack([torch.from_numpy(separate_array(self, row, chunk_seconds, overlap_seconds))
                           for row in rows]).to(audio.device)
        return out[0] if single else out


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
