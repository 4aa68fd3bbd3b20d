import itertools

import pytest
import torch

from audiorep.objectives.si_snr import si_snr_matrix
from audiorep.separation.metrics import evaluate_separator, separation_scores

class Oracle(torch.nn.Module):
    """Returns the true sources (padded to 4 channels) of the mixtures it was built with."""

    def __init__(self, mixtures, sources):
        super().__init__()
        self.table = {m.sum().item(): s for m, s in zip(mixtures, sources)}

    def forward(self, mix):
        out = torch.stack([self.table[m.sum().item()] for m in mix])
        return torch.cat([out, torch.zeros(out.shape[0], 4 - out.shape[1], out.shape[2])], 1)


def test_unprocessed_mixture_scores_zero_improvement(toy_scenes):
    mix, src = toy_scenes(4, 3, seed=0)
    est = mix.unsqueeze(1).repeat(1, 3, 1)
    scores = separation_scores(est, src, mix)
    torch.testing.assert_close(scores["improvement"], torch.zeros(4, 3), atol=1e-3, rtol=0)


def test_oracle_separation_scores_high_and_single_sources_pass_through(toy_scenes):
    mix2, src2 = toy_scenes(6, 2, seed=1)
    mix1, src1 = toy_scenes(3, 1, seed=2)
    src1 = torch.cat([src1, torch.zeros_like(src1)], 1)  # a silent slot is not a source
    mixes, srcs = torch.cat([mix2, mix1]), torch.cat([src2, src1])
    summary = evaluate_separator(Oracle(mixes, srcs), mixes, srcs, batch_size=4)
    assert summary["2"]["n"] == 6 and summary["1"]["n"] == 3
    assert summary["2"]["msi"] > 40 and summary["1"]["single_source_si_snr"] > 40


def test_one_channel_is_never_credited_to_two_sources(toy_scenes):
    _, src = toy_scenes(5, 3, seed=3)
    merged = torch.stack([src[:, 0] + src[:, 1], src[:, 2], torch.zeros_like(src[:, 0])], 1)  # s1+s2, s3, silence
    scores = separation_scores(merged, src, src.sum(1))
    assert torch.all(scores["channel"][:, 0] != scores["channel"][:, 1])  # one-to-one
    assert torch.equal(scores["channel"][:, 2], torch.ones(5, dtype=torch.long))
    # the best-channel score credits the merged channel to both s1 and s2; the standard one does not
    assert torch.all(scores["best_channel_si_snr"][:, :2].sum(1) > scores["assigned_si_snr"][:, :2].sum(1) + 10)


def test_the_assignment_is_the_best_one_to_one_match_found_by_brute_force():
    g = torch.Generator().manual_seed(0)
    sources = torch.randn(6, 3, 400, generator=g)
    estimates = sources[:, [2, 0, 1, 0]] + 0.8 * torch.randn(6, 4, 400, generator=g)  # channel 3 also fits source 0
    scores = separation_scores(estimates, sources, sources.sum(1))
    si = si_snr_matrix(estimates, sources)
    for b in range(6):
        best = max(sum(float(si[b, k, m]) for k, m in enumerate(p)) for p in itertools.permutations(range(4), 3))
        assert float(scores["assigned_si_snr"][b].sum()) == pytest.approx(best, abs=1e-4)
        assert len(set(scores["channel"][b].tolist())) == 3


def test_summaries_keep_the_earlier_best_channel_figure_beside_the_standard_one(toy_scenes):
    mix, src = toy_scenes(8, 2, seed=4)
    class Merger(torch.nn.Module):  # puts everything in one channel: no separation at all
        def forward(self, x):
            return torch.stack([x, torch.zeros_like(x), torch.zeros_like(x)], 1)
    summary = evaluate_separator(Merger(), mix, src)
    assert summary["2"]["msi_best_channel"] == pytest.approx(0.0, abs=0.01)  # each source "found" in the mixture
    assert summary["2"]["msi"] < summary["2"]["msi_best_channel"] - 1.0  # but one of the two gets a silent channel
