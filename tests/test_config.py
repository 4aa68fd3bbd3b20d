import pytest

from audiorep.builders import resolve
from audiorep.config import load_config
from audiorep.errors import ConfigError


def test_packaged_recipe_loads_and_overrides_apply():
    cfg = load_config("simclr_demo", ["train.steps=7", "method.temperature=0.5", "encoder.width=8"])
    assert cfg.train.steps == 7 and cfg.method["temperature"] == 0.5 and cfg.encoder["width"] == 8
    assert cfg.method["name"] == "simclr"


@pytest.mark.parametrize("override,message", [
    ("train.stepz=3", "unknown config key 'train.stepz'; did you mean 'steps'"),
    ("train.lr=-1", "'train.lr': got -1.0, expected a positive number"),
    ("train.steps=abc", "'train.steps': got 'abc'"),
    ("train.lr_schedule=linear", "'train.lr_schedule': got 'linear'"),
    ("train.keep_checkpoints={late: 2}", "'train.keep_checkpoints'"),
    ("data.source=folder", "'data.path'"),
    ("novalue", "not of the form key=value"),
])
def test_invalid_configs_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config("simclr_demo", [override])


@pytest.mark.parametrize("override,message", [
    ("method.temprature=0.1", "unknown config key 'method.temprature'; did you mean 'temperature'"),
    ("method.temperature=-1", "'method.temperature': got -1.0, expected a positive number"),
    ("encoder.name=resnet", "'encoder.name': got 'resnet'"),
    ("encoder.widht=8", "did you mean 'width'"),
    ("encoder.convs_per_stage=0", "'encoder.convs_per_stage': got 0"),
    ("method.name=nope", "'method.name': got 'nope'"),
])
def test_named_sections_are_checked_by_their_class_where_they_are_built(override, message):
    cfg = load_config("simclr_demo", [override])  # the config layer knows no method or encoder
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve(cfg)


def test_resolve_writes_out_every_default_of_the_named_sections():
    cfg = resolve(load_config("simclr_demo", ["encoder.name=efficientnet_b0"]))
    assert cfg.encoder == {"name": "efficientnet_b0", "width": 16, "embedding_dim": 512, "dropout": 0.0}
    assert cfg.method["gather_negatives"] is True and cfg.method["temperature"] == 0.2


def test_unknown_recipe_lists_the_packaged_ones():
    with pytest.raises(ConfigError, match="simclr_demo"):
        load_config("no_such_recipe")


def test_bad_augmentation_entry_is_a_config_error():
    from audiorep.builders import build_method

    cfg = load_config("simclr_demo", ["method.wave_augment=[{name: warp_drive}]"])
    with pytest.raises(ConfigError, match="warp_drive"):
        build_method(cfg)
