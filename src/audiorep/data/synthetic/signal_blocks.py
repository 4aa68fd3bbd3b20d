"""Batched signal building blocks for the synthetic world: every function works on a batch of
`m` events at once (arrays `[m, L]`), so rendering a class costs a few numpy/torch calls, not
a Python loop per event.

Time is local to the event: sample 0 is its onset. Phases are accumulated in float64 (a
float32 phase drifts audibly over seconds); signals are returned as float32.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import fft as sp_fft
from scipy.signal import fftconvolve

WAVETABLE_SIZE = 2048


def time_axis(n_samples: int, sample_rate: int) -> np.ndarray:
    """Seconds of each sample, `[L]` float64."""
    return np.arange(n_samples, dtype=np.float64) / sample_rate


def col(x) -> np.ndarray:
    """A per-event value `[m]` as a column `[m, 1]` that broadcasts against `[m, L]`."""
    return np.asarray(x, dtype=np.float64)[:, None]


def col32(x) -> np.ndarray:
    """`col` in float32, for per-sample arithmetic."""
    return np.asarray(x, dtype=np.float32)[:, None]


def frac(x: np.ndarray) -> np.ndarray:
    """Fractional part (faster than np.mod for positive float64 phases), as float32."""
    return (x - np.floor(x)).astype(np.float32)


def uniform(rng: np.random.Generator, lo: float, hi: float, m: int) -> np.ndarray:
    return rng.uniform(lo, hi, m)


def log_uniform(rng: np.random.Generator, lo: float, hi: float, m: int) -> np.ndarray:
    """Uniform on a log scale: the natural prior for frequencies and time constants."""
    return np.exp(rng.uniform(np.log(lo), np.log(hi), m))


# ----------------------------------------------------------------------------- envelopes


def attack_release(t: np.ndarray, dur: np.ndarray, attack: np.ndarray, release: np.ndarray) -> np.ndarray:
    """Linear attack, flat sustain, linear release ending exactly at `dur`; zero after it."""
    t32 = t.astype(np.float32)[None]
    rise = np.minimum(t32 * col32(1 / np.maximum(attack, 1e-4)), 1.0)
    fall = np.clip((col32(dur) - t32) * col32(1 / np.maximum(release, 1e-4)), 0.0, 1.0)
    return rise * fall


def percussive(t: np.ndarray, dur: np.ndarray, attack: np.ndarray, decay_tau: np.ndarray) -> np.ndarray:
    """Fast attack then exponential decay, faded to zero over the last 20 ms before `dur`."""
    t32 = t.astype(np.float32)[None]
    rise = np.minimum(t32 * col32(1 / np.maximum(attack, 1e-4)), 1.0)
    decay = np.exp(t32 * col32(-1 / decay_tau))
    tail = np.clip((col32(dur) - t32) * 50.0, 0.0, 1.0)
    return rise * decay * tail


def smooth_random(rng: np.random.Generator, m: int, n_samples: int, sample_rate: float, rate_hz, hop: int = 1) -> np.ndarray:
    """Random curves in [0, 1] that change about `rate_hz` times a second (cosine-interpolated
    control points), `[m, L]`: gusts, intonation, slow amplitude drift. With `hop` > 1 the
    curve is computed every `hop` samples and held (cheaper; fine for slow curves)."""
    rate = np.broadcast_to(np.asarray(rate_hz, dtype=np.float64), (m,))
    n_ctrl = int(np.ceil(n_samples / sample_rate * rate.max())) + 2
    ctrl = rng.random((m, n_ctrl), dtype=np.float32)
    n_points = -(-n_samples // hop)
    pos = (np.arange(n_points, dtype=np.float32) * np.float32(hop / sample_rate))[None] * col32(rate)
    i0 = pos.astype(np.int32)
    w = 0.5 - 0.5 * np.cos(np.float32(np.pi) * (pos - i0))
    i0 += (np.arange(m, dtype=np.int32) * n_ctrl)[:, None]
    a = np.take(ctrl, i0)
    curve = a + (np.take(ctrl, i0 + 1) - a) * w
    return curve if hop == 1 else np.repeat(curve, hop, axis=1)[:, :n_samples]


# ----------------------------------------------------------------------------- oscillators


def harmonic_tables(amps: np.ndarray, rng: np.random.Generator | None = None, size: int = WAVETABLE_SIZE) -> np.ndarray:
    """One period of a harmonic waveform per event: `amps [m, H]` are the amplitudes of
    harmonics 1..H (random phases when `rng` is given). Returns `[m, size]` float32."""
    m, n_harm = amps.shape
    if n_harm >= size // 2:
        raise ValueError(f"{n_harm} harmonics do not fit a wavetable of {size} samples")
    phases = rng.uniform(0, 2 * np.pi, amps.shape) if rng is not None else np.zeros(amps.shape)
    spec = np.zeros((m, size // 2 + 1), dtype=np.complex128)
    spec[:, 1 : n_harm + 1] = amps * np.exp(1j * (phases - np.pi / 2)) * (size / 2)
    return np.fft.irfft(spec, n=size, axis=1).astype(np.float32)


def band_limit(amps: np.ndarray, f0_max: np.ndarray, sample_rate: int, margin: float = 0.45) -> np.ndarray:
    """Zero the harmonics that would alias: harmonic k survives when k * f0_max < margin * sr."""
    k = np.arange(1, amps.shape[1] + 1)[None]
    return np.where(k * col(f0_max) < margin * sample_rate, amps, 0.0)


def read_wavetable(tables: np.ndarray, phase_cycles: np.ndarray) -> np.ndarray:
    """Linear-interpolated wavetable lookup: `tables [m, N]`, phase in cycles `[m, L]`."""
    m, size = tables.shape
    if phase_cycles.dtype == np.float64:
        phase_cycles = frac(phase_cycles)
    else:
        phase_cycles = phase_cycles - np.floor(phase_cycles)
    pos = phase_cycles * np.float32(size)
    i0 = pos.astype(np.int32)
    w = pos - i0
    i0 = np.minimum(i0, size - 1)
    padded = np.concatenate([tables, tables[:, :1]], axis=1).ravel()  # wrap-around sample
    i0 += (np.arange(m, dtype=np.int32) * (size + 1))[:, None]
    a = np.take(padded, i0)
    b = np.take(padded, i0 + 1)
    return a + (b - a) * w


def linear_phase(f0: np.ndarray, n_samples: int, sample_rate: int, block: int = 256) -> np.ndarray:
    """Phase in cycles, wrapped to [0, 1), of constant frequencies `f0 [m]`, `[m, L]` float32.

    frac(n f0 / sr) is computed exactly as frac(frac(a B f0/sr) + frac(b f0/sr)) with
    n = a B + b: the two small tables are float64, the big sum is float32 (cheap)."""
    step = np.asarray(f0, dtype=np.float64)[:, None] / sample_rate
    n_blocks = -(-n_samples // block)
    coarse = np.mod(np.arange(n_blocks)[None] * block * step, 1.0).astype(np.float32)  # [m, A]
    fine = np.mod(np.arange(block)[None] * step, 1.0).astype(np.float32)  # [m, B]
    phase = (coarse[:, :, None] + fine[:, None, :]).reshape(step.shape[0], -1)[:, :n_samples]
    phase -= np.floor(phase)
    return phase


def phase_from_frequency(freq_hz: np.ndarray, sample_rate: int) -> np.ndarray:
    """Phase in cycles of an oscillator whose instantaneous frequency is `freq_hz [m, L]`."""
    return np.cumsum(freq_hz, axis=1, dtype=np.float64) / sample_rate


def vibrato_phase(t: np.ndarray, sample_rate: int, f0: np.ndarray, depth: np.ndarray, rate_hz: np.ndarray) -> np.ndarray:
    """Phase (cycles, float32) of f(t) = f0 (1 + depth sin(2 pi rate t)) in closed form: the
    exact wrapped linear part plus the small vibrato term."""
    w = 2 * np.pi * rate_hz
    wobble = col32(f0 * depth / w) * (1 - np.cos(col32(w) * t.astype(np.float32)[None]))
    return linear_phase(f0, t.size, sample_rate) + wobble


def decay(t: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """exp(-t / tau) per event, `[m, L]` float32."""
    return np.exp(t.astype(np.float32)[None] * col32(-1 / np.asarray(tau)))


def sines(freqs: np.ndarray, amps: np.ndarray, t: np.ndarray, sample_rate: int, decay_tau: np.ndarray | None = None) -> np.ndarray:
    """Sum of fixed sinusoids per event: `freqs, amps [m, P]`, optional per-partial decay."""
    out = np.zeros((freqs.shape[0], t.size), dtype=np.float32)
    t32 = t.astype(np.float32)[None]
    two_pi = np.float32(2 * np.pi)
    for p in range(freqs.shape[1]):  # P is a handful of partials; each step is batched over m events
        part = np.sin(two_pi * linear_phase(freqs[:, p], t.size, sample_rate))
        if decay_tau is not None:
            part *= np.exp(t32 * col32(-1 / decay_tau[:, p]))
        out += col32(amps[:, p]) * part
    return out


# ----------------------------------------------------------------------------- noise and filters


def spectral_noise(rng: np.random.Generator, m: int, n_samples: int, gain_of_freq) -> np.ndarray:
    """White noise shaped in the frequency domain: `gain_of_freq(f [F]) -> [m, F]` amplitude gains.
    Output rows have unit RMS (rows whose gain is zero everywhere stay zero)."""
    n_fft = sp_fft.next_fast_len(n_samples, real=True)  # noise is stationary: make it longer, crop
    freqs = np.fft.rfftfreq(n_fft)  # cycles per sample; callers scale to Hz
    # Draw the spectrum directly, with uniform (not Gaussian) real and imaginary parts: three
    # times cheaper to draw, and each output sample, a sum over all bins, is Gaussian anyway.
    draws = rng.random((m, freqs.size, 2), dtype=np.float32)
    draws -= 0.5
    spec = draws.view(np.complex64)[..., 0]
    spec *= gain_of_freq(freqs).astype(np.float32)
    out = sp_fft.irfft(spec, n=n_fft, axis=1)[:, :n_samples]
    return normalise_rms(out)


def band_noise(rng, m: int, n_samples: int, sample_rate: int, centre_hz: np.ndarray, width_hz: np.ndarray) -> np.ndarray:
    """Noise with a Gaussian-shaped band around `centre_hz` (per event), unit RMS."""
    def gain(f):
        z = ((f * sample_rate).astype(np.float32)[None] - col32(centre_hz)) * col32(1 / np.asarray(width_hz))
        return np.exp(-0.5 * np.square(z))

    return spectral_noise(rng, m, n_samples, gain)


def coloured_noise(rng, m: int, n_samples: int, sample_rate: int, slope: np.ndarray, low_hz=20.0, high_hz=None) -> np.ndarray:
    """1/f^slope power noise (0 white, 1 pink, 2 brown) between `low_hz` and `high_hz`, unit RMS."""
    high = np.broadcast_to(np.asarray(sample_rate / 2 if high_hz is None else high_hz, dtype=np.float64), (m,))

    def gain(f):
        hz = np.maximum(f * sample_rate, 1.0).astype(np.float32)
        log_hz = np.log(hz)[None]
        lowpass = 1 / np.sqrt(1 + np.square(np.square(hz[None] * col32(1 / high))))
        return np.exp(log_hz * col32(-np.asarray(slope) / 2)) * (hz > low_hz)[None] * lowpass

    return spectral_noise(rng, m, n_samples, gain)


def normalise_rms(x: np.ndarray, n_active: np.ndarray | None = None) -> np.ndarray:
    """Scale each row to unit RMS, measured over its first `n_active` samples when given
    (the event's duration), so short events are not boosted by their silent padding."""
    x = x.astype(np.float32, copy=False)
    power = np.einsum("ij,ij->i", x, x) / np.maximum(1, x.shape[1] if n_active is None else n_active)
    return x * col32(1 / np.sqrt(np.maximum(power, 1e-20)))


def convolve_rows(x: np.ndarray, kernels: np.ndarray) -> np.ndarray:
    """Convolve each row of `x [m, L]` with its own kernel `[m, Lk]` (FFT), keeping length L."""
    return fftconvolve(x, kernels, mode="full", axes=1)[:, : x.shape[1]].astype(np.float32)


def impulse_train(times_s: np.ndarray, amps: np.ndarray, n_samples: int, sample_rate: int) -> np.ndarray:
    """Place impulses at `times_s [m, P]` (nan = none) with `amps [m, P]` into `[m, L]`."""
    m = times_s.shape[0]
    out = np.zeros((m, n_samples), dtype=np.float32)
    pos = np.round(np.nan_to_num(times_s, nan=-1.0) * sample_rate).astype(np.int64)
    ok = (pos >= 0) & (pos < n_samples) & ~np.isnan(times_s)
    rows = np.broadcast_to(np.arange(m)[:, None], pos.shape)
    np.add.at(out, (rows[ok], pos[ok]), amps[ok].astype(np.float32))
    return out


def regular_times(rng, dur: np.ndarray, rate_hz: np.ndarray, jitter: float, tail_s: float, first_s=0.0) -> np.ndarray:
    """Times of a roughly regular pulse train, `[m, P]` with nan past `dur - tail_s`."""
    n_max = int(np.ceil((dur * rate_hz).max())) + 1
    k = np.arange(n_max)[None]
    first = np.broadcast_to(np.asarray(first_s, dtype=np.float64), dur.shape)
    times = col(first) + k / col(rate_hz)
    times = times + rng.uniform(-jitter, jitter, times.shape) / col(rate_hz)
    times = np.maximum(times, 0.0)
    return np.where(times < col(dur - tail_s), times, np.nan)


def poisson_times(rng, dur: np.ndarray, density_hz: np.ndarray, tail_s: float) -> np.ndarray:
    """Times of a Poisson process of rate `density_hz` over `[0, dur - tail_s]`, `[m, P]` (nan padded)."""
    n_max = int(np.ceil((dur * density_hz).max() * 1.3 + 10))
    gaps = rng.exponential(1.0, (dur.size, n_max)) / col(density_hz)
    times = np.cumsum(gaps, axis=1)
    return np.where(times < col(dur - tail_s), times, np.nan)


def time_varying_filter(x: np.ndarray, gain_fn, sample_rate: int, n_fft: int = 512, hop: int = 256) -> np.ndarray:
    """Filter `x [m, L]` with a gain that changes over time, in the STFT domain.

    `gain_fn(freqs_hz [F], frame_times_s [N]) -> [m, F, N]` amplitude gains. Used for moving
    formants (speech) and wandering wind bands, which no fixed filter can make."""
    n_samples = x.shape[1]
    if n_samples < n_fft:
        x = np.pad(x, ((0, 0), (0, n_fft - n_samples)))
    wave = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    window = torch.hann_window(n_fft)
    spec = torch.stft(wave, n_fft, hop, window=window, center=True, return_complex=True)
    freqs = np.fft.rfftfreq(n_fft, 1 / sample_rate)
    frame_t = np.arange(spec.shape[-1]) * hop / sample_rate
    gains = torch.from_numpy(np.asarray(gain_fn(freqs, frame_t), dtype=np.float32))
    out = torch.istft(spec * gains, n_fft, hop, window=window, center=True, length=x.shape[1])
    return out.numpy()[:, :n_samples]
