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


def _ddp_worker(rank, world, tmp, a, b, sizes):
    dist.init_process_group("gloo", init_method=f"file://{tmp}/init", rank=rank, world_size=world)
    start = sum(sizes[:rank])
    za = a[start:start + sizes[rank]].clone().requires_grad_(True)
    zb = b[start:start + sizes[rank]].clone().requires_grad_(True)
    loss = nt_xent(za, zb, 0.5, gather=True)
    loss.backward()
    torch.save((loss.detach(), za.grad, zb.grad), f"{tmp}/rank{rank}.pt")
    dist.destroy_process_group()


def _per_rank_reference(a, b, sizes, t=0.5):
    """Each rank's loss computed in one process: its own queries against every rank's keys."""
    za, zb = torch.nn.functional.normalize(a, dim=1), torch.nn.functional.normalize(b, dim=1)
    keys, m = torch.cat([za, zb]), a.shape[0]
    losses, start = [], 0
    for n in sizes:
        idx = torch.arange(start, start + n)
        queries = torch.cat([za[idx], zb[idx]])
        logits = queries @ keys.T / t
        logits[torch.arange(2 * n), torch.cat([idx, idx + m])] = float("-inf")
        losses.append(torch.nn.functional.cross_entropy(logits, torch.cat([idx + m, idx])))
        start += n
    return losses


@pytest.mark.parametrize("sizes", [(4, 4), (3, 5)])
def test_gathered_negatives_across_two_ranks_match_one_process(tmp_path, sizes):
    torch.manual_seed(2)
    a, b = torch.randn(8, 6), torch.randn(8, 6)
    mp.spawn(_ddp_worker, args=(2, str(tmp_path), a, b, list(sizes)), nprocs=2, join=True)
    results = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    # every rank's loss sees all 2 x 8 keys, whatever the batch sizes
    for got, ref in zip(results, _per_rank_reference(a, b, sizes)):
        assert got[0].item() == pytest.approx(ref.item(), rel=1e-5)
    # The reference gradient is that of the mean of the ranks' losses (what DDP optimises).
    ra, rb = a.clone().requires_grad_(True), b.clone().requires_grad_(True)
    torch.stack(_per_rank_reference(ra, rb, sizes)).mean().backward()
    torch.testing.assert_close(torch.cat([r[1] for r in results]) / 2, ra.grad, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(torch.cat([r[2] for r in results]) / 2, rb.grad, rtol=1e-5, atol=1e-7)
    if sizes[0] == sizes[1]:  # equal shares: exactly one big batch
        fa, fb = a.clone().requires_grad_(True), b.clone().requires_grad_(True)
        full = nt_xent(fa, fb, 0.5)
        full.backward()
        assert (results[0][0] + results[1][0]).item() / 2 == pytest.approx(full.item(), rel=1e-5)
        torch.testing.assert_close(torch.cat([r[1] for r in results]) / 2, fa.grad, rtol=1e-5, atol=1e-7)
