import torch

from audiorep.builders import build_baseline
from audiorep.eval.baselines import LogMelStatsEmbedder
from audiorep.frontend.log_mel import LogMel


def test_logmel_stats_are_per_band_mean_and_std_over_time():
    model = LogMelStatsEmbedder(n_mels=16)
    wave = torch.randn(2, 8000)
    emb = model(wave)
    mel = LogMel(n_mels=16)(wave)
    assert emb.shape == (2, 32) and model.embedding_size == 32
    assert torch.allclose(emb[:, :16], mel.mean(-1), atol=1e-5)
    assert torch.allclose(emb[:, 16:], mel.std(-1, unbiased=False), atol=1e-5)


def test_logmel_frames_are_the_log_mel_frames_with_centre_times():
    model = LogMelStatsEmbedder(n_mels=16)
    frames, times = model.frames(torch.randn(3, 16000))
    assert frames.shape == (3, 101, 16) and model.frame_embedding_size == 16
    assert times[1].item() == 0.01 and model.frame_hop_s == 0.01


def test_a_higher_tone_raises_its_own_bands():
    model = build_baseline("logmel")
    t = torch.arange(16000) / 16000
    low, high = torch.sin(2 * torch.pi * 300 * t), torch.sin(2 * torch.pi * 3000 * t)
    emb = model(torch.stack([low, high]))
    band = lambda hz: int(torch.argmax(model.log_mel.filterbank[:, int(hz / 8000 * (model.log_mel.n_fft // 2))]))
    assert emb[0, band(300)] > emb[1, band(300)] and emb[1, band(3000)] > emb[0, band(3000)]


def test_a_louder_tone_shifts_the_band_means_by_its_gain_and_keeps_their_spread():
    model = build_baseline("logmel")
    tone = torch.sin(2 * torch.pi * 440 * torch.arange(16000) / 16000) * (0.2 + 0.1 * torch.rand(16000))
    quiet, loud = model(torch.stack([tone, 4.0 * tone]))
    n = model.log_mel.n_mels
    lit = quiet[:n] > quiet[:n].max() - 8  # bands the tone reaches, far above the log offset
    gain = 2 * torch.log(torch.tensor(4.0))  # x4 in amplitude is x16 in power
    torch.testing.assert_close(loud[:n][lit] - quiet[:n][lit], gain.expand(int(lit.sum())), atol=2e-3, rtol=0)
    torch.testing.assert_close(loud[n:][lit], quiet[n:][lit], atol=1e-3, rtol=0)


def test_random_baseline_has_the_embedder_interface():
    model = build_baseline("random")
    assert model(torch.randn(2, 16000)).shape == (2, model.embedding_size)
