"""Pitch shift and time stretch fused into one vocoder pass (`PitchTimeShift`)."""

import pytest
import torch

from audiorep.augment import build_chain
from audiorep.augment.pitch_shift import PitchShift
from audiorep.augment.pitch_time import PitchTimeShift, shift_pitch_and_time
from audiorep.augment.time_stretch import TimeStretch

from augment_signals import SR, gen, peak_frequency, tone
from test_augment_pitch_time import active_seconds

PITCH = {"name": "pitch_shift", "semitones": [-4, 4], "p": 0.5}
STRETCH = {"name": "time_stretch", "rate": [0.8, 1.25], "p": 0.5}


def burst(batch: int = 1, freq: float = 440.0) -> torch.Tensor:
    """A 1 s tone in the middle of 2 s of silence, so duration can be measured."""
    x = torch.zeros(batch, 2 * SR)
    x[:, SR // 4 : SR // 4 + SR] = tone(freq, seconds=1.0, batch=batch)
    return x


def test_one_pass_moves_pitch_and_duration_together():
    y, lengths = shift_pitch_and_time(burst(), torch.tensor([3.0]), torch.tensor([1.25]))
    assert int(lengths[0]) == round(2 * SR / 1.25)
    assert active_seconds(y[0]) == pytest.approx(1 / 1.25, rel=0.03)
    assert float(peak_frequency(y[:, SR // 4 + 1000 : SR // 4 + SR // 2])) == pytest.approx(523.25, rel=0.01)
    # the level of the tone is kept, measured over its own (shorter) duration
    assert float(y[0].square().sum() * 1.25) == pytest.approx(float(burst()[0].square().sum()), rel=0.05)


def test_build_chain_fuses_only_adjacent_pitch_then_stretch():
    assert isinstance(build_chain([PITCH, STRETCH])[0], PitchTimeShift)
    assert [type(op) for op in build_chain([PITCH, STRETCH], fuse=False)] == [PitchShift, TimeStretch]
    assert [type(op) for op in build_chain([STRETCH, PITCH])] == [TimeStretch, PitchShift]
    assert len(build_chain([PITCH, {"name": "gain"}, STRETCH])) == 3
    assert len(build_chain([PITCH, {**STRETCH, "n_fft": 512}])) == 2  # different STFTs stay apart
    nested = build_chain([{"name": "random_apply", "p": 0.9, "ops": [PITCH, STRETCH]}])
    assert isinstance(nested[0].chain[0], PitchTimeShift)


def test_fused_chain_draws_what_the_two_ops_draw():
    """Same seed: the same examples get shifted and stretched, by the same amounts."""
    x = burst(batch=16, freq=500.0)
    fused = build_chain([PITCH, STRETCH])(x, gen(3))
    apart = build_chain([PITCH, STRETCH], fuse=False)(x, gen(3))
    middle = slice(SR // 4 + 1000, SR // 4 + SR // 2)
    assert torch.allclose(peak_frequency(fused[:, middle]), peak_frequency(apart[:, middle]), rtol=0.005)
    durations = lambda y: torch.tensor([active_seconds(row) for row in y])  # noqa: E731
    assert torch.allclose(durations(fused), durations(apart), rtol=0.03)
    untouched = (apart == x).all(1)
    assert 0 < int(untouched.sum()) < 16  # p = 0.5 each: some examples got neither
    assert torch.equal(untouched, (fused == x).all(1))
    assert torch.equal(build_chain([PITCH, STRETCH])(x, gen(3)), fused)  # same seed, same batch


def test_fused_op_needs_the_same_stft():
    with pytest.raises(ValueError, match="n_fft"):
        PitchTimeShift(PitchShift(n_fft=1024), TimeStretch(n_fft=512))


def test_cpu_chunks_do_not_change_the_result(monkeypatch):
    """The CPU runs the vocoder a few examples at a time (cache); the batch must not notice."""
    import audiorep.augment.base as base

    x = burst(batch=9, freq=300.0) + 0.01 * torch.randn(9, 2 * SR, generator=gen(1))
    semitones = torch.linspace(-4, 4, 9)
    rate = torch.linspace(0.8, 1.25, 9)
    chunked, lengths = shift_pitch_and_time(x, semitones, rate)
    monkeypatch.setattr(base, "CPU_CHUNK", 64)
    whole, same_lengths = shift_pitch_and_time(x, semitones, rate)
    assert torch.equal(lengths, same_lengths)
    # the same up to float rounding (kernels vectorise differently by tensor size, which can
    # move a phase-wrap or peak tie in a few bins): no example misplaced or misaligned
    assert (chunked - whole).abs().amax() < 0.01 and (chunked - whole).abs().mean() < 1e-5
