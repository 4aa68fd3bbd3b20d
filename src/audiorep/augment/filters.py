"""Timbre: random parametric EQ and low-/high-/band-pass filters, applied in the frequency domain.

A biquad is recursive, so running one per example on a batch means a Python loop over
samples. Instead each example's filter (a cascade of RBJ "Audio EQ Cookbook" biquads) is
described by its complex frequency response on the FFT grid and applied by one batched
rfft multiply. The result matches the causal IIR filter (scipy's lfilter) up to its tail
past a padding of `tail` samples, which is cut.
"""

from __future__ import annotations

import functools
import math

import scipy.fft
import torch

from audiorep.augment.base import BatchAugmentation
from audiorep.augment.random_draws import as_range, log_uniform, uniform


def filter_in_frequency_domain(x: torch.Tensor, b: torch.Tensor, a: torch.Tensor, tail: int = 2048) -> torch.Tensor:
    """Filter `x` [B, T] by cascades of biquads b, a [B, sections, 3] through one rfft multiply."""
    length = x.shape[-1]
    n = scipy.fft.next_fast_len(length + tail, real=True)
    spectrum = torch.fft.rfft(x.float(), n=n, dim=-1) * cascade_response(b, a, n).to(x.device)
    return torch.fft.irfft(spectrum, n=n, dim=-1)[:, :length].to(x.dtype)


def cascade_response(b: torch.Tensor, a: torch.Tensor, n: int, low_fraction: float = 0.125) -> torch.Tensor:
    """Frequency response of cascades of biquads b, a [B, sections, 3] on the rfft grid of size n, complex64 [B, n//2+1].

    The sections are multiplied out into one polynomial ratio, evaluated in float64. Below
    `low_fraction` of Nyquist the sections are multiplied out only in pairs and the pair
    ratios multiplied: every low-frequency biquad has its roots near z = 1, and a polynomial
    with many such roots loses all precision near DC even in float64 (with 7 EQ sections the
    whole-cascade response was off by 25-75 dB below ~400 Hz; in pairs, < 1e-6 relative).
    """
    bins = n // 2 + 1
    low = max(1, int(bins * low_fraction))
    whole = polynomial_ratio(cascade_polynomial(b), cascade_polynomial(a), n, 0, bins)
    for start in range(0, b.shape[1], 2):  # a few pairs of sections, not examples
        pair = polynomial_ratio(cascade_polynomial(b[:, start : start + 2]), cascade_polynomial(a[:, start : start + 2]), n, 0, low)
        near_dc = pair if start == 0 else near_dc * pair
    whole[:, :low] = near_dc
    return whole


def polynomial_ratio(numerator: torch.Tensor, denominator: torch.Tensor, n: int, first: int, stop: int) -> torch.Tensor:
    """numerator(z) / denominator(z) at z = e^{2 pi i k / n}, k = first..stop-1, complex64 [B, stop - first].

    Polynomials [B, P] in z^-1 (float64). Same values as rfft(p, n)[first:stop], computed as
    p @ [cos | sin] of a DFT table with exact integer phase indices (i k mod n): ~10x cheaper
    than float64 rffts the length of the signal. Sums in float64, ratio in float32 (each
    value keeps its relative precision through the cast).
    """
    order = max(numerator.shape[-1], denominator.shape[-1])
    table = dft_table(order, n, first, stop)
    pad = lambda p: torch.nn.functional.pad(p.double(), (0, order - p.shape[-1]))  # noqa: E731
    num_re, num_im = (pad(numerator) @ table).float().chunk(2, dim=-1)
    den_re, den_im = (pad(denominator) @ table).float().chunk(2, dim=-1)
    power = (den_re.square() + den_im.square()).clamp_min(1e-30)
    return torch.complex((num_re * den_re + num_im * den_im) / power, (num_im * den_re - num_re * den_im) / power)


@functools.lru_cache(maxsize=16)
def dft_table(order: int, n: int, first: int, stop: int) -> torch.Tensor:
    """[order, 2K] float64: cos | -sin of 2 pi p k / n for p < order, first <= k < stop (cached: a few MB, reused per batch)."""
    k = torch.arange(first, stop, dtype=torch.int64)
    angle = (torch.arange(order, dtype=torch.int64)[:, None] * k[None, :] % n).double() * (2 * math.pi / n)
    return torch.cat([torch.cos(angle), -torch.sin(angle)], dim=1)


def cascade_polynomial(sections: torch.Tensor) -> torch.Tensor:
    """Multiply polynomials [B, K, 3] (coefficients of z^0, z^-1, z^-2) into [B, 2K+1]."""
    product = sections[:, 0].double()
    for k in range(1, sections.shape[1]):  # a loop over a few sections, not over examples
        section = sections[:, k].double()
        out = torch.zeros(product.shape[0], product.shape[1] + 2, dtype=torch.float64)
        for i in range(3):
            out[:, i : i + product.shape[1]] += section[:, i : i + 1] * product
        product = out
    return product


def _stack(*rows):
    return torch.stack(rows, dim=-1)


def peaking(w0, gain_db, q):
    big_a = torch.pow(10.0, gain_db / 40.0)
    alpha, cos = torch.sin(w0) / (2 * q), torch.cos(w0)
    return _stack(1 + alpha * big_a, -2 * cos, 1 - alpha * big_a), _stack(1 + alpha / big_a, -2 * cos, 1 - alpha / big_a)


def shelf(w0, gain_db, q, high: bool):
    big_a = torch.pow(10.0, gain_db / 40.0)
    alpha, cos = torch.sin(w0) / (2 * q), torch.cos(w0)
    root = 2 * torch.sqrt(big_a) * alpha
    s = -1.0 if high else 1.0  # the two shelves differ by the sign of the cosine terms
    b = _stack(
        big_a * ((big_a + 1) - s * (big_a - 1) * cos + root),
        2 * s * big_a * ((big_a - 1) - s * (big_a + 1) * cos),
        big_a * ((big_a + 1) - s * (big_a - 1) * cos - root),
    )
    a = _stack((big_a + 1) + s * (big_a - 1) * cos + root, -2 * s * ((big_a - 1) + s * (big_a + 1) * cos), (big_a + 1) + s * (big_a - 1) * cos - root)
    return b, a


def lowpass(w0, q):
    alpha, cos = torch.sin(w0) / (2 * q), torch.cos(w0)
    return _stack((1 - cos) / 2, 1 - cos, (1 - cos) / 2), _stack(1 + alpha, -2 * cos, 1 - alpha)


def highpass(w0, q):
    alpha, cos = torch.sin(w0) / (2 * q), torch.cos(w0)
    return _stack((1 + cos) / 2, -(1 + cos), (1 + cos) / 2), _stack(1 + alpha, -2 * cos, 1 - alpha)


def butterworth_q(order: int) -> list[float]:
    """Q of each biquad section of an even-order Butterworth filter."""
    if order < 2 or order % 2:
        raise ValueError(f"filter order must be an even number >= 2, got {order}")
    return [1.0 / (2.0 * math.cos((2 * k - 1) * math.pi / (2 * order))) for k in range(1, order // 2 + 1)]


def _angular(freq_hz: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """Hz -> rad/sample, kept below Nyquist so every biquad stays well defined."""
    return (2 * math.pi * freq_hz / sample_rate).clamp(1e-4, 0.95 * math.pi)


class _FrequencyDomainFilter(BatchAugmentation):
    """Shared forward: draw per-example coefficients, then filter the batch in one rfft."""

    def __init__(self, sample_rate: int, tail: int, p: float):
        super().__init__(p)
        self.sample_rate, self.tail = int(sample_rate), int(tail)

    def coefficients(self, batch: int, generator) -> tuple[torch.Tensor, torch.Tensor]:
        """b, a of shape [B, sections, 3], float64 on the CPU."""
        raise NotImplementedError

    def transform(self, x, generator):
        b, a = self.coefficients(x.shape[0], generator)
        return filter_in_frequency_domain(x, b, a, self.tail)


class ParametricEQ(_FrequencyDomainFilter):
    """Random EQ: `bands` peaking filters (centre log-uniform in `freq_hz`, gain in `gain_db`,
    Q log-uniform in `q`), plus a low and a high shelf when `shelves` is true."""

    def __init__(
        self,
        bands: int = 3,
        gain_db=(-12.0, 12.0),
        q=(0.5, 4.0),
        freq_hz=(60.0, 7000.0),
        shelves: bool = True,
        low_shelf_hz=(50.0, 400.0),
        high_shelf_hz=(2000.0, 7000.0),
        sample_rate: int = 16000,
        tail: int = 2048,
        p: float = 1.0,
    ):
        super().__init__(sample_rate, tail, p)
        if bands < 0 or (bands == 0 and not shelves):
            raise ValueError(f"an EQ needs at least one band or shelves, got bands={bands}, shelves={shelves}")
        self.bands, self.shelves = int(bands), bool(shelves)
        self.gain_db, self.q, self.freq_hz = as_range(gain_db, "gain_db"), as_range(q, "q"), as_range(freq_hz, "freq_hz")
        self.low_shelf_hz, self.high_shelf_hz = as_range(low_shelf_hz, "low_shelf_hz"), as_range(high_shelf_hz, "high_shelf_hz")

    def coefficients(self, batch, generator):
        sections = []
        if self.bands:
            n = batch * self.bands
            w0 = _angular(log_uniform(n, self.freq_hz, generator), self.sample_rate)
            gain, q = uniform(n, self.gain_db, generator), log_uniform(n, self.q, generator)
            b, a = peaking(w0, gain, q)
            sections.append((b.view(batch, self.bands, 3), a.view(batch, self.bands, 3)))
        if self.shelves:
            for bounds, high in ((self.low_shelf_hz, False), (self.high_shelf_hz, True)):
                w0 = _angular(log_uniform(batch, bounds, generator), self.sample_rate)
                gain = uniform(batch, self.gain_db, generator)
                b, a = shelf(w0, gain, torch.full_like(w0, 1 / math.sqrt(2)), high)
                sections.append((b[:, None], a[:, None]))
        return torch.cat([s[0] for s in sections], 1), torch.cat([s[1] for s in sections], 1)

    def extra_repr(self) -> str:
        return f"bands={self.bands}, gain_db={list(self.gain_db)}, q={list(self.q)}, freq_hz={list(self.freq_hz)}, shelves={self.shelves}, p={self.p}"


class _Butterworth(_FrequencyDomainFilter):
    def __init__(self, cutoff_hz, order: int, high: bool, sample_rate: int, tail: int, p: float):
        super().__init__(sample_rate, tail, p)
        self.cutoff_hz = as_range(cutoff_hz, "cutoff_hz")
        self.order, self.high = int(order), high
        self.section_q = butterworth_q(self.order)

    def coefficients(self, batch, generator):
        w0 = _angular(log_uniform(batch, self.cutoff_hz, generator), self.sample_rate)
        design = highpass if self.high else lowpass
        parts = [design(w0, torch.full_like(w0, q)) for q in self.section_q]
        return torch.stack([b for b, _ in parts], 1), torch.stack([a for _, a in parts], 1)

    def extra_repr(self) -> str:
        return f"cutoff_hz={list(self.cutoff_hz)}, order={self.order}, p={self.p}"


class LowPass(_Butterworth):
    """Butterworth low-pass of even `order`, cutoff log-uniform in `cutoff_hz`."""

    def __init__(self, cutoff_hz=(1500.0, 7500.0), order: int = 4, sample_rate: int = 16000, tail: int = 2048, p: float = 1.0):
        super().__init__(cutoff_hz, order, False, sample_rate, tail, p)


class HighPass(_Butterworth):
    """Butterworth high-pass of even `order`, cutoff log-uniform in `cutoff_hz`."""

    def __init__(self, cutoff_hz=(40.0, 800.0), order: int = 4, sample_rate: int = 16000, tail: int = 2048, p: float = 1.0):
        super().__init__(cutoff_hz, order, True, sample_rate, tail, p)


class BandPass(_FrequencyDomainFilter):
    """High-pass then low-pass around a centre log-uniform in `center_hz`, `bandwidth_octaves` wide."""

    def __init__(
        self,
        center_hz=(200.0, 4000.0),
        bandwidth_octaves=(1.0, 4.0),
        order: int = 4,
        sample_rate: int = 16000,
        tail: int = 2048,
        p: float = 1.0,
    ):
        super().__init__(sample_rate, tail, p)
        self.center_hz, self.bandwidth_octaves = as_range(center_hz, "center_hz"), as_range(bandwidth_octaves, "bandwidth_octaves")
        self.order, self.section_q = int(order), butterworth_q(int(order))

    def coefficients(self, batch, generator):
        center = log_uniform(batch, self.center_hz, generator)
        half_width = torch.pow(2.0, uniform(batch, self.bandwidth_octaves, generator) / 2)
        low_edge = _angular(center / half_width, self.sample_rate)
        high_edge = _angular(center * half_width, self.sample_rate)
        parts = [highpass(low_edge, torch.full_like(low_edge, q)) for q in self.section_q]
        parts += [lowpass(high_edge, torch.full_like(high_edge, q)) for q in self.section_q]
        return torch.stack([b for b, _ in parts], 1), torch.stack([a for _, a in parts], 1)

    def extra_repr(self) -> str:
        return f"center_hz={list(self.center_hz)}, bandwidth_octaves={list(self.bandwidth_octaves)}, order={self.order}, p={self.p}"
