"""The source classes of the synthetic world, one batched generator each.

A class is defined by what stays fixed while pitch, loudness and duration are random: the
spectral envelope, the attack/decay, the (in)harmonicity, the temporal pattern. Tonal classes
share pitch ranges so that pitch alone never names the class; several families share
frequency bands (rain/crackle/clicks, hum/engine, whistle-like flute/bird/alarm) so that
coarse spectral statistics confuse them, while the fine structure a good representation can
learn keeps them apart.

Every generator renders all events of its class at once: `render(rng, dur_s [m], sr,
pitch_hz=None) -> (wave [m, L], pitch_hz [m])` with `L = ceil(max(dur) * sr)`, the event
starting at sample 0 and silent after its duration. `pitch_hz` is the fundamental of tonal
events (nan for atonal ones); passing it fixes the pitch instead of drawing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from audiorep.data.synthetic import signal_blocks as sb
from audiorep.data.synthetic.signal_blocks import col, col32

Render = Callable[..., tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class SoundClass:
    """One source class: its name, family, whether it has a pitch, its duration range (s)."""

    name: str
    family: str
    tonal: bool
    duration_s: tuple[float, float]
    render_fn: Render

    def render(self, rng: np.random.Generator, dur_s, sample_rate: int, pitch_hz=None):
        dur = np.asarray(dur_s, dtype=np.float64)
        n_samples = max(1, int(np.ceil(dur.max() * sample_rate)))
        t = sb.time_axis(n_samples, sample_rate)
        if pitch_hz is not None:
            pitch_hz = np.broadcast_to(np.asarray(pitch_hz, dtype=np.float64), dur.shape).copy()
        wave, pitch = self.render_fn(rng, dur, t, sample_rate, pitch_hz)
        wave = np.where(t[None] < col(dur), wave, 0.0).astype(np.float32)
        return wave, (pitch if self.tonal else np.full(dur.shape, np.nan))


def _pitch(rng, pitch_hz, lo, hi, m):
    return sb.log_uniform(rng, lo, hi, m) if pitch_hz is None else pitch_hz


def _harmonic_tone(rng, t, sr, f0, amps, phase=None):
    """Band-limited harmonic tone with per-event harmonic amplitudes `amps [m, H]`."""
    tables = sb.harmonic_tables(sb.band_limit(amps, f0 * 1.03, sr), rng)
    phase = sb.linear_phase(f0, t.size, sr) if phase is None else phase
    return sb.read_wavetable(tables, phase)


# ----------------------------------------------------------------------------- harmonic instruments
# Shared pitch range 110-880 Hz (flute and bell sit higher but overlap).


def plucked_string(rng, dur, t, sr, pitch_hz):
    """Bright pluck whose upper harmonics die first: a bright and a dull wavetable crossfaded
    by a fast decay, under an exponential amplitude decay. Pluck position notches harmonics."""
    m = dur.size
    f0 = _pitch(rng, pitch_hz, 110, 880, m)
    k = np.arange(1, 41)[None]
    pos = sb.uniform(rng, 0.08, 0.3, m)
    bright = np.abs(np.sin(np.pi * k * col(pos))) / k**1.1
    dull = bright * np.exp(-(k - 1) / 2.5)
    b = sb.decay(t, sb.log_uniform(rng, 0.04, 0.15, m))
    phase = sb.linear_phase(f0, t.size, sr)
    hi = _harmonic_tone(rng, t, sr, f0, bright, phase)
    lo = _harmonic_tone(rng, t, sr, f0, dull, phase)
    env = sb.percussive(t, dur, np.full(m, 0.002), dur * sb.uniform(rng, 0.25, 0.5, m))
    return env * (lo + (hi - lo) * b), f0


def bowed_string(rng, dur, t, sr, pitch_hz):
    """Sawtooth-like 1/k spectrum through fixed body resonances, slow bow attack, vibrato."""
    m = dur.size
    f0 = _pitch(rng, pitch_hz, 110, 880, m)
    k = np.arange(1, 41)[None]
    hz = k * col(f0)
    body = 0.4 + np.exp(-0.5 * ((hz - 450) / 150) ** 2) + 0.8 * np.exp(-0.5 * ((hz - 2800) / 700) ** 2)
    amps = body / k
    phase = sb.vibrato_phase(t, sr, f0, sb.uniform(rng, 0.004, 0.012, m), sb.uniform(rng, 4.5, 6.5, m))
    env = sb.attack_release(t, dur, sb.uniform(rng, 0.08, 0.25, m), sb.uniform(rng, 0.1, 0.3, m))
    swell = 1 + 0.2 * np.sin(t.astype(np.float32)[None] * col32(np.pi / dur))
    return env * swell * _harmonic_tone(rng, t, sr, f0, amps, phase), f0


def bell(rng, dur, t, sr, pitch_hz):
    """Inharmonic partials (hum, prime, minor third, fifth, nominal, ...) that decay at
    different rates, the low ones longest. `pitch_hz` is the prime, the strongest partial."""
    m = dur.size
    f0 = _pitch(rng, pitch_hz, 220, 1200, m)
    ratios = np.array([0.5, 1.0, 1.19, 1.5, 2.0, 2.51, 2.66, 3.01, 4.16])
    jitter = 1 + rng.uniform(-0.01, 0.01, (m, ratios.size))
    jitter[:, 1] = 1.0
    freqs = col(f0) * ratios[None] * jitter
    amps = np.array([0.5, 1.0, 0.6, 0.35, 0.55, 0.3, 0.25, 0.2, 0.12])[None] * rng.uniform(0.7, 1.0, (m, ratios.size))
    amps[:, 1] = 1.0
    amps = np.where(freqs < 0.45 * sr, amps, 0.0)
    tau = col(dur * sb.uniform(rng, 0.3, 0.6, m)) / ratios[None] ** 0.7
    env = sb.attack_release(t, dur, np.full(m, 0.001), np.full(m, 0.05))
    return env * sb.sines(freqs, amps, t, sr, tau), f0


def reed(rng, dur, t, sr, pitch_hz):
    """Clarinet-like: strong odd harmonics, weak even ones, quick tongued attack, steady."""
    m = dur.size
    f0 = _pitch(rng, pitch_hz, 110, 880, m)
    k = np.arange(1, 41)[None]
    odd = (k % 2 == 1)
    amps = np.where(odd, 1.0, 0.04) / k ** col(sb.uniform(rng, 0.7, 1.1, m))
    phase = sb.vibrato_phase(t, sr, f0, sb.uniform(rng, 0.0, 0.004, m), sb.uniform(rng, 4.0, 6.0, m))
    env = sb.attack_release(t, dur, sb.uniform(rng, 0.02, 0.06, m), sb.uniform(rng, 0.03, 0.1, m))
    return env * _harmonic_tone(rng, t, sr, f0, amps, phase), f0


def flute(rng, dur, t, sr, pitch_hz):
    """Few harmonics (nearly a sine) plus breath noise around the tone, soft attack, vibrato."""
    m = dur.size
    f0 = _pitch(rng, pitch_hz, 260, 1600, m)
    amps = np.array([1.0, 0.35, 0.12, 0.05, 0.02])[None] * rng.uniform(0.6, 1.0, (m, 5))
    amps[:, 0] = 1.0
    phase = sb.vibrato_phase(t, sr, f0, sb.uniform(rng, 0.005, 0.012, m), sb.uniform(rng, 4.0, 5.5, m))
    tone = _harmonic_tone(rng, t, sr, f0, amps, phase)
    breath = sb.band_noise(rng, m, t.size, sr, 2 * f0, 1.5 * f0) * col32(sb.uniform(rng, 0.08, 0.2, m))
    env = sb.attack_release(t, dur, sb.uniform(rng, 0.05, 0.12, m), sb.uniform(rng, 0.05, 0.15, m))
    return env * (tone + breath), f0


# ----------------------------------------------------------------------------- noise textures


def impulses_over_bed(rng, dur, t, impulses, kernel, bed, bed_gain, fade):
    """Impulses rung through per-clip kernels (drops, clicks) over a noise bed at `bed_gain`,
    faded in and out over a random share `fade` (low, high) of each event."""
    wave = sb.normalise_rms(sb.convolve_rows(impulses, kernel)) + col32(bed_gain) * bed
    env = sb.attack_release(t, dur, sb.uniform(rng, *fade, dur.size), sb.uniform(rng, *fade, dur.size))
    return env * wave, None


def rain(rng, dur, t, sr, pitch_hz):
    """Dense random droplets (short high resonances) over a high hiss."""
    m = dur.size
    times = sb.poisson_times(rng, dur, sb.log_uniform(rng, 150, 600, m), 0.01)
    drops = sb.impulse_train(times, rng.exponential(1.0, times.shape), t.size, sr)
    kt = sb.time_axis(int(0.008 * sr), sr)
    drop_hz = np.minimum(sb.log_uniform(rng, 1500, 5000, m), 0.45 * sr)
    kernel = np.sin(2 * np.pi * col(drop_hz) * kt[None]) * np.exp(-kt[None] / 0.0015)
    hiss = sb.band_noise(rng, m, t.size, sr, sb.uniform(rng, 3000, 6000, m), np.full(m, 2500.0))
    return impulses_over_bed(rng, dur, t, drops, kernel, hiss, sb.uniform(rng, 0.3, 0.8, m), fade=(0.1, 0.4))


def wind(rng, dur, t, sr, pitch_hz):
    """Low band noise whose centre and level wander slowly (gusts)."""
    m = dur.size
    noise = sb.coloured_noise(rng, m, t.size, sr, np.full(m, 1.0), 40.0)
    centre_lo = sb.log_uniform(rng, 150, 500, m)
    span = sb.uniform(rng, 1.5, 4.0, m)
    gust_rate = sb.uniform(rng, 0.3, 1.2, m)
    hop = 256
    n_frames = 1 + max(t.size, 512) // hop
    track = sb.smooth_random(rng, m, n_frames, sr / hop, gust_rate)  # one value per STFT frame
    width = sb.uniform(rng, 0.3, 0.7, m)

    def gain(freqs, frame_t):
        tr = track[:, None, : frame_t.size]  # [m, 1, N]
        log_centre = col32(np.log2(centre_lo))[:, :, None] + col32(np.log2(span))[:, :, None] * tr
        octaves = np.log2(np.maximum(freqs, 1.0)).astype(np.float32)[None, :, None] - log_centre
        return np.exp(-0.5 * np.square(octaves * col32(1 / width)[:, :, None])) * (0.3 + tr)

    wave = sb.time_varying_filter(noise, gain, sr, hop=hop)
    env = sb.attack_release(t, dur, sb.uniform(rng, 0.2, 0.6, m), sb.uniform(rng, 0.2, 0.6, m))
    return env * wave, None


def crackle(rng, dur, t, sr, pitch_hz):
    """Fire-like: sparse clicks with heavy-tailed loudness over a faint low roar."""
    m = dur.size
    times = sb.poisson_times(rng, dur, sb.log_uniform(rng, 15, 80, m), 0.01)
    amps = rng.pareto(1.5, times.shape) + 0.2
    clicks = sb.impulse_train(times, amps, t.size, sr)
    kt = sb.time_axis(int(0.004 * sr), sr)
    kernel = rng.standard_normal((m, kt.size)) * np.exp(-kt[None] / col(sb.uniform(rng, 0.0003, 0.001, m)))
    roar = sb.band_noise(rng, m, t.size, sr, sb.uniform(rng, 150, 400, m), np.full(m, 200.0))
    return impulses_over_bed(rng, dur, t, clicks, kernel, roar, sb.uniform(rng, 0.1, 0.4, m), fade=(0.05, 0.3))


# ----------------------------------------------------------------------------- impulsive


def knock(rng, dur, t, sr, pitch_hz):
    """A few knocks on wood: low damped resonances with a short noisy contact."""
    m = dur.size
    times = sb.regular_times(rng, dur, sb.uniform(rng, 3.0, 7.0, m), 0.15, 0.08)
    hits = sb.impulse_train(times, rng.uniform(0.6, 1.0, times.shape), t.size, sr)
    kt = sb.time_axis(int(0.08 * sr), sr)
    f = col(sb.log_uniform(rng, 90, 350, m))
    tau = col(sb.uniform(rng, 0.01, 0.03, m))
    body = np.sin(2 * np.pi * f * kt[None]) * np.exp(-kt[None] / tau)
    body += 0.5 * np.sin(2 * np.pi * 2.7 * f * kt[None]) * np.exp(-kt[None] / (tau / 2))
    contact = rng.standard_normal((m, kt.size)) * np.exp(-kt[None] / 0.002) * 0.3
    return sb.convolve_rows(hits, body + contact), None


def click_train(rng, dur, t, sr, pitch_hz):
    """Clock ticks / keyboard clicks: very short high clicks at a steady rate."""
    m = dur.size
    times = sb.regular_times(rng, dur, sb.log_uniform(rng, 2.0, 12.0, m), 0.08, 0.01)
    hits = sb.impulse_train(times, rng.uniform(0.5, 1.0, times.shape), t.size, sr)
    kt = sb.time_axis(int(0.01 * sr), sr)
    f = col(np.minimum(sb.log_uniform(rng, 1800, 5500, m), 0.45 * sr))
    kernel = np.sin(2 * np.pi * f * kt[None]) * np.exp(-kt[None] / col(sb.uniform(rng, 0.0007, 0.002, m)))
    kernel += 0.4 * rng.standard_normal((m, kt.size)) * np.exp(-kt[None] / 0.0004)
    return sb.convolve_rows(hits, kernel), None


def footsteps(rng, dur, t, sr, pitch_hz):
    """Walking: heel-toe pairs of dull noise bursts at 1.5-2.5 steps per second."""
    m = dur.size
    rate = sb.uniform(rng, 1.5, 2.5, m)
    heel = sb.regular_times(rng, dur, rate, 0.08, 0.15)
    toe = heel + col(sb.uniform(rng, 0.03, 0.07, m))
    times = np.concatenate([heel, toe], axis=1)
    amps = np.concatenate([rng.uniform(0.7, 1.0, heel.shape), rng.uniform(0.3, 0.5, heel.shape)], axis=1)
    hits = sb.impulse_train(times, amps, t.size, sr)
    n_k = int(0.1 * sr)
    kt = sb.time_axis(n_k, sr)
    burst = sb.band_noise(rng, m, n_k, sr, sb.log_uniform(rng, 250, 1000, m), sb.uniform(rng, 200, 600, m))
    kernel = burst * np.exp(-kt[None] / col(sb.uniform(rng, 0.012, 0.03, m)))
    return sb.convolve_rows(hits, kernel), None


# ----------------------------------------------------------------------------- frequency sweeps


def bird_chirp(rng, dur, t, sr, pitch_hz):
    """Series of short whistled sweeps (up or down) between 2 and 6 kHz with weak harmonics."""
    m = dur.size
    rate = sb.uniform(rng, 2.5, 7.0, m)
    n_max = int(np.ceil((dur * rate).max())) + 1
    f_a = sb.log_uniform(rng, 1800, 5000, m * n_max).reshape(m, n_max)
    f_b = np.minimum(f_a * np.exp(rng.uniform(-0.7, 0.7, (m, n_max))), 0.45 * sr)  # no aliasing
    f_a = np.minimum(f_a, 0.45 * sr)
    duty = sb.uniform(rng, 0.4, 0.8, m)
    t32 = t.astype(np.float32)[None]
    pos = t32 * col32(rate)
    idx = np.minimum(pos.astype(np.int32), n_max - 1)
    u = (pos - idx) * col32(1 / duty)
    idx += (np.arange(m, dtype=np.int32) * n_max)[:, None]
    fa = np.take(f_a.astype(np.float32), idx)
    fb = np.take(f_b.astype(np.float32), idx)
    uc = np.minimum(u, 1.0)
    freq = fa + (fb - fa) * uc
    phase = sb.phase_from_frequency(freq, sr)
    shape = np.where(u < 1, np.square(np.sin(np.float32(np.pi) * uc)), np.float32(0))
    two_pi = np.float32(2 * np.pi)
    wave = np.sin(two_pi * sb.frac(phase)) + 0.15 * np.sin(two_pi * sb.frac(2 * phase)) * (2 * fa < 0.45 * sr)
    tail = np.clip((col32(dur) - t32) * 50.0, 0, 1)
    return shape * tail * wave, None


def siren(rng, dur, t, sr, pitch_hz):
    """Emergency siren: a few-harmonic tone swept between a low and high pitch, either a
    slow wail (sine sweep) or a hi-lo (alternating) pattern."""
    m = dur.size
    lo = sb.uniform(rng, 450, 800, m)
    hi = lo * sb.uniform(rng, 1.4, 2.2, m)
    rate = sb.uniform(rng, 0.2, 0.6, m)
    hilo = rng.random(m) < 0.4
    t32 = t.astype(np.float32)[None]
    lfo = 0.5 - 0.5 * np.cos(col32(2 * np.pi * rate) * t32)
    square = 0.5 + 0.5 * np.tanh(8 * np.sin(col32(8 * np.pi * rate) * t32))
    shape = np.where(col(hilo) > 0, square, lfo)
    freq = col32(lo) + col32(hi - lo) * shape
    phase = sb.phase_from_frequency(freq, sr)
    amps = np.array([1.0, 0.5, 0.3, 0.15])[None].repeat(m, 0)
    tone = _harmonic_tone(rng, t, sr, hi * 1.02, amps, phase)
    env = sb.attack_release(t, dur, sb.uniform(rng, 0.05, 0.3, m), sb.uniform(rng, 0.05, 0.3, m))
    return env * tone, None


def alarm_beep(rng, dur, t, sr, pitch_hz):
    """Appliance / alarm beeps: a square-ish tone switched on and off at a steady rate."""
    m = dur.size
    f0 = _pitch(rng, pitch_hz, 700, 3200, m)
    k = np.arange(1, 8)[None]
    amps = np.repeat(np.where(k % 2 == 1, 1.0 / k, 0.0), m, axis=0)
    tone = _harmonic_tone(rng, t, sr, f0, amps)
    rate = sb.uniform(rng, 1.5, 6.0, m)
    duty = sb.uniform(rng, 0.3, 0.6, m)
    gate_phase = sb.frac(t[None] * col(rate))
    gate = np.clip(np.minimum(gate_phase, col32(duty) - gate_phase) * np.float32(sr / 40), 0, 1)
    return gate * tone, f0


# ----------------------------------------------------------------------------- speech-like


_VOWEL_FORMANTS = np.array(  # F1, F2, F3 (Hz) for /a e i o u/
    [[730, 1090, 2440], [530, 1840, 2480], [270, 2290, 3010], [570, 840, 2410], [300, 870, 2240]], dtype=np.float64
)


def speech(rng, dur, t, sr, pitch_hz):
    """Babble-like voice: a glottal pulse train (intonation contour) through vowel formants
    that change every syllable, syllables at 3-6 per second with brief gaps."""
    m = dur.size
    f0 = _pitch(rng, pitch_hz, 90, 260, m)
    contour = 1 + 0.25 * (sb.smooth_random(rng, m, t.size, sr, 2.0, hop=16) - 0.5) - t.astype(np.float32)[None] * col32(0.08 / dur)
    freq = col32(f0) * contour
    phase = sb.phase_from_frequency(freq, sr)
    k = np.arange(1, 61)[None]
    amps = 1.0 / k ** 1.5
    source = _harmonic_tone(rng, t, sr, f0 * 1.2, amps, phase)
    syl_rate = sb.uniform(rng, 3.0, 6.0, m)
    n_syl = int(np.ceil((dur * syl_rate).max())) + 2
    vowels = rng.integers(0, len(_VOWEL_FORMANTS), (m, n_syl))
    formants = _VOWEL_FORMANTS[vowels] * col(sb.uniform(rng, 0.9, 1.15, m))[:, :, None]  # [m, syl, 3]

    def gain(freqs, frame_t):
        # the spectral envelope of each syllable [m, syl, F], then picked per frame
        bw = np.array([80.0, 120.0, 180.0])
        detune = (freqs[None, None, :, None] - formants[:, :, None, :]) / bw
        per_syl = (np.array([1.0, 0.6, 0.3]) / (1 + detune**2)).sum(-1).astype(np.float32)
        syl = np.minimum((frame_t[None] * col(syl_rate)).astype(np.int64), n_syl - 1)  # [m, N]
        return np.take_along_axis(per_syl, syl[:, :, None], axis=1).transpose(0, 2, 1)  # [m, F, N]

    voiced = sb.time_varying_filter(source, gain, sr)
    syl_pos = sb.frac(t[None] * col(syl_rate))
    syl_env = np.maximum(np.sin(np.float32(np.pi) * np.minimum(syl_pos * 1.25, 1.0)), 0) ** 0.7
    env = sb.attack_release(t, dur, np.full(m, 0.03), np.full(m, 0.05))
    return env * syl_env * voiced, f0


# ----------------------------------------------------------------------------- machines


def mains_hum(rng, dur, t, sr, pitch_hz):
    """Electrical hum: 50 or 60 Hz with a buzz of harmonics (the even ones strong), slowly
    amplitude-modulated."""
    m = dur.size
    if pitch_hz is None:
        f0 = np.where(rng.random(m) < 0.5, 50.0, 60.0) * sb.uniform(rng, 0.995, 1.005, m)
    else:
        f0 = pitch_hz
    k = np.arange(1, 25)[None]
    amps = np.where(k % 2 == 0, 1.0, 0.5) / k ** col(sb.uniform(rng, 0.6, 1.2, m))
    amps[:, 0] = sb.uniform(rng, 0.3, 1.0, m)
    am_rate = col32(2 * np.pi * sb.uniform(rng, 0.3, 3.0, m))
    am = 1 + col32(sb.uniform(rng, 0.1, 0.4, m)) * np.sin(am_rate * t.astype(np.float32)[None])
    env = sb.attack_release(t, dur, sb.uniform(rng, 0.05, 0.3, m), sb.uniform(rng, 0.05, 0.3, m))
    return env * am * _harmonic_tone(rng, t, sr, f0, amps), f0


def engine(rng, dur, t, sr, pitch_hz):
    """Combustion engine: pulses at the firing rate (rpm changes slowly) with a rich low
    spectrum plus noise modulated by the firing cycle. `pitch_hz` is the mean firing rate."""
    m = dur.size
    f0 = _pitch(rng, pitch_hz, 25, 110, m)
    drift = 1 + col32(sb.uniform(rng, 0.0, 0.3, m)) * (sb.smooth_random(rng, m, t.size, sr, 0.7, hop=16) - 0.5)
    freq = col32(f0) * drift
    phase = sb.phase_from_frequency(freq, sr)
    k = np.arange(1, 60)[None]
    amps = np.exp(-k / col(sb.uniform(rng, 4, 12, m))) * (1 + 0.5 * rng.random((m, k.size)))
    tone = _harmonic_tone(rng, t, sr, f0 * 1.2, amps, phase)
    pulses = np.square(np.square(0.5 + 0.5 * np.cos(np.float32(2 * np.pi) * sb.frac(phase))))
    rumble = sb.band_noise(rng, m, t.size, sr, sb.uniform(rng, 300, 900, m), np.full(m, 400.0))
    wave = sb.normalise_rms(tone) + col32(sb.uniform(rng, 0.3, 0.8, m)) * pulses * rumble
    env = sb.attack_release(t, dur, sb.uniform(rng, 0.1, 0.5, m), sb.uniform(rng, 0.1, 0.5, m))
    active = t[None] < col(dur)
    mean_f0 = (freq * active).sum(1, dtype=np.float64) / np.maximum(active.sum(1), 1)
    return env * wave, mean_f0


SOUND_CLASSES: tuple[SoundClass, ...] = (
    SoundClass("plucked_string", "harmonic", True, (0.4, 2.0), plucked_string),
    SoundClass("bowed_string", "harmonic", True, (0.5, 3.0), bowed_string),
    SoundClass("bell", "harmonic", True, (0.8, 3.0), bell),
    SoundClass("reed", "harmonic", True, (0.3, 2.5), reed),
    SoundClass("flute", "harmonic", True, (0.3, 2.5), flute),
    SoundClass("rain", "noise", False, (1.5, 4.0), rain),
    SoundClass("wind", "noise", False, (1.5, 4.0), wind),
    SoundClass("crackle", "noise", False, (1.0, 4.0), crackle),
    SoundClass("knock", "impulsive", False, (0.3, 1.2), knock),
    SoundClass("click_train", "impulsive", False, (0.8, 3.0), click_train),
    SoundClass("footsteps", "impulsive", False, (1.0, 4.0), footsteps),
    SoundClass("bird_chirp", "sweep", False, (0.5, 2.5), bird_chirp),
    SoundClass("siren", "sweep", False, (1.5, 4.0), siren),
    SoundClass("speech", "voice", True, (0.8, 3.5), speech),
    SoundClass("mains_hum", "machine", True, (1.5, 4.0), mains_hum),
    SoundClass("engine", "machine", True, (1.5, 4.0), engine),
    SoundClass("alarm_beep", "tonal_pattern", True, (0.6, 2.5), alarm_beep),
)
