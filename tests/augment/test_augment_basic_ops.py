import math

import numpy as np

import pytest
import torch

from audiorep.augment.compose import build_chain
from audiorep.augment.crop import RandomCrop
from audiorep.augment.gain import Fade, Gain, PolarityInversion
from audiorep.augment.masking import FrequencyMask, TimeMask
from audiorep.augment.noise import BackgroundMix, ColoredNoise
from audiorep.errors import ConfigError

from augment_signals import SR, band_energy, gen


def snr_db(clean, noisy):
    noise = noisy - clean
    return 10 * torch.log10(clean.double().square().mean(-1) / noise.double().square().mean(-1))


def test_random_crop_takes_contiguous_excerpts_at_different_offsets():
    x = torch.arange(10 * SR, dtype=torch.float32).expand(64, -1)
    y = RandomCrop(seconds=1.0, sample_rate=SR)(x, gen())
    assert y.shape == (64, SR)
    assert torch.all(y[:, 1:] - y[:, :-1] == 1)  # contiguous
    assert y[:, 0].unique().numel() > 32  # offsets independent per example
    assert y[:, 0].min() >= 0 and y[:, -1].max() <= 10 * SR - 1


def test_random_crop_pads_short_clips_and_centres_unchosen_examples():
    y = RandomCrop(seconds=1.0, sample_rate=100)(torch.ones(2, 60), gen())
    assert y.shape == (2, 100) and torch.all(y[:, 60:] == 0)
    x = torch.arange(300.0).expand(3, -1)
    assert torch.all(RandomCrop(seconds=1.0, sample_rate=100, p=0.0)(x, gen())[:, 0] == 100)


def test_gain_scales_by_a_per_example_db_within_range():
    x = torch.randn(500, 100, generator=gen(1))
    y = Gain(db=[-6, 6])(x, gen())
    db = 20 * torch.log10(y.norm(dim=1) / x.norm(dim=1))
    assert db.min() >= -6 - 1e-4 and db.max() <= 6 + 1e-4
    assert db.std() > 2.5  # spread over the range, not one value


def test_polarity_and_fade():
    x = torch.ones(4, 1000)
    assert torch.equal(PolarityInversion(p=1.0)(x, gen()), -x)
    y = Fade(fade_in=[0.1, 0.1], fade_out=[0.2, 0.2])(x, gen())
    assert y[:, 0].abs().max() < 1e-6 and torch.allclose(y[:, 50], torch.tensor(0.5), atol=0.01)
    assert torch.all(y[:, 100:800] == 1) and torch.allclose(y[:, 899], torch.tensor(0.5), atol=0.01)


@pytest.mark.parametrize("color", ["white", "pink", "brown"])
def test_noise_at_10_db_measures_10_db(speech_like, color):
    y = ColoredNoise(snr_db=[10, 10], colors=[color])(speech_like, gen())
    assert torch.allclose(snr_db(speech_like, y), torch.tensor(10.0, dtype=torch.float64), atol=0.2)


def test_noise_colours_have_their_spectral_slope():
    x = torch.full((16, SR), 1e-3) * torch.randn(16, SR, generator=gen(3))  # quiet carrier
    slopes = {}
    for color in ("white", "pink", "brown"):
        noise = ColoredNoise(snr_db=[0, 0], colors=[color])(x, gen(4)) - x
        low, high = band_energy(noise, 100, 200).mean(), band_energy(noise, 1600, 3200).mean()
        # per-octave energy ratio between 100-200 Hz and 1600-3200 Hz (4 octaves up)
        slopes[color] = 10 * math.log10(low / high)
    # band energies: white +3 dB/octave up, pink flat, brown -3 dB/octave up
    assert slopes["white"] == pytest.approx(-12.0, abs=1.5)
    assert slopes["pink"] == pytest.approx(0.0, abs=1.5)
    assert slopes["brown"] == pytest.approx(12.0, abs=1.5)


def test_noise_snr_drawn_per_example_in_range(speech_like):
    x = speech_like.repeat(16, 1)
    measured = snr_db(x, ColoredNoise(snr_db=[0, 20])(x, gen()))
    assert measured.min() >= -0.01 and measured.max() <= 20.01 and measured.std() > 3


def test_background_mix_at_snr_uses_bank_excerpts(speech_like):
    bank = torch.randn(3, SR // 2, generator=gen(5))
    op = BackgroundMix(snr_db=[10, 10], bank=bank)
    y = op(speech_like, gen())
    assert torch.allclose(snr_db(speech_like, y), torch.tensor(10.0, dtype=torch.float64), atol=0.2)
    with pytest.raises(ConfigError, match="set_bank"):
        BackgroundMix()(speech_like, gen())


def test_time_and_frequency_masks_fill_bands_with_the_example_mean():
    x = torch.randn(8, 64, 100, generator=gen(2)) + torch.arange(8.0)[:, None, None] * 10
    y = TimeMask(max_width=20, count=2)(x, gen())
    masked_frames = (y != x).all(dim=1)  # whole frames replaced
    assert masked_frames.any(dim=1).float().mean() > 0.5
    assert masked_frames.sum(1).max() <= 40
    assert torch.allclose(y.transpose(1, 2)[masked_frames], x.mean((1, 2)).repeat_interleave(masked_frames.sum(1))[:, None].expand(-1, 64))
    z = FrequencyMask(max_width=8, count=1)(x, gen())
    masked_bins = (z != x).all(dim=2)
    assert masked_bins.sum(1).max() <= 8 and masked_bins.any()
    with pytest.raises(ValueError, match=r"\[batch, mels, frames\]"):
        TimeMask()(torch.zeros(2, 100), gen())


def test_background_excerpts_start_at_the_drawn_offset_and_wrap():
    from audiorep.augment.noise import wrapped_windows

    bank = torch.arange(2 * 5, dtype=torch.float32).view(2, 5)  # clips shorter than the excerpt
    windows = wrapped_windows(bank, 7)
    assert windows.shape == (2, 5, 7)
    assert windows[1, 3].tolist() == [8, 9, 5, 6, 7, 8, 9]  # clip 1 from sample 3, wrapping twice
    assert windows[0, 0].tolist() == [0, 1, 2, 3, 4, 0, 1]


def test_a_recipe_names_its_background_folder_and_bad_files_are_skipped(tmp_path, write_audio, speech_like):
    for i in range(3):
        write_audio(f"noise/n{i}.wav", (0.1 * np.random.default_rng(i).standard_normal(SR)).astype(np.float32), SR)
    (tmp_path / "noise" / "broken.wav").write_bytes(b"RIFF....WAVEnot audio")
    chain = build_chain([{"name": "background", "path": str(tmp_path / "noise"), "seconds": 0.5,
                          "snr_db": [10, 10]}], sample_rate=SR)
    assert chain[0].bank.shape == (3, SR // 2)
    y = chain(speech_like, gen())
    assert torch.allclose(snr_db(speech_like, y), torch.tensor(10.0, dtype=torch.float64), atol=0.2)
    (tmp_path / "only_broken").mkdir()
    (tmp_path / "only_broken" / "broken.wav").write_bytes(b"RIFF....WAVEnot audio")
    with pytest.raises(ConfigError, match="no usable audio in .*only_broken.*broken.wav"):
        build_chain([{"name": "background", "path": str(tmp_path / "only_broken")}], sample_rate=SR)
