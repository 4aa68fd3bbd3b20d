import math

import numpy as np
import pytest
import scipy.signal
import torch

from audiorep.augment.filters import BandPass, HighPass, LowPass, ParametricEQ, peaking
from audiorep.augment.reverb import Reverb

from augment_signals import SR, band_energy, gen


def gain_db(y, x, lo, hi):
    return 10 * torch.log10(band_energy(y, lo, hi) / band_energy(x, lo, hi))


@pytest.fixture
def noise():
    return torch.randn(4, SR, generator=gen(1))


def test_eq_band_boosts_energy_near_its_centre_only(noise):
    eq = ParametricEQ(bands=1, gain_db=[12, 12], q=[2, 2], freq_hz=[1000, 1000], shelves=False)
    y = eq(noise, gen())
    assert torch.all(gain_db(y, noise, 950, 1050) > 11)
    assert torch.all(gain_db(y, noise, 100, 200).abs() < 0.5)
    assert torch.all(gain_db(y, noise, 5000, 6000).abs() < 0.5)


def test_eq_matches_a_recursive_biquad(noise):
    eq = ParametricEQ(bands=1, gain_db=[-9, -9], q=[1, 1], freq_hz=[700, 700], shelves=False)
    w0 = torch.tensor(2 * math.pi * 700 / SR, dtype=torch.float64)
    b, a = peaking(w0, torch.tensor(-9.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
    reference = scipy.signal.lfilter(b.numpy(), a.numpy(), noise.numpy(), axis=-1)
    assert np.abs(eq(noise, gen()).numpy() - reference).max() < 1e-3 * np.abs(reference).max()


def test_shelves_lift_the_ends_of_the_spectrum(noise):
    y = ParametricEQ(bands=0, gain_db=[12, 12], low_shelf_hz=[200, 200], high_shelf_hz=[4000, 4000])(noise, gen())
    assert torch.all(gain_db(y, noise, 30, 80) > 11) and torch.all(gain_db(y, noise, 6000, 7000) > 11)
    assert torch.all(gain_db(y, noise, 900, 1100).abs() < 0.5)


def test_lowpass_and_highpass_match_butterworth(noise):
    for op, kind in ((LowPass(cutoff_hz=[1000, 1000]), "low"), (HighPass(cutoff_hz=[1000, 1000]), "high")):
        sos = scipy.signal.butter(4, 1000, kind, fs=SR, output="sos")
        reference = scipy.signal.sosfilt(sos, noise.numpy(), axis=-1)
        assert np.abs(op(noise, gen()).numpy() - reference).max() < 1e-3 * np.abs(reference).max()


def test_bandpass_keeps_the_band_and_cuts_both_sides(noise):
    y = BandPass(center_hz=[1000, 1000], bandwidth_octaves=[2, 2])(noise, gen())
    assert torch.all(gain_db(y, noise, 900, 1100).abs() < 0.5)
    assert torch.all(gain_db(y, noise, 100, 200) < -30) and torch.all(gain_db(y, noise, 5000, 7000) < -30)


def test_reverb_tail_decays_at_the_drawn_rt60():
    impulse = torch.zeros(2, 2 * SR)
    impulse[:, 100] = 1.0
    rt60 = 0.5
    y = Reverb(rt60=[rt60, rt60], drr_db=[0, 0], pre_delay=[0, 0])(impulse, gen())
    assert y.shape == impulse.shape and bool(y[:, :100].abs().max() < 1e-6)  # causal
    energy = y[:, 200:].double().square().unfold(1, 800, 800).sum(-1)  # 50 ms blocks
    db = 10 * torch.log10(energy)
    slope = np.polyfit(np.arange(6) * 0.05, db[:, :6].mean(0).numpy(), 1)[0]  # dB per second
    assert slope == pytest.approx(-60 / rt60, rel=0.15)


def test_reverb_keeps_level_and_smears_in_time(noise):
    x = torch.zeros(4, SR)
    x[:, : SR // 10] = noise[:, : SR // 10]
    y = Reverb(rt60=[0.8, 0.8], drr_db=[-3, -3])(x, gen())
    assert torch.allclose(y.square().mean(1), x.square().mean(1), rtol=1e-3)
    assert torch.all(y[:, SR // 5 :].abs().amax(1) > 0.01)  # energy after the burst ended
