import math

import torch

SR = 16000


def tone(freq_hz: float, seconds: float = 1.0, sample_rate: int = SR, batch: int = 1) -> torch.Tensor:
    t = torch.arange(int(seconds * sample_rate), dtype=torch.float64) / sample_rate
    return torch.sin(2 * math.pi * freq_hz * t).float().expand(batch, -1).clone()


def peak_frequency(x: torch.Tensor, sample_rate: int = SR) -> torch.Tensor:
    """Frequency of the spectral peak per example, refined by parabolic interpolation on log magnitude."""
    n = x.shape[-1]
    window = torch.hann_window(n, periodic=False, dtype=torch.float64)
    mag = torch.fft.rfft(x.double() * window, n=8 * n).abs().clamp_min(1e-20).log()
    k = mag.argmax(-1)
    a, b, c = (mag.gather(-1, (k + d)[:, None]).squeeze(-1) for d in (-1, 0, 1))
    offset = 0.5 * (a - c) / (a - 2 * b + c)
    return (k + offset) * sample_rate / (8 * n)


def band_energy(x: torch.Tensor, lo: float, hi: float, sample_rate: int = SR) -> torch.Tensor:
    spec = torch.fft.rfft(x.double()).abs().square()
    freqs = torch.fft.rfftfreq(x.shape[-1], 1 / sample_rate)
    return spec[:, (freqs >= lo) & (freqs < hi)].sum(-1)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def speech_like_batch() -> torch.Tensor:
    """A small batch of harmonic, amplitude-modulated signals with some noise."""
    g = gen(123)
    t = torch.arange(SR) / SR
    f0 = 100 + 200 * torch.rand(4, 1, generator=g)
    harmonics = sum(torch.sin(2 * math.pi * k * f0 * t) / k for k in range(1, 6))
    envelope = 0.5 + 0.5 * torch.sin(2 * math.pi * 3 * t)
    return (harmonics * envelope + 0.01 * torch.randn(4, SR, generator=g)).float()
