"""Pitch shift by a per-example number of semitones, keeping length and tempo."""

from __future__ import annotations

import torch

from audiorep.augment.base import BatchAugmentation, signal_power
from audiorep.augment.phase_vocoder import analysis, scale_frequencies, synthesis
from audiorep.augment.random_draws import as_range, uniform


def pitch_shift(x: torch.Tensor, semitones: torch.Tensor, n_fft: int = 1024, hop: int | None = None) -> torch.Tensor:
    """Shift each example of `x` [B, T] by `semitones` [B]; output [B, T] at the input's RMS level.

    Frequency-domain phase vocoder: every partial at f moves to f * 2^(s/12). Content that
    would land above Nyquist is dropped rather than aliased.
    """
    hop = hop or n_fft // 4
    factor = torch.pow(2.0, torch.as_tensor(semitones, dtype=torch.float32) / 12.0)
    magnitude, phase = scale_frequencies(*analysis(x, n_fft, hop), factor, hop, n_fft)
    y = synthesis(magnitude, phase, n_fft, hop, x.shape[-1])
    # the vocoder changes level a little (lobes widen with the factor); keep the input's level
    return (y * (signal_power(x) / signal_power(y)).sqrt()).to(x.dtype)


class PitchShift(BatchAugmentation):
    """Shift pitch by s semitones, s uniform in `semitones` = [low, high], per example."""

    def __init__(self, semitones=(-4.0, 4.0), n_fft: int = 1024, hop: int | None = None, p: float = 1.0):
        super().__init__(p)
        self.semitones = as_range(semitones, "semitones")
        if n_fft < 16 or n_fft & (n_fft - 1):
            raise ValueError(f"n_fft must be a power of two >= 16, got {n_fft}")
        self.n_fft, self.hop = int(n_fft), hop

    def transform(self, x, generator):
        semitones = uniform(x.shape[0], self.semitones, generator)
        return pitch_shift(x, semitones, self.n_fft, self.hop)

    def extra_repr(self) -> str:
        return f"semitones={list(self.semitones)}, n_fft={self.n_fft}, p={self.p}"
