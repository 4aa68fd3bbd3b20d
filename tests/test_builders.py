"""Construction in one place: every packaged recipe builds, every encoder builds from its own
config section, a method gets the parts its constructor names, separators load from both
checkpoint formats, and mismatched parts are refused with the key named."""

from pathlib import Path

import pytest
import torch

from audiorep import builders
from audiorep.config import PACKAGE_CONFIGS, load_config, read_recipe
from audiorep.errors import CheckpointError, ConfigError
from audiorep.io.checkpoint import save_checkpoint, save_separator
from audiorep.methods import METHODS
from audiorep.models import ENCODERS

RECIPES = sorted(p.stem for p in PACKAGE_CONFIGS.glob("*.yaml"))


def test_the_configs_folder_beside_the_package_lists_the_packaged_recipes():
    top = Path(__file__).resolve().parents[1] / "configs"
    assert RECIPES and sorted(p.stem for p in top.glob("*.yaml")) == RECIPES


@pytest.mark.parametrize("recipe", RECIPES)
def test_every_packaged_recipe_builds_its_method_optimizer_and_schedule(recipe):
    needs_a_path = read_recipe(recipe).get("data", {}).get("source", "synthetic") != "synthetic"
    fits_on_data = read_recipe(recipe)["method"]["name"] == "generative"  # a tokenizer fitted on a small world
    cfg = load_config(recipe, (["data.path=/nowhere"] if needs_a_path else []) + (
        ["data.synthetic.n_clips=32", "data.synthetic.clip_seconds=1.0", "data.clip_seconds=1.0",
         "method.fit={clips: 32, iterations: 5}", "encoder.codebook_size=16", "data.num_workers=0"] if fits_on_data else []))
    method = builders.build_method(cfg)
    assert isinstance(method, METHODS[cfg.method["name"]])
    optimizer = builders.build_optimizer(cfg, method)
    assert sum(p.numel() for g in optimizer.param_groups for p in g["params"]) == \
        sum(p.numel() for p in method.parameters() if p.requires_grad)
    schedule = builders.build_schedule(cfg)
    assert schedule(0, 0.0) == pytest.approx(cfg.train.lr * (1 / cfg.train.warmup_steps if cfg.train.warmup_steps else 1))
    resolved = builders.resolve(cfg)
    assert builders.resolve(load_config(None, [], base=resolved.to_dict())) == resolved  # defaults written out


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_every_encoder_builds_from_its_own_section_with_a_matching_front_end(name):
    frontend = "waveform" if ENCODERS[name].reads == "waveform" else "log_mel"
    keys = "heads: 2" if name == "token_lm" else "width: 4"  # a transformer has heads, not a width
    cfg = load_config("simclr_demo", [f"encoder={{name: {name}, {keys}, embedding_dim: 16}}", f"frontend.name={frontend}"])
    embedder = builders.build_embedder(cfg).eval()
    with torch.no_grad():
        out = embedder(torch.randn(2, 16000) * 0.1)
    assert out.shape == (2, 16) and embedder.frame_hop_s == pytest.approx(0.04)


def test_an_encoder_that_reads_log_mel_refuses_the_waveform_front_end():
    cfg = load_config("simclr_demo", ["frontend.name=waveform"])
    with pytest.raises(ConfigError, match="'encoder.name': cnn reads spectrogram.*waveform_cnn"):
        builders.build_embedder(cfg)
    with pytest.raises(ConfigError, match="'frontend.name': got 'cqt'"):
        builders.build_embedder(load_config("simclr_demo", ["frontend.name=cqt"]))


def test_a_method_gets_the_parts_its_constructor_names(tmp_path):
    sep_cfg = load_config("separator_mixit", ["method.model={num_channels: 2, num_filters: 16, bottleneck: 8, "
                                              "hidden: 8, blocks_per_repeat: 1, repeats: 1}"])
    separator_method = builders.build_method(sep_cfg)
    assert separator_method.separator.sample_rate == sep_cfg.data.sample_rate == 8000
    assert not hasattr(separator_method, "embedder")  # it trains no representation
    path = save_separator(tmp_path / "s.pt", separator_method.separator)
    ssl = builders.build_method(load_config("separation_ssl_demo", [f"method.separators=[{path}, {path}]",
                                                                    "encoder.width=4"]))
    assert len(ssl.front.separators) == 2 and ssl.embedder.embedding_size == 512


def test_a_separator_rate_other_than_the_data_rate_is_refused():
    cfg = load_config("separator_mixit", ["method.model.sample_rate=16000"])
    with pytest.raises(ConfigError, match="'method.model.sample_rate': got 16000, expected the data's rate \\(8000\\)"):
        builders.build_method(cfg)


def test_load_separator_reads_standalone_files_and_training_checkpoints(tmp_path):
    cfg = builders.resolve(load_config("separator_mixit", [
        "method.model={num_channels: 3, num_filters: 16, bottleneck: 8, hidden: 8, blocks_per_repeat: 1, repeats: 1}"]))
    method = builders.build_method(cfg)
    save_checkpoint(tmp_path / "run.pt", {"config": cfg.to_dict(), "method": method.state_dict()})
    save_separator(tmp_path / "alone.pt", method.separator)
    x = torch.randn(2, 800)
    with torch.no_grad():
        expected = method.separator.eval()(x)
        for name in ("run.pt", "alone.pt"):
            torch.testing.assert_close(builders.load_separator(tmp_path / name)(x), expected)
    save_checkpoint(tmp_path / "ssl.pt", {"config": load_config("simclr_demo").to_dict(), "method": {}})
    with pytest.raises(CheckpointError, match="not a separator checkpoint"):
        builders.load_separator(tmp_path / "ssl.pt")


def test_baselines_follow_the_recipe():
    cfg = load_config("simclr_demo", ["encoder.width=4", "frontend.n_mels=32"])
    refs = builders.build_baselines(cfg)
    assert set(refs) == {"random_init", "logmel"}
    assert refs["logmel"].embedding_size == 64 and refs["random_init"].encoder.input_norm.num_features == 32
    with pytest.raises(ConfigError, match="baseline 'mfcc' is unknown"):
        builders.build_baseline("mfcc")
