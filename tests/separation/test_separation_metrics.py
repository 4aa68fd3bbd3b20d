import torch

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
    est = mix.unsqueeze(1).repeat(1, 2, 1)
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
