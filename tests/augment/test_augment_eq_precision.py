"""The EQ's frequency response stays exact with many bands, down to DC (a regression test:
multiplying all sections into one polynomial once lost 25-75 dB of accuracy below 400 Hz)."""

import numpy as np
import scipy.signal
import torch

from audiorep.augment.filters import ParametricEQ, cascade_response


def test_cascade_response_matches_scipy_for_five_peaks_and_two_shelves():
    eq = ParametricEQ(bands=5, sample_rate=16000)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4000) * 0.1
    y = eq(x, g)
    assert torch.isfinite(y).all(), "the EQ produced non-finite samples"
    # Check the response computation itself against scipy on random biquad cascades.
    rng = np.random.default_rng(0)
    for _ in range(8):
        w0 = rng.uniform(2 * np.pi * 30 / 16000, 2 * np.pi * 7000 / 16000, 7)
        gains = rng.uniform(-12, 12, 7)
        q = rng.uniform(0.5, 4, 7)
        big_a = 10 ** (gains / 40)
        alpha = np.sin(w0) / (2 * q)
        b = np.stack([1 + alpha * big_a, -2 * np.cos(w0), 1 - alpha * big_a], -1)
        a = np.stack([1 + alpha / big_a, -2 * np.cos(w0), 1 - alpha / big_a], -1)
        n = 4096
        ours = cascade_response(torch.tensor(b)[None], torch.tensor(a)[None], n)[0].numpy()
        sos = np.concatenate([b / a[:, :1], a / a[:, :1]], axis=1)
        _, ref = scipy.signal.sosfreqz(sos, worN=n // 2 + 1, whole=False)
        ref_db, ours_db = 20 * np.log10(np.abs(ref)), 20 * np.log10(np.abs(ours))
        assert np.max(np.abs(ours_db - ref_db)) < 0.25  # dB; the old bug was 25-75 dB
