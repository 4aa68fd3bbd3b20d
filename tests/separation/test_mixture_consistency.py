import pytest
import torch

from audiorep.separation.mixture_consistency import mixture_consistency


@pytest.mark.parametrize("weighting", ["uniform", "power"])
def test_projected_channels_sum_to_the_mixture(weighting):
    g = torch.Generator().manual_seed(0)
    est, mix = torch.randn(3, 4, 200, generator=g), torch.randn(3, 200, generator=g)
    out = mixture_consistency(est, mix, weighting)
    torch.testing.assert_close(out.sum(1), mix, atol=1e-5, rtol=0)


def test_consistent_estimates_are_left_unchanged():
    est = torch.randn(2, 3, 100, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(mixture_consistency(est, est.sum(1)), est)


def test_power_weighting_keeps_silent_channels_nearly_silent():
    est = torch.zeros(1, 2, 100)
    est[0, 0] = torch.randn(100, generator=torch.Generator().manual_seed(2))
    out = mixture_consistency(est, est[:, 0] * 1.5, "power")
    assert out[0, 1].abs().max() < 1e-4


def test_unknown_weighting_is_rejected():
    with pytest.raises(ValueError, match="weighting"):
        mixture_consistency(torch.zeros(1, 2, 10), torch.zeros(1, 10), "equal")
