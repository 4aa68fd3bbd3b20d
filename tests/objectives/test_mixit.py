import itertools

import pytest
import torch

from audiorep.objectives.mixit import mixit_assignments, mixit_loss
from audiorep.objectives.si_snr import power_with_silence_floor, thresholded_negative_snr


def brute_force_mixit(est, refs, max_snr_db=30.0):
    """Reference implementation: loop over every example and every assignment."""
    b, m, _ = est.shape
    n = refs.shape[1]
    out = []
    for i in range(b):
        power = power_with_silence_floor(refs[i : i + 1], refs[i].sum(0).pow(2).sum().reshape(1))[0]
        best = None
        for labels in itertools.product(range(n), repeat=m):
            remix = torch.stack([est[i, [c for c in range(m) if labels[c] == j]].sum(0) for j in range(n)])
            loss = thresholded_negative_snr(remix, refs[i], max_snr_db, reference_power=power).mean()
            best = loss if best is None else torch.minimum(best, loss)
        out.append(best)
    return torch.stack(out)


@pytest.mark.parametrize("m,n", [(4, 2), (3, 3), (8, 2)])
def test_mixit_equals_brute_force_on_random_inputs(m, n):
    g = torch.Generator().manual_seed(m * 10 + n)
    est = torch.randn(3, m, 256, generator=g, dtype=torch.float64)
    refs = torch.randn(3, n, 256, generator=g, dtype=torch.float64)
    torch.testing.assert_close(mixit_loss(est, refs), brute_force_mixit(est, refs), atol=1e-6, rtol=1e-6)


def test_best_assignment_found_for_shuffled_true_sources():
    g = torch.Generator().manual_seed(0)
    sources = torch.randn(5, 4, 400, generator=g)  # sources 0,1 -> mixture 0; 2,3 -> mixture 1
    refs = torch.stack([sources[:, :2].sum(1), sources[:, 2:].sum(1)], dim=1)
    perm = torch.stack([torch.randperm(4, generator=g) for _ in range(5)])
    shuffled = sources.gather(1, perm.unsqueeze(-1).expand(-1, -1, 400))
    loss, assignment = mixit_loss(shuffled, refs, max_snr_db=30.0, return_assignment=True)
    torch.testing.assert_close(loss, torch.full((5,), -30.0), atol=1e-3, rtol=0)
    expected = (perm >= 2).long()  # which mixture each shuffled channel belongs to
    assert torch.equal(assignment.argmax(1), expected)


def test_silent_second_mixture_asks_for_silent_channels_and_stays_finite():
    g = torch.Generator().manual_seed(3)
    mix = torch.randn(2, 300, generator=g)
    refs = torch.stack([mix, torch.zeros_like(mix)], dim=1)
    good = torch.stack([mix, torch.zeros_like(mix), torch.zeros_like(mix), torch.zeros_like(mix)], 1)
    loss = mixit_loss(good, refs)
    assert torch.isfinite(loss).all() and (loss < -29).all()
    est = torch.randn(2, 4, 300, generator=g, requires_grad=True)
    mixit_loss(est, refs).sum().backward()
    assert torch.isfinite(est.grad).all()


def test_assignments_cover_every_channel_once():
    table = mixit_assignments(4, 2)
    assert table.shape == (16, 2, 4)
    assert torch.equal(table.sum(1), torch.ones(16, 4))
    assert len({tuple(a.flatten().tolist()) for a in table}) == 16
