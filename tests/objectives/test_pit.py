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
