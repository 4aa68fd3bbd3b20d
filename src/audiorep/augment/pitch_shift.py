"""Pitch shift by a per-example number of semitones, keeping length and tempo."""

from __future__ import annotations

import torch

from audiorep.augment.base import BatchAugmentation
from audiorep.augment.pitch_time import check_n_fft, shift_pitch_and_time
from audiorep.augment.random_draws import as_range, uniform


def pitch_shift(x: torch.Tensor, semitones: torch.Tensor, n_fft: int = 1024, hop: int | None = None) -> torch.Tensor:
    """Shift each example of `x` [B, T] by `semitones` [B]; output [B, T] at the input's RMS level.

    Frequency-domain phase vocoder: every partial at f moves to f * 2^(s/12). Content that
    would land above Nyquist is dropped rather than aliased.
    """
    return shift_pitch_and_time(x, semitones, None, n_fft, hop)[0]


class PitchShift(BatchAugmentation):
    """Shift pitch by s semitones, s uniform in `semitones` = [low, high], per example."""

    def __init__(self, semitones=(-4.0, 4.0), n_fft: int = 1024, hop: int | None = None, p: float = 1.0):
        super().__init__(p)
        self.semitones = as_range(semitones, "semitones")
        self.n_fft, self.hop = check_n_fft(n_fft), hop

    def draw(self, n: int, generator) -> torch.Tensor:
        return uniform(n, self.semitones, generator)

    def transform(self, x, generator):
        return pitch_shift(x, self.draw(x.shape[0], generator), self.n_fft, self.hop)

    def extra_repr(self) -> str:
        return f"semitones={list(self.semitones)}, n_fft={self.n_fft}, p={self.p}"
