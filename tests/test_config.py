import pytest

from audiorep.config import load_config
from audiorep.errors import ConfigError


def test_packaged_recipe_loads_and_overrides_apply():
    cfg = load_config("simclr_demo", ["train.steps=7", "method.temperature=0.5", "encoder.width=8"])
    assert cfg.train.steps == 7 and cfg.method["temperature"] == 0.5 and cfg.encoder.width == 8
    assert cfg.method["name"] == "simclr"


@pytest.mark.parametrize("override,message", [
    ("train.stepz=3", "unknown config key 'train.stepz'; did you mean 'steps'"),
    ("method.temprature=0.1", "did you mean 'temperature'"),
    ("train.lr=-1", "'train.lr': got -1.0, expected a positive number"),
    ("train.steps=abc", "'train.steps': got 'abc'"),
    ("data.source=folder", "'data.path'"),
    ("encoder.name=resnet", "'encoder.name': got 'resnet'"),
    ("method.name=nope", "'method.name'"),
    ("novalue", "not of the form key=value"),
])
def test_invalid_configs_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config("simclr_demo", [override])


def test_unknown_recipe_lists_the_packaged_ones():
    with pytest.raises(ConfigError, match="simclr_demo"):
        load_config("no_such_recipe")


def test_bad_augmentation_entry_is_a_config_error():
    from audiorep.builders import build_method

    cfg = load_config("simclr_demo", ["method.wave_augment=[{name: warp_drive}]"])
    with pytest.raises(ConfigError, match="warp_drive"):
        build_method(cfg)
