import numpy as np
import pytest
import torch

from audiorep.frontend.log_mel import LogMel, mel_filterbank

librosa = pytest.importorskip("librosa")


@pytest.mark.parametrize("htk", [False, True])
@pytest.mark.parametrize("sr,n_fft,n_mels,fmin,fmax", [(16000, 512, 64, 60.0, 7800.0), (16000, 400, 40, 0.0, 8000.0),
                                                      (22050, 1024, 128, 20.0, 11025.0)])
def test_filterbank_matches_librosa(sr, n_fft, n_mels, fmin, fmax, htk):
    ours = mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk=htk).numpy()
    ref = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm="slaney",
                              dtype=np.float64)
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-10)


def test_log_mel_matches_librosa_pipeline():
    sr = 16000
    wave = np.random.default_rng(0).standard_normal(sr).astype(np.float32) * 0.1
    fe = LogMel(sr, n_mels=64, win_ms=25, hop_ms=10, f_min=60, f_max=7800)
    ours = fe(torch.from_numpy(wave)[None])[0].double().numpy()
    ref = librosa.feature.melspectrogram(y=wave.astype(np.float64), sr=sr, n_fft=512, hop_length=160, win_length=400,
                                         window="hann", center=True, pad_mode="reflect", power=2.0, n_mels=64,
                                         fmin=60, fmax=7800, htk=False, norm="slaney")
    np.testing.assert_allclose(ours, np.log(ref + 1e-6), atol=2e-4)


def test_defaults_and_shapes():
    fe = LogMel()
    out = fe(torch.zeros(3, 16000))
    assert out.shape == (3, 64, 101)  # 10 ms hop, centred frames
    assert fe.win_length == 400 and fe.hop_length == 160 and fe.n_fft == 512


def test_tone_lands_in_the_right_band():
    sr = 16000
    t = torch.arange(sr) / sr
    fe = LogMel(sr)
    mel = fe(torch.sin(2 * np.pi * 1000 * t)[None])[0].mean(1)
    centres = librosa.mel_frequencies(n_mels=66, fmin=60, fmax=7800)[1:-1]
    assert abs(centres[int(mel.argmax())] - 1000) < 60
