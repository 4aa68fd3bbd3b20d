"""Pitch shift and time stretch in one phase-vocoder pass, and the op that fuses the two.

A pitch shift followed by a time stretch costs two analyses, two rescalings and two
syntheses when run as two ops. `shift_pitch_and_time` rescales frequency and time in one
pass (`phase_vocoder.rescale`), and `PitchTimeShift` is what `build_chain` puts in place of
a `pitch_shift` entry directly followed by a `time_stretch` entry: the same parameters, drawn
in the same order from the generator, each with its own probability per example.
"""

from __future__ import annotations

import torch
from torch import nn

from audiorep.augment.base import cache_chunks, signal_power
from audiorep.augment.phase_vocoder import analysis, rescale, synthesis
from audiorep.augment.random_draws import apply_mask


def check_n_fft(n_fft: int) -> int:
    """The vocoder's FFT size: a power of two, at least 16."""
    if n_fft < 16 or n_fft & (n_fft - 1):
        raise ValueError(f"n_fft must be a power of two >= 16, got {n_fft}")
    return int(n_fft)


def shift_pitch_and_time(
    x: torch.Tensor,
    semitones: torch.Tensor | None,
    rate: torch.Tensor | None,
    n_fft: int = 1024,
    hop: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Shift each example of `x` [B, T] by `semitones` [B] and play it `rate` [B] times faster.

    `None` leaves pitch (or tempo) alone. Returns ([B, T_max], zero past each example's end,
    and lengths [B] = round(T / rate)). Pitch-shifted examples keep the input's RMS level:
    the vocoder changes level a little as spectral lobes widen or narrow with the factor.
    """
    hop = hop or n_fft // 4
    length = x.shape[-1]
    factor = None if semitones is None else torch.pow(2.0, torch.as_tensor(semitones, dtype=torch.float32) / 12.0)
    if rate is None:
        lengths = torch.full((x.shape[0],), length, dtype=torch.long)
    else:
        rate = torch.as_tensor(rate, dtype=torch.float32)
        lengths = torch.round(length / rate.double()).long()
    total = int(lengths.max())
    y = torch.empty(x.shape[0], total, device=x.device, dtype=torch.float32)
    for rows in cache_chunks(x.shape[0], x.device):
        part = lambda v: None if v is None else v[rows]  # noqa: E731
        magnitude, phase = rescale(*analysis(x[rows], n_fft, hop), part(rate), part(factor), hop, n_fft)
        y[rows] = synthesis(magnitude, phase, n_fft, hop, total)
    lengths = lengths.to(x.device)
    if rate is not None:
        y = y * (torch.arange(total, device=x.device)[None, :] < lengths[:, None])
    if factor is not None:
        # mean square over each example's own length, matched to the input's
        power = y.square().sum(-1, keepdim=True) / lengths[:, None].clamp(min=1)
        gain = (signal_power(x) / power.clamp_min(1e-12)).sqrt()
        y = y * torch.where((factor != 1).to(x.device)[:, None], gain, torch.ones_like(gain))
    return y.to(x.dtype), lengths


def fit_length(y: torch.Tensor, lengths: torch.Tensor, length: int, pad: str) -> torch.Tensor:
    """Cut or extend stretched examples `y` [B, T'] (valid up to `lengths`) to `length` samples:
    zeros past a sped-up example's end (`pad="zero"`), or the example looped (`pad="wrap"`)."""
    if y.shape[-1] < length:
        y = torch.nn.functional.pad(y, (0, length - y.shape[-1]))
    if pad == "wrap":
        lengths = lengths.to(y.device).clamp(min=1)
        index = torch.arange(length, device=y.device)[None, :] % lengths[:, None]
        return y.gather(1, index)
    return y[:, :length]


class PitchTimeShift(nn.Module):
    """A `PitchShift` then a `TimeStretch`, run as one vocoder pass.

    Each keeps its probability: an example drawn for neither passes through untouched, one
    drawn for only one of them gets a factor of 1 on the other axis.
    """

    def __init__(self, pitch: nn.Module, stretch: nn.Module):
        super().__init__()
        if (pitch.n_fft, pitch.hop) != (stretch.n_fft, stretch.hop):
            raise ValueError("pitch_shift and time_stretch fuse only with the same n_fft and hop")
        self.pitch, self.stretch = pitch, stretch

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        self.pitch.check_input(x)
        batch = x.shape[0]
        # the draws of the two ops run one after the other, in this order
        pitched = apply_mask(batch, self.pitch.p, generator)
        semitones = torch.zeros(batch, dtype=torch.float64)
        semitones[pitched] = self.pitch.draw(int(pitched.sum()), generator)
        stretched = apply_mask(batch, self.stretch.p, generator)
        rate = torch.ones(batch, dtype=torch.float64)
        rate[stretched] = self.stretch.draw(int(stretched.sum()), generator)
        chosen = pitched | stretched
        if not bool(chosen.any()):
            return x
        index = chosen.nonzero().squeeze(1)
        y, lengths = shift_pitch_and_time(
            x[index.to(x.device)],
            semitones[index] if bool(pitched.any()) else None,
            rate[index] if bool(stretched.any()) else None,
            self.pitch.n_fft,
            self.pitch.hop,
        )
        y = fit_length(y, lengths, x.shape[-1], self.stretch.pad)
        if bool(chosen.all()):
            return y
        out = x.clone()
        out[index.to(x.device)] = y
        return out
