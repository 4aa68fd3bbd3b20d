import itertools

import torch

from audiorep.objectives.pit import best_permutation, pit_loss


def test_best_permutation_matches_exhaustive_search():
    g = torch.Generator().manual_seed(0)
    cost = torch.rand(6, 4, 4, generator=g)
    chosen = best_permutation(cost)
    for b in range(6):
        best = min(sum(cost[b, k, p[k]] for k in range(4)) for p in itertools.permutations(range(4)))
        got = sum(cost[b, k, chosen[b, k]] for k in range(4))
        assert abs(float(got - best)) < 1e-6
        assert len(set(chosen[b].tolist())) == 4


def test_pit_recovers_shuffled_sources_and_pads_silent_slots():
    g = torch.Generator().manual_seed(1)
    sources = torch.randn(3, 2, 500, generator=g)
    est = torch.stack([torch.zeros(3, 500), sources[:, 1], torch.zeros(3, 500), sources[:, 0]], dim=1)
    loss, channel = pit_loss(est, sources, max_snr_db=30.0, return_assignment=True)
    torch.testing.assert_close(loss, torch.full((3,), -30.0), atol=1e-3, rtol=0)
    assert channel.tolist() == [[3, 1]] * 3
    # putting both sources into one channel is worse than separating them
    merged = torch.stack([sources.sum(1), torch.zeros(3, 500), torch.zeros(3, 500), torch.zeros(3, 500)], 1)
    assert (pit_loss(merged, sources) > loss + 10).all()


def _two_sources_and_collapse(slots: int, channels: int = 4, t: int = 800):
    g = torch.Generator().manual_seed(2)
    active = torch.randn(5, 2, t, generator=g)
    sources = torch.cat([active, torch.zeros(5, slots - 2, t)], dim=1)  # silent padding slots
    separated = torch.zeros(5, channels, t)
    separated[:, 2], separated[:, 0] = active[:, 0], active[:, 1]  # shuffled, extra channels silent
    collapsed = torch.zeros(5, channels, t)
    collapsed[:, 1] = active.sum(1)  # the mixture passed through one channel
    return sources, separated, collapsed


def test_pit_scores_active_sources_only_so_padding_cannot_favour_collapse():
    # The old loss averaged over all M slots: silent padding scored -30 dB for any quiet
    # channel, so "mixture in one channel" looked nearly as good as separation and PIT
    # training collapsed to it. Now the gap is the full 30 dB whatever the padding.
    for slots in (2, 4):
        sources, separated, collapsed = _two_sources_and_collapse(slots)
        good, bad = pit_loss(separated, sources), pit_loss(collapsed, sources)
        torch.testing.assert_close(good, torch.full((5,), -30.0), atol=1e-3, rtol=0)
        assert (bad > good + 25).all()
        assert (bad > -1.0).all()  # collapse earns nothing: each source is ~0 dB SNR
    # the number of padding slots does not change the loss
    s2, sep2, col2 = _two_sources_and_collapse(2)
    s4, sep4, col4 = _two_sources_and_collapse(4)
    torch.testing.assert_close(pit_loss(col2, s2), pit_loss(col4, s4))


def test_pit_gradient_from_collapse_points_toward_separation():
    sources, _, collapsed = _two_sources_and_collapse(4)
    # moving part of source 2 out of the collapsed channel into a free one lowers the loss
    moved = collapsed.clone()
    moved[:, 1] -= 0.3 * sources[:, 1]
    moved[:, 3] += 0.3 * sources[:, 1]
    assert (pit_loss(moved, sources) < pit_loss(collapsed, sources) - 1.0).all()


def test_pit_silent_weight_asks_unmatched_channels_to_be_quiet():
    sources, separated, _ = _two_sources_and_collapse(4)
    noisy = separated.clone()
    noisy[:, 1] += 0.1 * torch.randn(5, 800, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(pit_loss(noisy, sources), pit_loss(separated, sources), atol=1e-3)
    assert (pit_loss(noisy, sources, silent_weight=0.1) > pit_loss(separated, sources, silent_weight=0.1) + 0.2).all()
    # no active source at all: the silent slots are still scored, not divided by zero
    assert torch.isfinite(pit_loss(noisy, torch.zeros(5, 2, 800))).all()
