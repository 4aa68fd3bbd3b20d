"""Small synthetic scenes with known sources for separation tests: each source is a tone
or a band of noise with its own on/off envelope, so sources differ in time and frequency."""

import math

import pytest
import torch


def toy_scenes(n: int, num_sources: int = 2, length: int = 2000, sample_rate: int = 8000, seed: int = 0):
    """(mixtures [n,T], sources [n,K,T])."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(length) / sample_rate
    freq = 200 + 1800 * torch.rand(n, num_sources, 1, generator=g)
    tones = torch.sin(2 * math.pi * freq * t + 6.28 * torch.rand(n, num_sources, 1, generator=g))
    noise = torch.randn(n, num_sources, length, generator=g)
    is_tone = torch.rand(n, num_sources, 1, generator=g) < 0.6
    start = torch.rand(n, num_sources, 1, generator=g) * 0.5 * length
    stop = start + (0.3 + 0.5 * torch.rand(n, num_sources, 1, generator=g)) * length
    idx = torch.arange(length)
    envelope = ((idx >= start) & (idx < stop)).float()
    gain = 10 ** (-torch.rand(n, num_sources, 1, generator=g) * 0.5)
    sources = torch.where(is_tone, tones, 0.5 * noise) * envelope * gain * 0.3
    return sources.sum(1), sources


@pytest.fixture(name="toy_scenes")
def _toy_scenes_fixture():
    return toy_scenes


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models on a shared CPU: more threads only add contention."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
