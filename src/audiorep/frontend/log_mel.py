"""Batched log-mel spectrogram in plain torch, on whatever device the batch is on.

The mel filterbank follows the Slaney-style definition used by librosa (`htk=False`,
`norm="slaney"`) or the HTK mel scale (`htk=True`); tests compare it with a reference
implementation to numerical precision.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def hz_to_mel(freq, htk: bool = False):
    freq = torch.as_tensor(freq, dtype=torch.float64)
    if htk:
        return 2595.0 * torch.log10(1.0 + freq / 700.0)
    f_sp = 200.0 / 3
    mels = freq / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    return torch.where(
        freq >= min_log_hz,
        min_log_mel + torch.log(torch.clamp(freq, min=1e-10) / min_log_hz) / logstep,
        mels,
    )


def mel_to_hz(mels, htk: bool = False):
    mels = torch.as_tensor(mels, dtype=torch.float64)
    if htk:
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    f_sp = 200.0 / 3
    freqs = f_sp * mels
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    return torch.where(mels >= min_log_mel, min_log_hz * torch.exp(logstep * (mels - min_log_mel)), freqs)


def mel_filterbank(
    sample_rate: int,
    n_fft: int,
    n_mels: int,
    f_min: float = 0.0,
    f_max: float | None = None,
    htk: bool = False,
    norm: str | None = "slaney",
) -> torch.Tensor:
    """Triangular mel filters, shape [n_mels, n_fft // 2 + 1], float64."""
    f_max = sample_rate / 2 if f_max is None else f_max
    fft_freqs = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1, dtype=torch.float64)
    mel_pts = torch.linspace(float(hz_to_mel(f_min, htk)), float(hz_to_mel(f_max, htk)), n_mels + 2, dtype=torch.float64)
    hz_pts = mel_to_hz(mel_pts, htk)
    fdiff = hz_pts[1:] - hz_pts[:-1]
    ramps = hz_pts[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = torch.clamp(torch.minimum(lower, upper), min=0.0)
    if norm == "slaney":
        enorm = 2.0 / (hz_pts[2 : n_mels + 2] - hz_pts[:n_mels])
        weights = weights * enorm[:, None]
    elif norm is not None:
        raise ValueError(f"mel norm must be 'slaney' or None, got {norm!r}")
    return weights


class LogMel(nn.Module):
    """Waveform [B, T] -> log-mel [B, n_mels, frames]; frames = 1 + T // hop (centred frames)."""

    produces = "spectrogram"  # what an encoder after it must read (`reads`)

    def __init__(
        self,
        sample_rate: int = 16000,
        n_mels: int = 64,
        win_ms: float = 25.0,
        hop_ms: float = 10.0,
        f_min: float = 60.0,
        f_max: float | None = 7800.0,
        n_fft: int | None = None,
        htk: bool = False,
        log_offset: float = 1e-6,
    ):
        super().__init__()
        self.sample_rate = sample_rate
        self.n_mels = n_mels
        self.win_length = int(round(sample_rate * win_ms / 1000))
        self.hop_length = int(round(sample_rate * hop_ms / 1000))
        self.n_fft = n_fft or 1 << (self.win_length - 1).bit_length()
        if self.n_fft < self.win_length:
            raise ValueError(f"n_fft={self.n_fft} is shorter than the window ({self.win_length} samples)")
        self.log_offset = log_offset
        fb = mel_filterbank(sample_rate, self.n_fft, n_mels, f_min, f_max, htk=htk)
        self.register_buffer("filterbank", fb.to(torch.float32), persistent=False)
        self.register_buffer("window", torch.hann_window(self.win_length, periodic=True), persistent=False)

    @property
    def hop_seconds(self) -> float:
        return self.hop_length / self.sample_rate

    @property
    def n_features(self) -> int:
        return self.n_mels

    def extra_repr(self) -> str:
        """Every setting that changes the output (the band edges live in the filterbank buffer)."""
        return (f"sample_rate={self.sample_rate}, n_mels={self.n_mels}, n_fft={self.n_fft}, "
                f"win_length={self.win_length}, hop_length={self.hop_length}, log_offset={self.log_offset}")

    def power_spectrogram(self, wave: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(
            wave.float(),
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
            window=self.window,
            center=True,
            pad_mode="reflect" if wave.shape[-1] > self.n_fft // 2 else "constant",
            return_complex=True,
        )
        return spec.real.square() + spec.imag.square()

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        squeeze = wave.dim() == 1
        if squeeze:
            wave = wave[None]
        with torch.autocast(device_type=wave.device.type, enabled=False):
            power = self.power_spectrogram(wave)
            mel = torch.matmul(self.filterbank, power)
            out = torch.log(mel + self.log_offset)
        return out[0] if squeeze else out
