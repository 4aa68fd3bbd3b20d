"""`simclr_cpu`, the recipe the README gives for your own audio on a CPU: it asks for your audio,
trains on a folder of it, and what it saves embeds with the frequency bands kept."""

import pytest
import torch

from audiorep.builders import load_embedder
from audiorep.config import load_config
from audiorep.errors import ConfigError
from audiorep.train.trainer import Trainer


def test_simclr_cpu_asks_for_the_users_audio():
    with pytest.raises(ConfigError, match="data.path"):
        load_config("simclr_cpu")


def test_simclr_cpu_trains_on_a_folder_and_its_checkpoint_embeds_with_the_bands_kept(audio_folder, tmp_path):
    cfg = load_config("simclr_cpu", [f"data.path={audio_folder}", "train.minutes=null", "train.steps=2",
                                     "train.batch_size=4", "data.clip_seconds=0.5",
                                     "method.wave_augment=[{name: random_crop, seconds: 0.4}, {name: pitch_shift, "
                                     "semitones: [-3, 3]}, {name: time_stretch, rate: [0.85, 1.2]}]"])
    summary = Trainer(cfg, out_dir=tmp_path / "run", progress=False).fit()
    assert summary["steps"] == 2
    embedder = load_embedder(summary["checkpoint"])
    assert embedder.encoder.freq_pool == "flatten" and embedder.embedding_size == 512
    with torch.no_grad():
        out = embedder(0.1 * torch.randn(2, 16000))
    assert out.shape == (2, 512) and torch.isfinite(out).all()


def test_the_demo_and_the_commands_default_to_simclr_cpu_on_the_built_in_world():
    """What the README recommends for your own audio is what `make demo` trains: the same method
    and encoder sections, on the synthetic world with a step budget."""
    from audiorep.cli import build_parser
    from audiorep.config import DEFAULT_RECIPE, read_recipe

    demo, cpu = read_recipe(DEFAULT_RECIPE), read_recipe("simclr_cpu")
    assert demo["method"] == cpu["method"] and demo["encoder"] == cpu["encoder"]
    assert demo["data"]["source"] == "synthetic" and demo["train"]["minutes"] is None
    for command in (["demo"], ["pretrain"], ["supervised", "--task", "synthetic"]):
        assert build_parser().parse_args(command).config == DEFAULT_RECIPE
