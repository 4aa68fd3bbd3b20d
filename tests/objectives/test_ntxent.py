import math
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from audiorep.objectives.ntxent import nt_xent


def test_hand_worked_example():
    # Two pairs of identical orthogonal unit vectors, temperature 1: each query sees its
    # partner at cosine 1 and two negatives at cosine 0, so loss = -log(e / (e + 2)).
    z = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    loss = nt_xent(z, z.clone(), temperature=1.0)
    assert loss.item() == pytest.approx(math.log(1 + 2 / math.e), rel=1e-6)


def test_matches_explicit_softmax_over_2n_minus_1_candidates():
    torch.manual_seed(0)
    a, b, t = torch.randn(5, 8), torch.randn(5, 8), 0.3
    z = torch.nn.functional.normalize(torch.cat([a, b]), dim=1)
    n = 5
    losses = []
    for i in range(2 * n):
        partner = (i + n) % (2 * n)
        sims = torch.stack([z[i] @ z[j] / t for j in range(2 * n) if j != i])
        others = [j for j in range(2 * n) if j != i]
        losses.append(-(sims[others.index(partner)] - torch.logsumexp(sims, 0)))
    assert nt_xent(a, b, t).item() == pytest.approx(torch.stack(losses).mean().item(), rel=1e-5)


def test_aligned_pairs_score_lower_than_shuffled():
    torch.manual_seed(1)
    a = torch.randn(16, 32)
    assert nt_xent(a, a + 0.01 * torch.randn_like(a)) < nt_xent(a, a[torch.randperm(16)])


def test_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="nt_xent expects"):
        nt_xent(torch.randn(4, 8), torch.randn(5, 8))


def _ddp_worker(rank, world, tmp, a, b):
    dist.init_process_group("gloo", init_method=f"file://{tmp}/init", rank=rank, world_size=world)
    n = a.shape[0] // world
    za = a[rank * n:(rank + 1) * n].clone().requires_grad_(True)
    zb = b[rank * n:(rank + 1) * n].clone().requires_grad_(True)
    loss = nt_xent(za, zb, 0.5, gather=True)
    loss.backward()
    torch.save((loss.detach(), za.grad, zb.grad), f"{tmp}/rank{rank}.pt")
    dist.destroy_process_group()


def test_gathered_negatives_across_two_ranks_equal_the_full_batch_loss_and_gradient(tmp_path):
    torch.manual_seed(2)
    a, b = torch.randn(8, 6), torch.randn(8, 6)
    full_a, full_b = a.clone().requires_grad_(True), b.clone().requires_grad_(True)
    full = nt_xent(full_a, full_b, 0.5)
    full.backward()
    mp.spawn(_ddp_worker, args=(2, str(tmp_path), a, b), nprocs=2, join=True)
    results = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    # Each rank's loss averages its own queries and DDP averages gradients over ranks, so the
    # mean over ranks must equal one big batch: loss and gradients alike.
    assert (results[0][0] + results[1][0]).item() / 2 == pytest.approx(full.item(), rel=1e-5)
    torch.testing.assert_close(torch.cat([r[1] for r in results]) / 2, full_a.grad, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(torch.cat([r[2] for r in results]) / 2, full_b.grad, rtol=1e-5, atol=1e-7)
