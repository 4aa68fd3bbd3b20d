import pytest
import torch

from audiorep.augment.mixing import LogMixupExp, Mixup, SceneMix
from audiorep.augment.resized_crop import RandomResizedCrop

from augment_signals import gen


def test_resized_crop_at_scale_one_is_identity_and_zooms_in_time():
    x = torch.randn(3, 64, 100, generator=gen(1))
    same = RandomResizedCrop(time_scale=[1, 1], freq_scale=[1, 1])(x, gen())
    assert torch.allclose(same, x, atol=1e-4)
    ramp = torch.arange(100.0).expand(4, 64, -1).contiguous()
    y = RandomResizedCrop(time_scale=[0.5, 0.5], freq_scale=[1, 1])(ramp, gen())
    slope = (y[:, :, 80] - y[:, :, 20]) / 60
    assert torch.allclose(slope, torch.full_like(slope, 0.5), atol=1e-4)  # half the clip over the full width
    assert torch.all(y[:, :, 5] >= -0.5) and torch.all(y[:, :, 95] <= 99.5)  # stays inside the clip
    assert y[:, 0, 50].unique().numel() > 1  # crop position drawn per example


def test_resized_crop_zoom_out_pads_with_the_example_floor():
    x = torch.randn(2, 32, 50, generator=gen(2))
    y = RandomResizedCrop(time_scale=[2, 2], freq_scale=[1, 1])(x, gen())
    floor = x.amin((1, 2))
    assert torch.all((y == floor[:, None, None]).float().mean((1, 2)) > 0.4)


def test_mixup_mixes_each_example_with_another_at_its_ratio():
    x = torch.eye(8)[:, None, :].repeat(1, 1, 1).squeeze(1) * 10  # one-hot rows, easy to read back
    op = Mixup(ratio=[0.1, 0.4])
    y = op(x, gen())
    partner, ratio = op.last_partner, op.last_ratio
    assert torch.all(partner != torch.arange(8))
    assert torch.all((ratio >= 0.1) & (ratio <= 0.4))
    assert torch.allclose(y[torch.arange(8), torch.arange(8)], 10 * (1 - ratio).float())
    assert torch.allclose(y[torch.arange(8), partner], 10 * ratio.float())


def test_log_mixup_exp_mixes_in_the_linear_domain_with_queued_examples():
    op = LogMixupExp(ratio=[0.25, 0.25], queue_size=4)
    first = torch.log(torch.full((2, 3, 5), 4.0))
    op(first, gen())  # fills the queue
    quiet = torch.log(torch.full((2, 3, 5), 1e-6))
    y = op(quiet, gen())
    assert torch.allclose(y.exp(), torch.full_like(y, 0.75 * 1e-6 + 0.25 * 4.0), rtol=1e-4)
    assert op.queue.shape == (4, 3, 5)
    for _ in range(3):
        op(quiet, gen())
    assert op.queue.shape == (4, 3, 5) and torch.allclose(op.queue, quiet[0])  # FIFO dropped the old ones
    with pytest.raises(ValueError, match="shape changed"):
        op(torch.zeros(2, 3, 6), gen())


def test_scene_mix_sums_the_drawn_members_at_their_relative_levels():
    x = torch.eye(12) * torch.arange(1.0, 13.0)[:, None]  # example i: a single spike of height i + 1
    op = SceneMix(sources=[1, 3], gain_db=[0, 0])
    y = op(x, gen(4))
    members = op.last_members
    counts = (members >= 0).sum(1)
    assert counts.min() >= 1 and counts.max() <= 3 and len(counts.unique()) > 1
    for i in range(12):
        expected = torch.zeros(12)
        for j in members[i][members[i] >= 0].tolist():
            expected[j] += i + 1.0  # every member at the level (RMS) of example i: 0 dB
        assert torch.allclose(y[i], expected, atol=1e-5), i
    assert torch.all(members[:, 0] == torch.arange(12)) and torch.all(members[:, 1:] != torch.arange(12)[:, None])


def test_scene_mix_rejects_fractional_source_counts():
    with pytest.raises(ValueError, match="whole numbers"):
        SceneMix(sources=[1.5, 2])
