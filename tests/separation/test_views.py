import pytest
import torch

from audiorep.separation.mixture_consistency import mixture_consistency
from audiorep.separation.views import VIEW_KINDS, SeparationFrontEnd, separation_views


def channels_and_mixture(b=6, m=4, t=800, seed=0):
    g = torch.Generator().manual_seed(seed)
    mixture = torch.randn(b, t, generator=g)
    raw = torch.randn(b, m, t, generator=g)
    return mixture_consistency(raw, mixture), mixture  # channels sum to the mixture


def test_a_remix_of_all_channels_is_the_mixture():
    channels, mixture = channels_and_mixture()
    views, masks, _ = separation_views(channels, torch.zeros(6, dtype=torch.long))
    assert torch.all(masks == 1)
    torch.testing.assert_close(views, mixture, rtol=1e-4, atol=1e-4)


def test_removed_channel_is_absent_and_the_rest_are_present():
    channels, mixture = channels_and_mixture()
    views, masks, _ = separation_views(channels, torch.full((6,), VIEW_KINDS.index("removed")))
    assert torch.all(masks.sum(1) == 3)
    gone = (masks == 0).nonzero()
    for i, k in gone.tolist():
        torch.testing.assert_close(views[i], mixture[i] - channels[i, k], rtol=1e-4, atol=1e-4)


def test_single_channel_views_pick_energetic_channels():
    channels, _ = channels_and_mixture(b=200, m=4)
    channels[:, 2:] = 0  # two silent channels, as separators often leave
    views, masks, _ = separation_views(channels, torch.full((200,), VIEW_KINDS.index("channel")),
                                       torch.Generator().manual_seed(1))
    assert torch.all(masks.sum(1) == 1) and masks[:, 2:].sum() == 0
    chosen = masks.argmax(1)
    torch.testing.assert_close(views, channels[torch.arange(200), chosen])


def test_remixes_are_non_empty_subsets_and_kinds_follow_probabilities():
    channels, _ = channels_and_mixture(b=400)
    _, masks, kinds = separation_views(channels, generator=torch.Generator().manual_seed(2), probs=(0, 0, 1, 0))
    assert torch.all(kinds == 2) and torch.all(masks.sum(1) >= 1) and (masks.sum(1) < 4).any()
    with pytest.raises(ValueError, match="channels"):
        separation_views(torch.zeros(2, 100))


class Halves(torch.nn.Module):
    """A stand-in separator: channel 0 = scale * input, channel 1 = rest."""

    def __init__(self, scale):
        super().__init__()
        self.scale, self.num_channels = scale, 2

    def forward(self, x):
        return torch.stack([self.scale * x, (1 - self.scale) * x], 1)


def test_front_end_draws_a_separator_per_example_and_keeps_mixture_consistency():
    front = SeparationFrontEnd([Halves(0.25), Halves(0.75)])
    x = torch.randn(64, 100)
    channels, which = front(x, torch.Generator().manual_seed(0))
    assert set(which.tolist()) == {0, 1}
    expected = torch.where((which == 0)[:, None], 0.25 * x, 0.75 * x)
    torch.testing.assert_close(channels[:, 0], expected)
    torch.testing.assert_close(channels.sum(1), x)
