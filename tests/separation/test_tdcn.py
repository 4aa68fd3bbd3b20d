import pytest
import torch

from audiorep.separation.tdcn import TDCNSeparator, count_parameters

TINY = dict(num_filters=32, kernel_size=16, bottleneck=16, hidden=32, blocks_per_repeat=3, repeats=2)


@pytest.mark.parametrize("channels", [4, 8])
def test_separator_outputs_m_channels_that_sum_to_any_length_input(channels):
    model = TDCNSeparator(num_channels=channels, **TINY).eval()
    for length in (1000, 1237):
        mix = torch.randn(2, length, generator=torch.Generator().manual_seed(length))
        out = model(mix)
        assert out.shape == (2, channels, length)
        torch.testing.assert_close(out.sum(1), mix, atol=1e-4, rtol=0)


def test_output_scales_with_input_level():
    model = TDCNSeparator(num_channels=4, **TINY).eval()
    mix = torch.randn(1, 800, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(model(mix * 100.0), model(mix) * 100.0, atol=1e-3, rtol=1e-3)


def test_default_model_is_cpu_sized():
    assert 0.3e6 < count_parameters(TDCNSeparator()) < 2e6


def test_bad_input_shape_is_explained():
    with pytest.raises(ValueError, match=r"\[B,T\]"):
        TDCNSeparator(**TINY)(torch.zeros(1, 1, 100))


def test_long_input_is_separated_in_chunks():
    model = TDCNSeparator(num_channels=4, sample_rate=8000, **TINY).eval()
    audio = torch.randn(5000, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        out = model.separate_long(audio, chunk_seconds=0.25)
    assert out.shape == (4, 5000)
    torch.testing.assert_close(out.sum(0), audio, atol=1e-4, rtol=0)
