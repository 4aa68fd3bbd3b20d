"""The EQ's frequency response stays exact with many bands, down to DC (a regression test:
multiplying all sections into one polynomial once lost 25-75 dB of accuracy below 400 Hz)."""

import numpy as np
import torch

from audiorep.augment.filters import ParametricEQ, cascade_response


def random_peaking_cascade(rng, sections: int = 7):
    w0 = rng.uniform(2 * np.pi * 30 / 16000, 2 * np.pi * 7000 / 16000, sections)
    gains, q = rng.uniform(-12, 12, sections), rng.uniform(0.5, 4, sections)
    big_a, alpha = 10 ** (gains / 40), np.sin(w0) / (2 * q)
    b = np.stack([1 + alpha * big_a, -2 * np.cos(w0), 1 - alpha * big_a], -1)
    a = np.stack([1 + alpha / big_a, -2 * np.cos(w0), 1 - alpha / big_a], -1)
    return b, a


def test_cascade_response_equals_the_product_of_its_sections_down_to_dc():
    rng = np.random.default_rng(0)
    n = 4096
    z = np.exp(-1j * np.linspace(0, np.pi, n // 2 + 1))  # the rfft grid
    for _ in range(8):
        b, a = random_peaking_cascade(rng)
        ours = cascade_response(torch.tensor(b)[None], torch.tensor(a)[None], n)[0].numpy()
        exact = np.prod([np.polyval(b[k, ::-1], z) / np.polyval(a[k, ::-1], z) for k in range(len(b))], axis=0)
        assert np.max(np.abs(ours - exact) / np.abs(exact)) < 1e-5  # the old bug was 25-75 dB off


def test_the_eq_with_five_bands_is_finite_and_flat_gains_leave_the_signal_alone():
    x = torch.randn(64, 4000) * 0.1
    y = ParametricEQ(bands=5, sample_rate=16000)(x, torch.Generator().manual_seed(0))
    assert torch.isfinite(y).all() and not torch.allclose(y, x)
    flat = ParametricEQ(bands=5, gain_db=(0.0, 0.0), shelves=False, sample_rate=16000)
    torch.testing.assert_close(flat(x, torch.Generator().manual_seed(0)), x, atol=1e-5, rtol=0)
