import math

import pytest
import torch

from audiorep.models.heads import CoincidenceHead
from audiorep.objectives.coincidence import coincidence_loss, coincidence_pairs, derangement


@pytest.mark.parametrize("n", [2, 3, 17])
def test_negatives_never_pair_a_scene_with_itself(n):
    for seed in range(20):
        d = derangement(n, torch.Generator().manual_seed(seed))
        assert sorted(d.tolist()) == list(range(n)) and not (d == torch.arange(n)).any()


def test_pairs_and_labels():
    left, right, labels = coincidence_pairs(5, torch.Generator().manual_seed(0))
    same = left == right
    assert torch.equal(labels.bool(), same)
    assert labels.sum() == 5 and len(labels) == 10


def test_loss_is_binary_cross_entropy_on_logits():
    logits, labels = torch.tensor([0.0, 2.0]), torch.tensor([1.0, 0.0])
    expected = (math.log(2) + math.log(1 + math.e**2)) / 2
    assert coincidence_loss(logits, labels).item() == pytest.approx(expected, rel=1e-6)


def test_head_learns_to_tell_same_scene_pairs():
    torch.manual_seed(0)
    head = CoincidenceHead(8, 32)
    opt = torch.optim.Adam(head.parameters(), 1e-2)
    scenes = torch.randn(64, 8)
    for _ in range(150):
        a, b = scenes + 0.1 * torch.randn_like(scenes), scenes + 0.1 * torch.randn_like(scenes)
        left, right, labels = coincidence_pairs(64)
        loss = coincidence_loss(head(a[left], b[right]), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.2
