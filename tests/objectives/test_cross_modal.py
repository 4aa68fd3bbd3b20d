import math
import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from audiorep.objectives.cross_modal import cross_modal_nce

R = 1 / math.sqrt(2)


def nll(scores: list[float], weights: list[float]) -> float:
    """-sum_j w_j log softmax(scores)_j, by hand."""
    log_z = math.log(sum(math.exp(s) for s in scores))
    return -sum(w * (s - log_z) for s, w in zip(scores, weights) if w)


# audio (1, 0), (0, 1); video (1, 0), (1, 1) -> cosines a1.v1 = 1, a1.v2 = 1/sqrt2, a2.v1 = 0, a2.v2 = 1/sqrt2
A = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
V = torch.tensor([[1.0, 0.0], [1.0, 1.0]])


def test_hand_worked_example():
    audio_to_video = [nll([1, R], [1, 0]), nll([0, R], [0, 1])]
    video_to_audio = [nll([1, 0], [1, 0]), nll([R, R], [0, 1])]  # the second is log 2
    expected = (sum(audio_to_video) / 2 + sum(video_to_audio) / 2) / 2
    assert video_to_audio[1] == pytest.approx(math.log(2))
    assert cross_modal_nce(A, V, temperature=1.0).item() == pytest.approx(expected, rel=1e-6)
    # temperature divides the cosines
    audio_to_video = [nll([2, 2 * R], [1, 0]), nll([0, 2 * R], [0, 1])]
    video_to_audio = [nll([2, 0], [1, 0]), nll([2 * R, 2 * R], [0, 1])]
    expected = (sum(audio_to_video) + sum(video_to_audio)) / 4
    assert cross_modal_nce(A, V, temperature=0.5).item() == pytest.approx(expected, rel=1e-6)


def test_hand_worked_soft_targets_use_rows_for_audio_and_columns_for_video():
    # audio 1 holds 3/4 of clip 1 and 1/4 of clip 2; audio 2 is clip 2 alone
    t = torch.tensor([[0.75, 0.25], [0.0, 1.0]])
    audio_to_video = [nll([1, R], [0.75, 0.25]), nll([0, R], [0, 1])]
    # video 1 is only in audio 1; video 2 is in audio 1 (0.25) and audio 2 (1): columns normalised
    video_to_audio = [nll([1, 0], [1, 0]), nll([R, R], [0.2, 0.8])]
    expected = (sum(audio_to_video) + sum(video_to_audio)) / 4
    assert cross_modal_nce(A, V, temperature=1.0, targets=t).item() == pytest.approx(expected, rel=1e-6)
    # affinities need not be normalised
    assert cross_modal_nce(A, V, 1.0, targets=4 * t).item() == pytest.approx(expected, rel=1e-6)


def brute_force(a, v, t, weights=None, queries=None):
    """Loop over rows: mean over `queries` of the two directions' soft cross-entropies."""
    a, v = F.normalize(a, dim=1), F.normalize(v, dim=1)
    weights = torch.eye(a.shape[0]) if weights is None else weights
    queries = range(a.shape[0]) if queries is None else queries
    a2v, v2a = [], []
    for i in queries:
        logits = torch.stack([a[i] @ v[j] / t for j in range(v.shape[0])])
        a2v.append(-(weights[i] / weights[i].sum() * torch.log_softmax(logits, 0)).sum())
        logits = torch.stack([v[i] @ a[j] / t for j in range(a.shape[0])])
        v2a.append(-(weights[:, i] / weights[:, i].sum() * torch.log_softmax(logits, 0)).sum())
    return (torch.stack(a2v).mean() + torch.stack(v2a).mean()) / 2


def test_equals_the_brute_force_loop_with_and_without_targets():
    torch.manual_seed(0)
    a, v = torch.randn(6, 5), torch.randn(6, 5)
    assert cross_modal_nce(a, v, 0.3).item() == pytest.approx(brute_force(a, v, 0.3).item(), rel=1e-5)
    w = torch.rand(6, 6) * (torch.rand(6, 6) < 0.3) + torch.eye(6)
    assert cross_modal_nce(a, v, 0.3, targets=w).item() == pytest.approx(brute_force(a, v, 0.3, w).item(), rel=1e-5)


def test_symmetric_in_its_two_directions_and_identity_targets_are_the_plain_loss():
    torch.manual_seed(1)
    a, v, w = torch.randn(7, 4), torch.randn(7, 4), torch.rand(7, 7)
    assert cross_modal_nce(a, v).item() == pytest.approx(cross_modal_nce(v, a).item(), rel=1e-6)
    assert cross_modal_nce(a, v, targets=w).item() == pytest.approx(cross_modal_nce(v, a, targets=w.T).item(),
                                                                    rel=1e-6)
    assert cross_modal_nce(a, v, targets=torch.eye(7)).item() == pytest.approx(cross_modal_nce(a, v).item(), rel=1e-6)


def test_aligned_pairs_score_lower_than_shuffled_and_shapes_are_checked():
    torch.manual_seed(2)
    a = torch.randn(16, 32)
    assert cross_modal_nce(a, a + 0.01 * torch.randn_like(a)) < cross_modal_nce(a, a[torch.randperm(16)])
    with pytest.raises(ValueError, match="cross_modal_nce expects"):
        cross_modal_nce(torch.randn(4, 8), torch.randn(5, 8))
    with pytest.raises(ValueError, match="targets must be"):
        cross_modal_nce(torch.randn(4, 8), torch.randn(4, 8), targets=torch.eye(3))


def test_computes_in_float32_under_bf16_inputs():
    torch.manual_seed(3)
    a, v = torch.randn(8, 16), torch.randn(8, 16)
    got = cross_modal_nce(a.bfloat16(), v.bfloat16(), targets=torch.eye(8).bfloat16())
    assert got.dtype == torch.float32
    assert got.item() == pytest.approx(cross_modal_nce(a.bfloat16().float(), v.bfloat16().float()).item(), rel=1e-6)


# ---- two ranks (gloo) against one process --------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


T = 0.5
CASES = {  # name -> (sizes per rank, kind of targets)
    "even": ((4, 4), None), "uneven": ((3, 5), None),
    "local_targets": ((3, 5), "local"), "global_targets": ((4, 4), "global"),
}


def case_data(sizes):
    g = torch.Generator().manual_seed(sum(sizes) * 10 + sizes[0])
    m = sum(sizes)
    a, v = torch.randn(m, 6, generator=g), torch.randn(m, 6, generator=g)
    blocks = torch.block_diag(*[torch.rand(n, n, generator=g) + torch.eye(n) for n in sizes])  # mixing within a rank
    dense = torch.rand(m, m, generator=g) + torch.eye(m)  # mixing across ranks
    return a, v, blocks, dense


def _worker(rank, world, port, tmp):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    out = {}
    for name, (sizes, kind) in CASES.items():
        a, v, blocks, dense = case_data(sizes)
        start, n = sum(sizes[:rank]), sizes[rank]
        rows = slice(start, start + n)
        za, zv = a[rows].clone().requires_grad_(True), v[rows].clone().requires_grad_(True)
        targets = None if kind is None else blocks[rows, rows] if kind == "local" else dense[rows]
        loss = cross_modal_nce(za, zv, T, gather=True, targets=targets)
        loss.backward()
        out[name] = (loss.detach(), za.grad, zv.grad)
    torch.save(out, f"{tmp}/rank{rank}.pt")
    dist.destroy_process_group()


def test_gathered_keys_across_two_ranks_match_one_process(tmp_path):
    mp.spawn(_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    for name, (sizes, kind) in CASES.items():
        a, v, blocks, dense = case_data(sizes)
        weights = None if kind is None else blocks if kind == "local" else dense
        ra, rv = a.clone().requires_grad_(True), v.clone().requires_grad_(True)
        # each rank's loss: its own queries against every rank's keys (brute force, one process)
        starts = [0, sizes[0]]
        per_rank = [brute_force(ra, rv, T, weights, range(s, s + n)) for s, n in zip(starts, sizes)]
        for r in range(2):
            assert ranks[r][name][0].item() == pytest.approx(per_rank[r].item(), rel=1e-5), name
        # DDP averages the ranks' gradients: the reference is the gradient of the mean of their losses
        torch.stack(per_rank).mean().backward()
        for k, ref in ((1, ra.grad), (2, rv.grad)):
            torch.testing.assert_close(torch.cat([ranks[r][name][k] for r in range(2)]) / 2, ref,
                                       rtol=1e-5, atol=1e-7, msg=name)
        if sizes[0] == sizes[1]:  # equal shares: exactly one big batch
            fa, fv = a.clone().requires_grad_(True), v.clone().requires_grad_(True)
            full = cross_modal_nce(fa, fv, T, targets=weights)
            full.backward()
            assert (ranks[0][name][0] + ranks[1][name][0]).item() / 2 == pytest.approx(full.item(), rel=1e-5)
            torch.testing.assert_close(torch.cat([ranks[r][name][1] for r in range(2)]) / 2, fa.grad,
                                       rtol=1e-5, atol=1e-7)
            torch.testing.assert_close(torch.cat([ranks[r][name][2] for r in range(2)]) / 2, fv.grad,
                                       rtol=1e-5, atol=1e-7)
