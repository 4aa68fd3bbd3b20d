import numpy as np
import pytest
import scipy.signal
import torch

from audiorep.frontend.resample import fft_resample


@pytest.mark.parametrize("orig,new", [(16000, 8000), (8000, 16000), (16000, 22050)])
def test_matches_scipy_fourier_resampling(orig, new):
    x = torch.randn(3, orig // 4, generator=torch.Generator().manual_seed(0))
    ours = fft_resample(x, orig, new).numpy()
    ref = scipy.signal.resample(x.numpy(), int(round(x.shape[-1] * new / orig)), axis=-1)
    np.testing.assert_allclose(ours, ref, atol=1e-4)


def test_a_tone_keeps_its_frequency_and_level():
    t = torch.arange(16000) / 16000
    tone = torch.sin(2 * np.pi * 440 * t)[None]
    down = fft_resample(tone, 16000, 8000)[0].numpy()
    assert len(down) == 8000
    peak = np.argmax(np.abs(np.fft.rfft(down))) * 8000 / len(down)
    assert abs(peak - 440) < 1.0 and abs(down.std() - tone.std().item()) < 1e-3
