"""The HEAR API: the checks of the HEAR validator (hearvalidator 2021.0.2) reproduced here,
plus timestamps, chunking and short audio. The real validator needs TensorFlow, so it runs
in its own venv through `make hear-validator` (CI runs it after the suite)."""

import os
import subprocess
import sys

import pytest
import torch
from torch import nn

import audiorep.hear as hear
from audiorep.errors import ConfigError


class CoarseEmbedder(nn.Module):
    """Stand-in with a 100 ms frame hop (coarser than HEAR allows) and different scene/frame sizes."""

    sample_rate = 16000
    embedding_size = 6
    frame_embedding_size = 3
    frame_hop_s = 0.1

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def frames(self, wave):
        hop = int(self.frame_hop_s * self.sample_rate)
        n = wave.shape[1] // hop
        blocks = wave[:, : n * hop].reshape(wave.shape[0], n, hop)
        feats = torch.stack([blocks.mean(-1), blocks.std(-1), torch.arange(n).expand(wave.shape[0], n).float()], -1)
        return feats * self.scale, (torch.arange(n) + 0.5) * self.frame_hop_s

    def forward(self, wave):
        f, _ = self.frames(wave)
        return torch.cat([f.mean(1), f.amax(1)], -1)


def _validator_checks(module, model):
    """What hearvalidator.validate.ValidateModel checks for a torch model."""
    assert isinstance(model, nn.Module)
    assert model.sample_rate in (16000, 22050, 44100, 48000)
    assert isinstance(model.scene_embedding_size, int) and isinstance(model.timestamp_embedding_size, int)
    audio = torch.rand((16, int(2.0 * model.sample_rate))) * 2 - 1
    emb, ts = module.get_timestamp_embeddings(audio, model)
    assert emb.dtype == torch.float32 and emb.shape[0] == 16
    assert emb.shape[:2] == ts.shape and emb.shape[2] == model.timestamp_embedding_size
    diff = torch.diff(ts)
    avg = diff.float().mean()
    assert avg <= 50.0
    assert torch.all(torch.abs(diff - avg) < 1e-3)
    audio = torch.rand((8, int(3.74 * model.sample_rate))) * 2 - 1
    scene = module.get_scene_embeddings(audio, model)
    assert scene.dtype == torch.float32 and scene.shape == (8, model.scene_embedding_size)


@pytest.fixture
def random_checkpoint(tmp_path):
    from audiorep.builders import random_init_embedder
    from audiorep.config import Config
    from audiorep.io.checkpoint import save_checkpoint

    path = tmp_path / "random.pt"
    save_checkpoint(path, {"config": Config().to_dict(), "embedder": random_init_embedder(seed=3).state_dict()})
    return path


def test_validator_checks_pass_for_a_checkpoint_and_the_baseline(random_checkpoint):
    model = hear.load_model(str(random_checkpoint))
    assert (model.scene_embedding_size, model.timestamp_embedding_size) == (512, 512)
    _validator_checks(hear, model)
    _validator_checks(hear, hear.load_model(""))


def test_timestamps_are_frame_centres_in_ms_and_coarse_hops_are_refined():
    model = hear.HearModel(CoarseEmbedder())
    audio = torch.randn(2, 16000)
    emb, ts = hear.get_timestamp_embeddings(audio, model)
    # 100 ms frames centred at 50, 150, ... 950 ms, refined to a 50 ms hop: 50, 100, ..., 950
    assert ts.shape == (2, 19) and ts.dtype == torch.float32
    assert ts[0, 0].item() == pytest.approx(50.0) and ts[0, -1].item() == pytest.approx(950.0)
    assert torch.allclose(torch.diff(ts), torch.full((2, 18), 50.0))
    coarse, _ = model.embedder.frames(audio)
    assert torch.allclose(emb[:, ::2], coarse)  # every original frame is kept
    assert torch.allclose(emb[:, 1], (coarse[:, 0] + coarse[:, 1]) / 2)  # the new ones interpolate


def test_long_audio_in_chunks_matches_the_whole_and_keeps_a_regular_grid():
    model = hear.HearModel(hear.load_model("").embedder, chunk_seconds=1.0, batch_size=2)
    audio = torch.randn(3, int(16000 * 3.3))
    emb, ts = hear.get_timestamp_embeddings(audio, model)
    whole, whole_ts = hear.get_timestamp_embeddings(audio, hear.HearModel(model.embedder, chunk_seconds=60.0))
    assert emb.shape == whole.shape == (3, 331, 64)
    assert torch.allclose(emb, whole, atol=1e-4)
    assert torch.allclose(ts, whole_ts)
    assert torch.allclose(torch.diff(ts), torch.full_like(torch.diff(ts), 10.0), atol=1e-3)
    # scene embeddings of long audio: a length-weighted mean over chunks, same shape and dtype
    scene = hear.get_scene_embeddings(audio, model)
    assert scene.shape == (3, 128) and scene.dtype == torch.float32 and torch.isfinite(scene).all()


def test_short_audio_down_to_a_tenth_of_a_second(random_checkpoint):
    for model in (hear.load_model(str(random_checkpoint)), hear.load_model("logmel")):
        audio = torch.randn(2, 1600)
        emb, ts = hear.get_timestamp_embeddings(audio, model)
        assert emb.shape[1] >= 1 and ts.shape == emb.shape[:2]
        assert torch.all(ts <= 100.0 + 1e-3)
        assert hear.get_scene_embeddings(audio, model).shape == (2, model.scene_embedding_size)
    with pytest.raises(ConfigError, match="at least 0.1 s"):
        hear.get_scene_embeddings(torch.randn(1, 800), hear.load_model(""))


def test_outputs_follow_the_model_device():
    model = hear.load_model("")
    emb, ts = hear.get_timestamp_embeddings(torch.randn(1, 4000, dtype=torch.float64), model)
    assert emb.device == ts.device == model.device and emb.dtype == torch.float32


@pytest.mark.skipif(os.environ.get("AUDIOREP_RUN_HEAR_VALIDATOR") != "1", reason="`make hear-validator` runs it")
@pytest.mark.parametrize("weights", ["checkpoint", "default"])
def test_official_hear_validator(random_checkpoint, weights):
    pytest.importorskip("hearvalidator")
    code = ("import sys; from hearvalidator.validate import ValidateModel; "
            "ValidateModel('audiorep.hear', sys.argv[1], device='cpu')()")
    path = str(random_checkpoint) if weights == "checkpoint" else ""
    result = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Checking get_scene_embeddings" in result.stdout, result.stdout  # the last of its checks ran
