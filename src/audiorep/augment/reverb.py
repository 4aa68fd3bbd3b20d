"""Reverberation: convolution with synthetic room impulse responses, via FFT.

A synthetic RIR is a direct path plus a tail of Gaussian noise whose envelope decays by
60 dB in RT60 seconds (the statistical model of late reverberation). Per example: RT60
drawn from `rt60`, direct-to-reverberant energy ratio from `drr_db`, and a `pre_delay`
(seconds) between the direct sound and the tail.
"""

from __future__ import annotations

import math

import scipy.fft
import torch

from audiorep.augment.base import BatchAugmentation, signal_power
from audiorep.augment.random_draws import as_range, uniform


def synthetic_rir(rt60: torch.Tensor, drr_db: torch.Tensor, pre_delay: torch.Tensor, length: int, sample_rate: int, generator) -> torch.Tensor:
    """[B, length] impulse responses (float32, CPU) for per-example rt60, drr_db, pre_delay [B] (seconds, dB, seconds)."""
    batch = rt60.shape[0]
    t = torch.arange(length, dtype=torch.float32)[None, :] / sample_rate
    delay = ((pre_delay[:, None] * sample_rate).round() / sample_rate).float()
    # amplitude: -60 dB at t = delay + rt60; float32 throughout (float64 noise was 3x slower, same statistics)
    decay = torch.exp((t - delay).mul_(-3.0 * math.log(10.0) / rt60[:, None].float())).mul_(t > delay)
    tail = torch.randn(batch, length, generator=generator, dtype=torch.float32).mul_(decay)
    tail = tail / tail.square().sum(1, keepdim=True).sqrt().clamp_min(1e-12)
    rir = tail.mul_(torch.pow(10.0, -drr_db / 20.0)[:, None].float())
    rir[:, 0] += 1.0
    return rir


def fft_convolve(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Causal convolution of x [B, T] with kernel [B, L], truncated to T samples."""
    length = x.shape[-1]
    n = scipy.fft.next_fast_len(length + kernel.shape[-1] - 1, real=True)
    y = torch.fft.irfft(torch.fft.rfft(x.float(), n=n) * torch.fft.rfft(kernel.float(), n=n), n=n)
    return y[:, :length]


class Reverb(BatchAugmentation):
    """Convolve with a synthetic RIR (RT60 uniform in `rt60` seconds); output at the input's RMS level."""

    def __init__(self, rt60=(0.2, 1.0), drr_db=(-6.0, 10.0), pre_delay=(0.0, 0.02), sample_rate: int = 16000, p: float = 1.0):
        super().__init__(p)
        self.rt60, self.drr_db, self.pre_delay = as_range(rt60, "rt60"), as_range(drr_db, "drr_db"), as_range(pre_delay, "pre_delay")
        if self.rt60[0] <= 0 or self.pre_delay[0] < 0:
            raise ValueError(f"rt60 must be positive and pre_delay non-negative, got rt60={list(self.rt60)}, pre_delay={list(self.pre_delay)}")
        self.sample_rate = int(sample_rate)

    def transform(self, x, generator):
        batch, length = x.shape
        rt60 = uniform(batch, self.rt60, generator)
        drr = uniform(batch, self.drr_db, generator)
        pre_delay = uniform(batch, self.pre_delay, generator)
        rir_length = min(length, int(math.ceil((float((rt60 + pre_delay).max())) * self.sample_rate)) + 1)
        rir = synthetic_rir(rt60, drr, pre_delay, rir_length, self.sample_rate, generator).to(x.device)
        y = fft_convolve(x, rir)
        return (y * (signal_power(x) / signal_power(y)).sqrt()).to(x.dtype)

    def extra_repr(self) -> str:
        return f"rt60={list(self.rt60)}, drr_db={list(self.drr_db)}, pre_delay={list(self.pre_delay)}, p={self.p}"
