"""Loading: mono mix-down, resampling, seeking crops, and clear errors for unusable files."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from audiorep.errors import AudioFileError
from audiorep.io.audio import audio_info, crop_window, load_audio, load_crop, load_random_crop


def peak_hz(x: np.ndarray, sample_rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / sample_rate)[spectrum.argmax()])


def test_mono_file_loads_as_float32_samples(write_audio, tone):
    x = tone(440, 0.5, 16000)
    path = write_audio("mono.wav", x, 16000, subtype="FLOAT")
    y = load_audio(path, 16000)
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_allclose(y, x, atol=1e-6)


def test_stereo_file_is_mixed_down_to_channel_mean(write_audio, tone):
    x = tone(440, 0.5, 16000, channels=2)  # channel amplitudes differ
    path = write_audio("stereo.flac", x, 16000)
    y = load_audio(path, 16000)
    assert y.ndim == 1
    np.testing.assert_allclose(y, x.mean(axis=1), atol=1e-4)


def test_resampling_8k_to_16k_keeps_pitch_and_duration(write_audio, tone):
    path = write_audio("tone8k.wav", tone(440, 1.0, 8000), 8000)
    y = load_audio(path, 16000)
    assert len(y) == 16000
    assert abs(peak_hz(y, 16000) - 440) < 2


def test_ogg_is_readable(write_audio, tone):
    path = write_audio("tone.ogg", tone(440, 1.0, 16000), 16000)
    y = load_audio(path, 16000)
    assert abs(len(y) - 16000) < 160 and abs(peak_hz(y, 16000) - 440) < 2


def test_crop_of_long_file_reads_only_needed_frames(write_audio, monkeypatch):
    rate = 16000
    signal = np.random.default_rng(0).uniform(-0.5, 0.5, 60 * rate).astype(np.float32)
    path = write_audio("long.wav", signal, rate, subtype="FLOAT")
    asked = []
    real_read = sf.SoundFile.read

    def spy(self, frames=-1, *args, **kwargs):
        asked.append(frames)
        return real_read(self, frames, *args, **kwargs)

    monkeypatch.setattr(sf.SoundFile, "read", spy)
    y = load_audio(path, rate, offset_s=37.25, duration_s=1.0)
    assert asked and all(0 < f <= rate for f in asked)  # never -1 (whole file), never > 1 s
    start = int(37.25 * rate)
    np.testing.assert_array_equal(y, signal[start : start + rate])


def test_resampled_crop_matches_whole_file_resampling(write_audio, tone):
    """The crop's context margin keeps resampler edge effects out of the crop."""
    rng = np.random.default_rng(1)
    signal = (tone(440, 4.0, 44100) + 0.1 * rng.standard_normal(4 * 44100)).astype(np.float32)
    path = write_audio("cd.wav", signal, 44100, subtype="FLOAT")
    whole = load_audio(path, 16000)
    crop = load_audio(path, 16000, offset_s=1.5, duration_s=1.0)
    assert len(crop) == 16000
    np.testing.assert_allclose(crop, whole[24000:40000], atol=2e-3)


def test_crop_past_end_is_zero_padded_to_exact_length(write_audio, tone):
    path = write_audio("short.wav", tone(440, 0.5, 16000), 16000, subtype="FLOAT")
    y = load_audio(path, 16000, offset_s=0.25, duration_s=1.0)
    assert len(y) == 16000
    assert np.abs(y[:4000]).max() > 0.4 and not y[4000:].any()


def test_random_crops_are_reproducible_and_short_files_padded(write_audio, tone):
    path = write_audio("t.wav", tone(440, 3.0, 16000), 16000)
    a = load_random_crop(path, 16000, 1.0, np.random.default_rng(5))
    b = load_random_crop(path, 16000, 1.0, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert len(load_crop(path, 8000, 10.0, "center")) == 80000
    padded = load_crop(path, 16000, 5.0, "start")
    assert padded[:100].any() and not padded[3 * 16000 + 10 :].any()


def test_crop_window_positions():
    assert crop_window(100, 40, "start") == (0, 0)
    assert crop_window(100, 40, "center") == (30, 0)
    starts = {crop_window(100, 40, "random", np.random.default_rng(s))[0] for s in range(50)}
    assert min(starts) >= 0 and max(starts) <= 60 and len(starts) > 10
    start, pad = crop_window(10, 40, "random", np.random.default_rng(0))
    assert start == 0 and 0 <= pad <= 30


def test_audio_info_reads_header(write_audio, tone):
    path = write_audio("i.flac", tone(440, 2.0, 8000, channels=2), 8000)
    info = audio_info(path)
    assert (info.sample_rate, info.frames, info.channels) == (8000, 16000, 2)
    assert info.duration_s == pytest.approx(2.0)


def _expect_error(path, *words):
    with pytest.raises(AudioFileError) as caught:
        load_audio(path, 16000)
    message = str(caught.value)
    assert path.name in message
    for word in words:
        assert word in message.lower()
    return caught.value


def test_missing_file_error(tmp_path):
    _expect_error(tmp_path / "nope.wav", "does not exist")


def test_corrupt_bytes_error(tmp_path):
    path = tmp_path / "corrupt.wav"
    path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4)
    err = _expect_error(path, "corrupt")
    assert err.path == str(path)


def test_empty_file_error(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    _expect_error(path, "empty")


def test_zero_length_audio_error(write_audio):
    path = write_audio("zero.wav", np.zeros(0, np.float32), 16000)
    _expect_error(path, "zero frames")
    with pytest.raises(AudioFileError, match="zero frames"):
        audio_info(path)


def test_any_nan_or_inf_sample_makes_the_file_unusable(write_audio, tone):
    path = write_audio("nan.wav", np.full(1600, np.nan, np.float32), 16000, subtype="FLOAT")
    _expect_error(path, "1600 nan samples")
    x = tone(440, 0.1, 16000)
    x[10:20] = np.nan
    x[30] = np.inf
    path = write_audio("somenan.wav", x, 16000, subtype="FLOAT")
    _expect_error(path, "10 nan and 1 infinite samples", "of 1600")  # never replaced by 0
    with pytest.raises(AudioFileError, match="NaN"):
        load_crop(path, 16000, 0.05, "start")
    # a crop is checked on what it read: the bad samples lie outside this one (and its context)
    x = tone(440, 1.0, 16000)
    x[-5:] = np.nan
    path = write_audio("tailnan.wav", x, 16000, subtype="FLOAT")
    assert np.isfinite(load_crop(path, 16000, 0.5, "start")).all()
    with pytest.raises(AudioFileError, match="5 NaN"):
        load_audio(path, 16000)


def test_a_stereo_channel_alone_breaking_the_policy_is_caught_before_the_mix_down(write_audio, tone):
    x = tone(440, 0.1, 16000, channels=2)
    x[7, 1] = -np.inf
    _expect_error(write_audio("st.wav", x, 16000, subtype="FLOAT"), "1 infinite sample (-inf, non-finite)")
    big = np.full((1600, 2), np.finfo(np.float32).max, np.float32)  # their mean would overflow to inf
    _expect_error(write_audio("big.wav", big, 16000, subtype="FLOAT"), "amplitude", "exceeds")


def test_amplitude_limit_keeps_a_float_file_slightly_over_full_scale(write_audio, tone):
    from audiorep.io.audio import MAX_ABS_AMPLITUDE, check_samples, unusable_samples_cause

    loud = write_audio("loud.wav", 1.5 * tone(440, 0.1, 16000) / np.abs(tone(440, 0.1, 16000)).max(), 16000,
                       subtype="FLOAT")
    assert np.abs(load_audio(loud, 16000)).max() == pytest.approx(1.5, abs=1e-3)
    err = _expect_error(write_audio("x1e5.wav", tone(440, 0.1, 16000) * 1e5, 16000, subtype="FLOAT"),
                        "amplitude", "exceeds", f"{MAX_ABS_AMPLITUDE:g}")
    assert "x1e5.wav" in err.path
    edge = np.array([0.0, MAX_ABS_AMPLITUDE, -MAX_ABS_AMPLITUDE], np.float32)
    assert check_samples(edge, "p") is edge and unusable_samples_cause(np.zeros(0)) is None
    assert "amplitude" in unusable_samples_cause(np.nextafter(edge, np.inf))


def test_whole_file_guard_but_crops_allowed(write_audio, tone):
    path = write_audio("two.wav", tone(440, 2.0, 16000), 16000)
    with pytest.raises(AudioFileError, match="max_seconds"):
        load_audio(path, 16000, max_seconds=1.0)
    assert len(load_audio(path, 16000, duration_s=1.5, max_seconds=1.0)) == 24000


def test_absurd_header_sample_rate_is_an_error(write_audio, tone):
    path = write_audio("rate.wav", tone(440, 0.1, 16000), 16000)
    data = bytearray(path.read_bytes())
    assert data[24:28] == (16000).to_bytes(4, "little")  # canonical WAV header
    data[24:28] = (0).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    _expect_error(path)
