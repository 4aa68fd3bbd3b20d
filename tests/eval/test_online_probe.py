import numpy as np
import pytest
import torch

from audiorep.errors import ConfigError
from audiorep.eval.online_probe import OnlineProbe


def _clips(n=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 3
    t = torch.arange(1600) / 16000
    audio = torch.sin(2 * torch.pi * (200.0 * (labels[:, None] + 1)) * t) + 0.5 * torch.randn(n, 1600, generator=g)
    return audio, labels


def _spectrum(x):  # an "encoder" that sees pitch: 8 bands of 100 Hz
    return torch.fft.rfft(x).abs()[:, :80].reshape(x.shape[0], 8, 10).mean(-1)


def test_runs_every_n_steps_and_reports_accuracy_that_tracks_the_representation():
    audio, labels = _clips()
    probe = OnlineProbe(audio, labels, every_n_steps=5, batch_size=16)
    assert probe.maybe_run(3, _spectrum) is None
    good = probe.maybe_run(10, _spectrum)
    noise = probe.run(lambda x: torch.randn(x.shape[0], 8))
    assert set(good) == {"probe_accuracy"}
    assert good["probe_accuracy"] > 0.9 > noise["probe_accuracy"]
    assert len(probe.test_idx) == 18 and np.bincount(probe.targets[probe.test_idx]).tolist() == [6, 6, 6]


def test_multilabel_reports_map_and_module_train_mode_is_restored():
    audio, labels = _clips()
    multi = np.stack([labels == 0, labels != 2], 1).astype(np.float32)
    module = torch.nn.Sequential(torch.nn.Linear(1600, 8))
    module.train()
    out = OnlineProbe(audio, multi, multilabel=True, every_n_steps=1).maybe_run(0, module)
    assert set(out) == {"probe_mAP", "probe_auc", "probe_dprime"}
    assert module.training


def test_bad_arguments_are_named():
    audio, labels = _clips()
    with pytest.raises(ConfigError, match="every_n_steps"):
        OnlineProbe(audio, labels, every_n_steps=0)
    with pytest.raises(ConfigError, match="60 clips but 59 labels"):
        OnlineProbe(audio, labels[:59])
