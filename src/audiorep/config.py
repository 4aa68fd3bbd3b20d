"""Configuration: YAML recipes + `key=value` overrides -> validated dataclasses.

Every section is a dataclass; unknown keys, wrong types and out-of-range values raise a
`ConfigError` naming the dotted key, what was given and what is expected (with a "did you
mean" hint for typos). The `method` and `encoder` sections are mappings whose `name` picks a
class: their keys are checked against that class's own config dataclass where the object
is built (`audiorep.builders`), so this module knows no method or encoder.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from audiorep.errors import ConfigError

PACKAGE_CONFIGS = Path(__file__).parent / "configs"
# The recipe `audiorep demo`, `pretrain` and `supervised` use when no --config is given: the
# demo's (simclr_cpu's changes on the synthetic world; docs/real_audio.md).
DEFAULT_RECIPE = "simclr_cpu_demo"


@dataclass
class SyntheticData:
    n_clips: int = 2000
    clip_seconds: float = 4.0
    max_events: int = 4
    seed: int = 0
    background: bool = True  # scene background noise (a separator trained for clean mixtures can leave it out)

    def validate(self, key):
        check(self.n_clips >= 1, f"{key}.n_clips", self.n_clips, "an integer >= 1")
        check(self.clip_seconds > 0, f"{key}.clip_seconds", self.clip_seconds, "a positive number")
        check(1 <= self.max_events <= 8, f"{key}.max_events", self.max_events, "1..8")


@dataclass
class VideoData:
    """Frames, for methods that ask for the `video` field: decoded (or rendered) at this size
    and rate, aligned in time with the audio crop."""

    size: int = 32  # frames are size x size pixels (centre square of the picture)
    fps: float = 8.0
    distractors: int = 1  # synthetic world: moving objects that no sound explains

    def validate(self, key):
        check(8 <= self.size <= 256 and self.size % 2 == 0, f"{key}.size", self.size, "an even integer in 8..256")
        check(0 < self.fps <= 60, f"{key}.fps", self.fps, "a number in (0, 60]")
        check(self.distractors >= 0, f"{key}.distractors", self.distractors, "an integer >= 0")


DATA_SOURCES = ("synthetic", "folder", "manifest", "shards")


@dataclass
class ShardData:
    """Streaming from WebDataset tar shards (`data.source=shards`, written by `audiorep shard`)."""

    shuffle_buffer: int = 1000  # samples held and drawn from at random; 0 reads in shard order
    epoch_samples: int | None = None  # samples per epoch; default: the shards' index.json (needed for URLs)

    def validate(self, key):
        check(self.shuffle_buffer >= 0, f"{key}.shuffle_buffer", self.shuffle_buffer, "an integer >= 0")
        check(self.epoch_samples is None or self.epoch_samples > 0, f"{key}.epoch_samples", self.epoch_samples,
              "a positive integer or null (read from the shards' index.json)")


@dataclass
class DataConfig:
    source: str = "synthetic"  # synthetic | folder | manifest | shards
    path: str | list | None = None  # a folder or manifest; for shards also a brace pattern, URL or list
    sample_rate: int = 16000
    clip_seconds: float = 2.0  # length of the clip each example is cropped to in the loader
    num_workers: int = 0
    synthetic: SyntheticData = field(default_factory=SyntheticData)
    video: VideoData = field(default_factory=VideoData)
    shards: ShardData = field(default_factory=ShardData)

    def validate(self, key):
        check(self.source in DATA_SOURCES, f"{key}.source", self.source, f"one of {', '.join(DATA_SOURCES)}")
        if self.source != "synthetic":
            check(bool(self.path), f"{key}.path", self.path, f"a path (required when source={self.source})")
        if isinstance(self.path, list):
            check(self.source == "shards" and all(isinstance(p, str) and p for p in self.path), f"{key}.path",
                  self.path, "a list of shard paths or URLs (only with source=shards), or one path")
        check(self.sample_rate >= 4000, f"{key}.sample_rate", self.sample_rate, "an integer >= 4000")
        check(self.clip_seconds > 0, f"{key}.clip_seconds", self.clip_seconds, "a positive number")
        check(self.num_workers >= 0, f"{key}.num_workers", self.num_workers, "an integer >= 0")


@dataclass
class FrontendConfig:
    name: str = "log_mel"  # log_mel | waveform (the encoder then sees raw samples)
    n_mels: int = 64
    win_ms: float = 25.0
    hop_ms: float = 10.0
    f_min: float = 60.0
    f_max: float = 7800.0

    def validate(self, key):
        check(8 <= self.n_mels <= 256, f"{key}.n_mels", self.n_mels, "8..256")
        check(0 < self.hop_ms <= self.win_ms, f"{key}.hop_ms", self.hop_ms, f"0 < hop_ms <= win_ms ({self.win_ms})")
        check(0 <= self.f_min < self.f_max, f"{key}.f_min", self.f_min, f"0 <= f_min < f_max ({self.f_max})")


@dataclass
class OnlineProbeConfig:
    every_steps: int = 0  # 0 disables
    n_clips: int = 400  # clips of the labelled probe set (synthetic world, or the first n of the manifest)
    manifest: str | None = None  # labelled CSV (path,label); default: held-out synthetic scenes
    clip_seconds: float = 4.0

    def validate(self, key):
        check(self.every_steps >= 0, f"{key}.every_steps", self.every_steps, "an integer >= 0")
        check(self.n_clips >= 20, f"{key}.n_clips", self.n_clips, "an integer >= 20")


@dataclass
class TrainConfig:
    batch_size: int = 128
    steps: int = 2000
    minutes: float | None = None  # wall-clock budget; stops early, cleanly, with a checkpoint
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    grad_clip: float | None = 5.0
    amp: str = "auto"  # auto | bf16 | fp16 | off
    lr_schedule: str = "cosine"  # after warm-up: cosine | constant
    final_lr_fraction: float = 0.01  # where the cosine ends, as a fraction of lr
    device: str = "auto"
    log_every: int = 10
    checkpoint_every: int = 200
    keep_checkpoints: dict = field(default_factory=dict)  # {name: fraction of the run}: NAME.pt kept there
    out_dir: str = "runs/run"
    compile: bool = False
    max_nonfinite_steps: int = 3  # batches in a row whose loss is NaN/inf that are skipped before the run stops
    online_probe: OnlineProbeConfig = field(default_factory=OnlineProbeConfig)

    def validate(self, key):
        check(self.batch_size >= 2, f"{key}.batch_size", self.batch_size, "an integer >= 2 (contrastive needs pairs)")
        check(self.steps >= 1, f"{key}.steps", self.steps, "an integer >= 1")
        check(self.minutes is None or self.minutes > 0, f"{key}.minutes", self.minutes, "a positive number or null")
        check(self.lr > 0, f"{key}.lr", self.lr, "a positive number")
        check(self.warmup_steps >= 0, f"{key}.warmup_steps", self.warmup_steps, "an integer >= 0")
        check(self.lr_schedule in ("cosine", "constant"), f"{key}.lr_schedule", self.lr_schedule,
              "one of cosine, constant")
        check(0 < self.final_lr_fraction <= 1, f"{key}.final_lr_fraction", self.final_lr_fraction, "a fraction in (0, 1]")
        check(all(isinstance(v, (int, float)) and 0 < v <= 1 for v in self.keep_checkpoints.values()),
              f"{key}.keep_checkpoints", self.keep_checkpoints, "{name: fraction of the run in (0, 1]}")
        check(self.amp in ("auto", "bf16", "fp16", "off"), f"{key}.amp", self.amp, "one of auto, bf16, fp16, off")
        check(self.log_every >= 1, f"{key}.log_every", self.log_every, "an integer >= 1")
        check(self.checkpoint_every >= 1, f"{key}.checkpoint_every", self.checkpoint_every, "an integer >= 1")
        check(self.max_nonfinite_steps >= 0, f"{key}.max_nonfinite_steps", self.max_nonfinite_steps,
              "an integer >= 0 (0 stops at the first non-finite loss)")
        probe = self.online_probe.every_steps
        check(probe % self.log_every == 0, f"{key}.online_probe.every_steps", probe,
              f"a multiple of train.log_every ({self.log_every}); the probe reports in log rows")


@dataclass
class Config:
    method: dict = field(default_factory=lambda: {"name": "simclr"})
    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    frontend: FrontendConfig = field(default_factory=FrontendConfig)
    encoder: dict = field(default_factory=lambda: {"name": "cnn"})
    train: TrainConfig = field(default_factory=TrainConfig)

    def validate(self, key=""):
        for section in ("method", "encoder"):
            name = getattr(self, section).get("name")
            check(isinstance(name, str) and bool(name), f"{section}.name", name, "a name")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def check(ok: bool, key: str, value: Any, expected: str):
    """Raise a ConfigError naming the dotted key, the value given and what is expected."""
    if not ok:
        raise ConfigError(f"config key '{key}': got {value!r}, expected {expected}")


def _coerce(value, tp, key):
    """Check `value` against type hint `tp`, converting int->float where harmless."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        errors = []
        for arg in typing.get_args(tp):
            try:
                return _coerce(value, arg, key)
            except ConfigError as err:
                errors.append(err)
        raise errors[-1]
    if tp is type(None):
        if value is None:
            return None
        raise ConfigError(f"config key '{key}': got {value!r}, expected null")
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"config key '{key}': got {value!r}, expected a mapping of {tp.__name__} keys")
        return from_dict(tp, value, key)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is Any:
        return value
    base = origin or tp
    if base is float and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    if not isinstance(value, base) or (base is int and isinstance(value, bool)):
        raise ConfigError(f"config key '{key}': got {value!r} ({type(value).__name__}), expected {getattr(tp, '__name__', tp)}")
    return value


def from_dict(cls, data: dict, key: str = ""):
    """Build dataclass `cls` from a dict, rejecting unknown keys with a suggestion."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for k, v in (data or {}).items():
        full = f"{key}.{k}" if key else str(k)
        if k not in names:
            close = difflib.get_close_matches(str(k), names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(names)}"
            raise ConfigError(f"unknown config key '{full}'{hint}")
        kwargs[k] = _coerce(v, hints[k], full)
    obj = cls(**kwargs)
    if hasattr(obj, "validate"):
        obj.validate(key)
    return obj


def set_dotted(tree: dict, dotted: str, value):
    """tree[a][b][c] = value for dotted 'a.b.c', making the missing levels."""
    parts = dotted.split(".")
    node = tree
    for p in parts[:-1]:
        if not isinstance(node.get(p), dict):
            node[p] = {}
        node = node[p]
    node[parts[-1]] = value


def parse_overrides(overrides: list[str] | None) -> list[tuple[str, Any]]:
    out = []
    for item in overrides or []:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not of the form key=value (e.g. train.steps=500)")
        k, v = item.split("=", 1)
        try:
            value = yaml.safe_load(v) if v != "" else None
        except yaml.YAMLError as err:
            raise ConfigError(f"override {item!r}: value is not valid YAML ({err})") from err
        out.append((k.strip(), value))
    return out


def resolve_config_path(name_or_path: str) -> Path:
    """A path to a YAML file, or the name of a packaged recipe (e.g. `simclr_cpu_demo`).

    A path that is not a file but names a packaged recipe inside a folder called `configs`
    (`configs/simclr.yaml`, `src/audiorep/configs/simclr.yaml`, from any working folder) is that
    packaged recipe: the docs' `--config configs/NAME.yaml` then works without the repository's
    layout, a symlink, or a particular working folder. An existing file always wins."""
    p = Path(name_or_path)
    if p.is_file():
        return p
    packaged = PACKAGE_CONFIGS / (name_or_path if name_or_path.endswith(".yaml") else f"{name_or_path}.yaml")
    if packaged.is_file():
        return packaged
    in_configs = p.parent.name == "configs" and p.suffix in ("", ".yaml", ".yml")
    if in_configs and (PACKAGE_CONFIGS / f"{p.stem}.yaml").is_file():
        return PACKAGE_CONFIGS / f"{p.stem}.yaml"
    known = sorted(q.stem for q in PACKAGE_CONFIGS.glob("*.yaml"))
    raise ConfigError(f"config {name_or_path!r} is neither a file nor a packaged recipe ({', '.join(known)})")


def _deep_merge(base: dict, update: dict) -> dict:
    out = dict(base)
    for k, v in update.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def read_recipe(name_or_path: str) -> dict:
    """The tree of a YAML recipe (a file path or a packaged name), unvalidated."""
    p = resolve_config_path(name_or_path)
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise ConfigError(f"config {str(p)!r} cannot be read ({err.strerror or type(err).__name__})") from err
    if b"\x00" in raw:
        raise ConfigError(f"config {str(p)!r} is a binary file, not a YAML recipe")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = err.object.count(b"\n", 0, err.start) + 1
        raise ConfigError(f"config {str(p)!r} is not UTF-8 text (byte 0x{err.object[err.start]:02x} at line "
                          f"{line}); save it as UTF-8") from None
    try:
        loaded = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{p}: not valid YAML ({err})") from err
    if not isinstance(loaded, dict):
        raise ConfigError(f"{p}: expected a mapping at the top level")
    return loaded


def load_config(path: str | None = None, overrides: list[str] | None = None, base: dict | None = None) -> Config:
    """Read a YAML recipe (file path or packaged name) over `base`, apply overrides, validate."""
    tree: dict = dict(base or {})
    if path:
        tree = _deep_merge(tree, read_recipe(path))
    for k, v in parse_overrides(overrides):
        set_dotted(tree, k, v)
    tree.setdefault("method", {}).setdefault("name", "simclr")
    tree.setdefault("encoder", {}).setdefault("name", "cnn")
    return from_dict(Config, tree)


def config_from_dict(tree: dict) -> Config:
    return from_dict(Config, tree)
