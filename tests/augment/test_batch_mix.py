import pytest
import torch

from audiorep.augment.batch_mix import BatchMix
from audiorep.objectives.cross_modal import cross_modal_nce


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def batch(b=8, t=400, seed=0):
    g = gen(seed)
    return torch.randn(b, t, generator=g), torch.rand(b, 4, 3, 8, 8, generator=g)


def test_credits_both_sources_with_the_right_weights():
    audio, frames = batch()
    mix = BatchMix(p=1.0, lam=(0.6, 0.9))
    out = mix(audio, frames, gen(1))
    partner, lam = mix.last_partner, mix.last_lam
    i = torch.arange(8)
    assert (partner != i).all() and ((lam >= 0.6) & (lam < 0.9)).all()
    t = out.targets
    assert t.shape == (8, 8) and t.dtype == torch.float32
    torch.testing.assert_close(t.sum(1), torch.ones(8))
    torch.testing.assert_close(t[i, i], lam.float())
    torch.testing.assert_close(t[i, partner], 1 - lam.float())
    assert ((t > 0).sum(1) == 2).all()  # nothing else is credited
    # the mixed audio is exactly lam a_i + (1 - lam) a_partner; frames are left clean by default
    w = lam.float()[:, None]
    assert torch.equal(out.audio, w * audio + (1 - w) * audio[partner])
    assert out.frames is frames


def test_a_known_draw_by_hand():
    # the draw order is: which examples, their ratios, their partners
    g = gen(5)
    chosen = torch.rand(4, generator=g) < 0.5
    lam = 0.5 + 0.5 * torch.rand(4, generator=g, dtype=torch.float64)
    partner = (torch.arange(4) + 1 + (torch.rand(4, generator=g, dtype=torch.float64) * 3).long()) % 4
    audio = torch.arange(4.0)[:, None].repeat(1, 3)  # example i is the constant i
    mix = BatchMix(p=0.5, lam=(0.5, 1.0))
    out = mix(audio, generator=gen(5))
    for i in range(4):
        if chosen[i]:
            own, other = float(lam[i]), 1 - float(lam[i])
            assert out.audio[i, 0].item() == pytest.approx(own * i + other * int(partner[i]), rel=1e-6)
            assert out.targets[i, i].item() == pytest.approx(own) and out.targets[i, partner[i]].item() == pytest.approx(other)
        else:
            assert torch.equal(out.audio[i], audio[i]) and out.targets[i].tolist() == torch.eye(4)[i].tolist()
    assert 0 < int(chosen.sum()) < 4  # this seed mixes some examples and leaves others


def test_p_zero_is_the_identity_with_identity_targets():
    audio, frames = batch()
    out = BatchMix(p=0.0, mix_frames=True)(audio, frames, gen(2))
    assert out.audio is audio and out.frames is frames
    assert torch.equal(out.targets, torch.eye(8))


def test_same_seed_same_draws_and_the_stream_does_not_depend_on_p():
    audio, frames = batch()
    a, b = BatchMix(p=0.7), BatchMix(p=0.7)
    out_a, out_b = a(audio, frames, gen(3)), b(audio, frames, gen(3))
    assert torch.equal(out_a.audio, out_b.audio) and torch.equal(out_a.targets, out_b.targets)
    assert not torch.equal(a(audio, frames, gen(4)).targets, out_a.targets)
    g1, g2 = gen(9), gen(9)
    BatchMix(p=0.1)(audio, generator=g1)
    BatchMix(p=0.9)(audio, generator=g2)
    assert torch.equal(g1.get_state(), g2.get_state())


def test_never_mixes_an_example_with_itself():
    audio = torch.randn(1, 100)
    mix = BatchMix(p=1.0)
    out = mix(audio, generator=gen(0))
    assert torch.equal(out.audio, audio) and torch.equal(out.targets, torch.ones(1, 1))
    for seed in range(20):
        mix(torch.randn(2, 10), generator=gen(seed))
        assert mix.last_partner.tolist() == [1, 0]


def test_mixed_frames_share_partner_and_ratio_and_targets_become_shared_content():
    audio, frames = batch()
    mix = BatchMix(p=1.0, mix_frames=True)
    out = mix(audio, frames, gen(6))
    w = mix.last_lam.float().view(-1, 1, 1, 1, 1)
    torch.testing.assert_close(out.frames, w * frames + (1 - w) * frames[mix.last_partner])
    c = mix.last_composition.float()
    torch.testing.assert_close(out.targets, c @ c.T)  # audio i and video j share sum_k C[i,k] C[j,k]
    u8 = (frames * 255).round().to(torch.uint8)
    mixed_u8 = BatchMix(p=1.0, mix_frames=True)(audio, u8, gen(6)).frames
    assert mixed_u8.dtype == torch.uint8
    assert (mixed_u8.float() - (w * u8.float() + (1 - w) * u8[mix.last_partner].float())).abs().max() <= 0.5


def rms(x):
    return x.square().mean(1).sqrt()


def test_keep_rms_restores_the_own_level_and_keeps_the_proportions():
    audio, _ = batch()
    plain, kept = BatchMix(p=1.0, lam=(0.5, 0.7)), BatchMix(p=1.0, lam=(0.5, 0.7), keep_rms=True)
    a, b = plain(audio, generator=gen(7)).audio, kept(audio, generator=gen(7)).audio
    assert (rms(a) < 0.95 * rms(audio)).all()  # two uncorrelated clips: quieter than either
    torch.testing.assert_close(rms(b), rms(audio))
    torch.testing.assert_close(b / rms(b)[:, None], a / rms(a)[:, None])


def test_with_the_targets_the_loss_prefers_audio_that_holds_both_sources():
    # "content" embeddings stand in for clips: an audio embedding that is the same mix of the two
    # clips' video embeddings scores better under the soft targets than one of its own clip alone,
    # and worse under the one-hot targets, which credit its own clip only
    torch.manual_seed(0)
    video = torch.nn.functional.normalize(torch.randn(8, 64), dim=1)
    mix = BatchMix(p=1.0, lam=(0.5, 0.7))
    out = mix(video, generator=gen(8))
    mixed, clean = out.audio, video
    for temperature in (0.1, 0.5):
        assert cross_modal_nce(mixed, video, temperature, targets=out.targets) < \
            cross_modal_nce(clean, video, temperature, targets=out.targets)
        assert cross_modal_nce(clean, video, temperature) < cross_modal_nce(mixed, video, temperature)


def test_rejects_bad_settings_and_shapes():
    with pytest.raises(ValueError, match="lam"):
        BatchMix(lam=(0.0, 0.5))
    with pytest.raises(ValueError, match="p must be"):
        BatchMix(p=1.5)
    with pytest.raises(ValueError, match="videos"):
        BatchMix()(torch.randn(4, 10), torch.rand(3, 2, 3, 8, 8))
