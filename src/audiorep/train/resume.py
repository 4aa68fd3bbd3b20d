"""What `--resume` runs: the run's own config, not the recipe's.

A resumed run continues the resolved config its last.pt holds. The recipe is not read again:
a recipe default that differs from the run's config is not something the user asked for.
What the resume's command line states explicitly (its `key=value` overrides and shortcut
options such as `--minutes`) is compared with the run's config, key by key: a value equal to
the run's changes nothing; a different one is applied, and announced, only for the keys in
`RESUMABLE`; any other is refused with a `ConfigError` naming each key and both values.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from audiorep.builders import resolve
from audiorep.config import Config, config_from_dict, parse_overrides, set_dotted
from audiorep.errors import ConfigError

RESUMABLE = {  # key: why changing it half-way leaves the run the same run
    "train.minutes": "the budget: a run may be given more time (the cosine stretches to the new end)",
    "train.steps": "the budget in steps, likewise",
    "train.out_dir": "where the run lives: a moved folder",
    "train.log_every": "how often it reports, not what it learns",
    "train.checkpoint_every": "how often it saves",
    "train.keep_checkpoints": "which snapshots it keeps (fractions already passed are not written again)",
    "train.online_probe.every_steps": "how often the probe reads the model; the probe never trains it",
    "train.max_nonfinite_steps": "when a run of NaN losses stops it, not how it trains",
    "train.device": "where it runs, not what it computes",
    "train.compile": "how it runs, not what it computes",
    "data.num_workers": "how many processes read the data (for shards the trainer says where readers restart)",
}
"""The config keys a resume may change. Every other key (the data's source and path, the model,
encoder, front-end and method keys, batch size, learning rate and its schedule, seeds,
augmentations ...) decides what the run learns: changing one half-way makes a run that is
neither the old one nor a new one, so that takes a new run (another --out)."""

_ABSENT = object()


def resumable(key: str) -> bool:
    return any(key == k or key.startswith(k + ".") for k in RESUMABLE)


def resumed_config(saved: dict, overrides: list[str], say: Callable[[str], None] = print) -> Config:
    """`saved` (a checkpoint's resolved config) with the `overrides` the resume states applied
    where they may be, each change announced through `say` (e.g. ``resume: train.minutes 1 ->
    1.5``); a `ConfigError` naming every key that may not change, with both values."""
    try:
        before = _resolved(saved)
    except ConfigError as err:
        raise ConfigError(f"--resume: the run's stored config no longer reads ({err}); start a new run "
                          "(another --out)") from err
    asked = _leaves(parse_overrides(overrides))
    tree = copy.deepcopy(saved)
    for key, value in asked.items():
        set_dotted(tree, key, value)
    try:  # values as the config reads them (a YAML '2e-3' is the number 0.002), defaults filled in
        after, invalid = _resolved(tree), None
    except ConfigError as err:  # said after the refusals: a key that may not change is the news
        after, invalid = None, err
    changes, refused = [], []
    for key, value in asked.items():
        was, now = _get(before, key), (value if after is None else _get(after, key))
        if was is _ABSENT and after is None:
            continue  # not a key of this config: the config's own error names it, with a "did you mean"
        if not _same(was, now):
            (changes if resumable(key) else refused).append((key, was, now))
    if refused:
        what = "; ".join(f"{key} was {_show(was)}, the resume asks {_show(now)}" for key, was, now in refused)
        raise ConfigError(f"--resume continues the run as it was configured: {what}; start a new run (another --out) "
                          f"to change {'it' if len(refused) == 1 else 'them'} (a resume may change only "
                          f"{', '.join(RESUMABLE)})")
    if invalid is not None:
        raise invalid
    for key, was, now in changes:
        say(f"resume: {key} {_show(was)} -> {_show(now)}")
    return config_from_dict(tree)


def _resolved(tree: dict) -> dict:
    return resolve(config_from_dict(tree)).to_dict()


def _leaves(overrides: list[tuple[str, Any]]) -> dict[str, Any]:
    """Overrides as dotted leaf keys, the last of a key winning: `encoder={name: cnn, width: 4}`
    states encoder.name and encoder.width (the other encoder keys keep the run's values); a
    resumable key whose value is a mapping (train.keep_checkpoints) stays one key."""
    out: dict[str, Any] = {}

    def add(key, value):
        if isinstance(value, dict) and value and key not in RESUMABLE:
            for k, v in value.items():
                add(f"{key}.{k}", v)
        else:
            out.pop(key, None)
            out[key] = value

    for key, value in overrides:
        add(key, value)
    return out


def _get(tree: dict, key: str):
    node: Any = tree
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return _ABSENT
        node = node[part]
    return node


def _same(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b


def _show(value) -> str:
    if value is _ABSENT:
        return "not set"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)
