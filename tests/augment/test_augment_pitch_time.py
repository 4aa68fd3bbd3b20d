import pytest
import torch

from audiorep.augment.pitch_shift import PitchShift, pitch_shift
from audiorep.augment.time_stretch import TimeStretch, time_stretch

from augment_signals import SR, gen, peak_frequency, tone


def active_seconds(x: torch.Tensor, threshold: float = 0.3, block: int = 40) -> float:
    envelope = x.abs().unfold(0, block, block).amax(1)
    on = (envelope > threshold).nonzero().squeeze(1)
    return float((on[-1] - on[0] + 1) * block / SR)


def test_440_hz_up_3_semitones_peaks_at_523_hz_same_length():
    x = tone(440.0, seconds=1.0)
    y = pitch_shift(x, torch.tensor([3.0]))
    assert y.shape == x.shape
    assert float(peak_frequency(y[:, 1000:-1000])) == pytest.approx(523.25, rel=0.01)


def test_pitch_shift_moves_every_partial_and_keeps_level():
    x = tone(300.0, batch=2) + 0.5 * tone(900.0, batch=2)
    y = pitch_shift(x, torch.tensor([-4.0, 4.0]))
    factor = torch.tensor([2 ** (-4 / 12), 2 ** (4 / 12)], dtype=torch.float64)
    assert torch.allclose(peak_frequency(y[:, 1000:-1000]), 300 * factor, rtol=0.005)
    assert torch.allclose(y.square().mean(1), x.square().mean(1), rtol=1e-3)
    # the 900 Hz partial moved too: little energy left at its old frequency
    spectrum = torch.fft.rfft(y[:, 1000:-1000].double()).abs()
    freqs = torch.fft.rfftfreq(y.shape[1] - 2000, 1 / SR)
    near = lambda f: spectrum[:, (freqs - f).abs() < 5].amax(1)  # noqa: E731
    assert torch.all(near(900.0) < 0.05 * near(900.0 * float(factor[1])).max())


def test_pitch_shift_module_draws_semitones_per_example():
    x = tone(500.0, batch=16)
    y = PitchShift(semitones=[-4, 4])(x, gen())
    semitones = 12 * torch.log2(peak_frequency(y[:, 1000:-1000]) / 500)
    assert semitones.min() >= -4.05 and semitones.max() <= 4.05 and semitones.std() > 1


def test_time_stretch_by_1_25_shortens_by_1_over_1_25_and_keeps_pitch():
    x = torch.zeros(1, 2 * SR)
    x[:, SR // 4 : SR // 4 + SR] = tone(440.0, seconds=1.0)
    y, lengths = time_stretch(x, torch.tensor([1.25]))
    assert int(lengths[0]) == round(2 * SR / 1.25)
    assert active_seconds(y[0]) == pytest.approx(1 / 1.25, rel=0.03)
    assert float(peak_frequency(y[:, SR // 4 + 1000 : SR // 4 + SR // 2])) == pytest.approx(440.0, rel=0.005)


def test_time_stretch_module_keeps_input_length():
    x = torch.zeros(2, 2 * SR)
    x[:, SR // 4 : SR // 4 + SR] = tone(440.0, seconds=1.0, batch=2)
    slow = TimeStretch(rate=[0.8, 0.8])(x, gen())
    fast = TimeStretch(rate=[1.25, 1.25])(x, gen())
    assert slow.shape == fast.shape == x.shape
    assert active_seconds(slow[0]) == pytest.approx(1.25, rel=0.03)
    assert active_seconds(fast[0]) == pytest.approx(0.8, rel=0.03)
    assert torch.all(fast[:, round(2 * SR / 1.25) :] == 0)  # padded past the stretched end
    wrapped = TimeStretch(rate=[1.25, 1.25], pad="wrap")(x, gen())
    assert torch.allclose(wrapped[:, round(2 * SR / 1.25) :], wrapped[:, : 2 * SR - round(2 * SR / 1.25)])


@pytest.mark.parametrize("semitones", [0.27, 3.0, -2.5])
def test_tone_after_silence_keeps_its_level_and_moves_by_the_shift(semitones):
    """A tone starting after digital silence: the bins of each partial must keep the phase
    pattern of a window lobe (adjacent bins half a turn apart), or the partial cancels itself."""
    x = torch.zeros(1, 2 * SR)
    x[:, SR // 4 : SR // 4 + SR] = tone(500.0, seconds=1.0)
    y = pitch_shift(x, torch.tensor([semitones]))
    body = slice(SR // 4 + 2000, SR // 4 + SR - 2000)
    assert float(peak_frequency(y[:, body])) == pytest.approx(500 * 2 ** (semitones / 12), rel=0.002)
    assert float(y[0, body].square().mean()) == pytest.approx(0.5, rel=0.1)  # no onset burst took the level
    assert float(y[0, : SR // 4 - 1024].abs().max()) < 1e-3  # silence before stays silent
