import pytest
import torch

from audiorep.augment import Compose, OneOf, RandomApply, build_chain, op_class, OPS
from audiorep.augment.gain import Gain
from audiorep.errors import ConfigError

from augment_signals import gen


def test_build_chain_applies_ops_in_order_and_passes_sample_rate():
    chain = build_chain([{"name": "random_crop", "seconds": 0.5}, {"name": "gain", "db": [6, 6]}], sample_rate=8000)
    x = torch.ones(3, 8000)
    y = chain(x, gen())
    assert y.shape == (3, 4000)
    assert torch.allclose(y, torch.full_like(y, 10 ** (6 / 20)))


def test_every_registered_name_builds_with_defaults():
    required = {"random_crop": {"seconds": 1.0}}
    for name in OPS:
        op = build_chain([{"name": name, **required.get(name, {})}])[0]
        assert isinstance(op, op_class(name))


def test_unknown_name_is_a_config_error_naming_the_entry():
    with pytest.raises(ConfigError, match=r"entry 1 \('pitchshift'\).*unknown augmentation.*pitch_shift"):
        build_chain([{"name": "gain"}, {"name": "pitchshift"}])


def test_bad_parameter_is_a_config_error_naming_entry_and_key():
    with pytest.raises(ConfigError, match=r"entry 0 \('gain'\).*unknown parameter.*'dbs'"):
        build_chain([{"name": "gain", "dbs": [0, 1]}])
    with pytest.raises(ConfigError, match=r"entry 0 \('gain'\).*low <= high"):
        build_chain([{"name": "gain", "db": [3, -3]}])
    with pytest.raises(ConfigError, match=r"entry 0 \('noise'\).*colors"):
        build_chain([{"name": "noise", "colors": ["purple"]}])
    with pytest.raises(ConfigError, match=r"entry 0 \('gain'\).*probability"):
        build_chain([{"name": "gain", "p": 2}])
    with pytest.raises(ConfigError, match="mapping with a 'name'"):
        build_chain([{"db": 3}])


def test_nested_random_apply_builds_and_touches_only_some_examples():
    chain = build_chain([{"name": "random_apply", "p": 0.5, "ops": [{"name": "gain", "db": [20, 20]}]}])
    assert isinstance(chain[0], RandomApply)
    x = torch.ones(200, 10)
    y = chain(x, gen(1))
    changed = (y != x).any(1).float().mean()
    assert 0.35 < changed < 0.65
    with pytest.raises(ConfigError, match=r"random_apply.*> entry 0 \('nope'\)"):
        build_chain([{"name": "random_apply", "ops": [{"name": "nope"}]}])


def test_one_of_applies_exactly_one_op_per_example():
    op = OneOf([Gain(db=[20, 20]), Gain(db=[-20, -20])])
    y = op(torch.ones(100, 4), gen())
    level = y[:, 0]
    assert torch.all(torch.isclose(level, torch.tensor(10.0)) | torch.isclose(level, torch.tensor(0.1)))
    assert 20 < int(torch.isclose(level, torch.tensor(10.0)).sum()) < 80


def test_per_op_probability_is_per_example():
    op = Gain(db=[20, 20], p=0.3)
    y = op(torch.ones(1000, 2), gen())
    assert 0.25 < (y[:, 0] > 1).float().mean() < 0.35
    assert torch.equal(Gain(p=0.0)(torch.ones(5, 3), gen()), torch.ones(5, 3))


def test_same_seed_same_batch_for_a_full_chain(speech_like):
    spec = [
        {"name": "random_crop", "seconds": 0.5},
        {"name": "gain"},
        {"name": "noise"},
        {"name": "polarity"},
        {"name": "fade"},
    ]
    chain = build_chain(spec)
    a, b = chain(speech_like, gen(7)), chain(speech_like, gen(7))
    c = chain(speech_like, gen(8))
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_empty_chain_is_identity():
    x = torch.randn(2, 5)
    assert torch.equal(Compose([])(x), x)
    assert len(build_chain(None)) == 0
