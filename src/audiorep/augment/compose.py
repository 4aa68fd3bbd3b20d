"""Chains of augmentations, and building them from a recipe's YAML list.

A recipe names its chain in config::

    augment:
      - {name: random_crop, seconds: 1.0}
      - {name: pitch_shift, semitones: [-4, 4], p: 0.5}
      - {name: random_apply, p: 0.8, ops: [{name: gain, db: [-6, 6]}, {name: eq}]}

`build_chain(spec, sample_rate)` turns it into a `Compose`; unknown names and bad
parameters raise `ConfigError` naming the entry. A `pitch_shift` entry directly followed
by a `time_stretch` entry becomes one `PitchTimeShift` (one vocoder pass instead of two,
same parameters and probabilities); `fuse=False` keeps them apart.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Iterable

import torch
from torch import nn

from audiorep.augment.random_draws import apply_mask, apply_to_chosen, check_probability
from audiorep.errors import ConfigError


class Compose(nn.Module):
    """Apply ops in order; each op draws its parameters from the same generator."""

    def __init__(self, ops: Iterable[nn.Module]):
        super().__init__()
        self.ops = nn.ModuleList(ops)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        for op in self.ops:
            x = op(x, generator)
        return x

    def __len__(self) -> int:
        return len(self.ops)

    def __getitem__(self, i):
        return self.ops[i]


class RandomApply(nn.Module):
    """Apply a sub-chain to each example with probability `p` (the others pass through).

    The sub-chain must keep the shape of its input (no crops inside).
    """

    def __init__(self, ops: Iterable[nn.Module], p: float = 0.5):
        super().__init__()
        self.chain = ops if isinstance(ops, Compose) else Compose(ops)
        self.p = check_probability(p)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return apply_to_chosen(x, self.p, generator, lambda chosen: self.chain(chosen, generator))

    def extra_repr(self) -> str:
        return f"p={self.p}"


class OneOf(nn.Module):
    """Apply exactly one op of `ops` to each example, chosen uniformly per example, with probability `p`."""

    def __init__(self, ops: Iterable[nn.Module], p: float = 1.0):
        super().__init__()
        self.ops = nn.ModuleList(ops)
        if len(self.ops) == 0:
            raise ValueError("one_of needs at least one op")
        self.p = check_probability(p)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        batch = x.shape[0]
        chosen = apply_mask(batch, self.p, generator)
        which = (torch.rand(batch, generator=generator) * len(self.ops)).long().clamp(max=len(self.ops) - 1)
        out = x.clone()
        for k, op in enumerate(self.ops):  # a loop over ops, not over examples
            selected = chosen & (which == k)
            if bool(selected.any()):
                index = selected.nonzero().squeeze(1).to(x.device)
                out[index] = op(x[index], generator)
        return out

    def extra_repr(self) -> str:
        return f"p={self.p}"


#: op name -> (module in audiorep.augment, class); imported on first use
OPS = {
    "random_crop": ("crop", "RandomCrop"),
    "gain": ("gain", "Gain"),
    "polarity": ("gain", "PolarityInversion"),
    "fade": ("gain", "Fade"),
    "noise": ("noise", "ColoredNoise"),
    "background": ("noise", "BackgroundMix"),
    "pitch_shift": ("pitch_shift", "PitchShift"),
    "time_stretch": ("time_stretch", "TimeStretch"),
    "eq": ("filters", "ParametricEQ"),
    "lowpass": ("filters", "LowPass"),
    "highpass": ("filters", "HighPass"),
    "bandpass": ("filters", "BandPass"),
    "reverb": ("reverb", "Reverb"),
    "time_mask": ("masking", "TimeMask"),
    "freq_mask": ("masking", "FrequencyMask"),
    "resized_crop": ("resized_crop", "RandomResizedCrop"),
    "mixup": ("mixing", "Mixup"),
    "log_mixup_exp": ("mixing", "LogMixupExp"),
    "scene_mix": ("mixing", "SceneMix"),
}


def op_class(name: str) -> type:
    """The class registered under `name` (KeyError if there is none)."""
    module, cls = OPS[name]
    return getattr(importlib.import_module(f"audiorep.augment.{module}"), cls)


_CONTAINERS = {"random_apply": RandomApply, "one_of": OneOf}


def _build_op(entry, where: str, sample_rate: int, fuse: bool = True) -> nn.Module:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise ConfigError(f"{where}: expected a mapping with a 'name' key, got {entry!r}")
    name = entry["name"]
    where = f"{where} ({name!r})"
    kwargs = {k: v for k, v in entry.items() if k != "name"}
    if name in _CONTAINERS:
        ops = kwargs.pop("ops", None)
        if not isinstance(ops, list) or not ops:
            raise ConfigError(f"{where}: needs 'ops', a non-empty list of augmentation entries")
        unknown = set(kwargs) - {"p"}
        if unknown:
            raise ConfigError(f"{where}: unknown parameter(s) {sorted(unknown)}; expected 'ops' and 'p'")
        children = [_build_op(child, f"{where} > entry {i}", sample_rate, fuse) for i, child in enumerate(ops)]
        if name == "random_apply" and fuse:  # a sub-chain runs in order; one_of's children are alternatives
            children = fuse_vocoder_ops(children)
        try:
            return _CONTAINERS[name](children, **kwargs)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{where}: {err}") from None
    if name not in OPS:
        known = sorted(OPS) + sorted(_CONTAINERS)
        raise ConfigError(f"{where}: unknown augmentation; known names are {', '.join(known)}")
    cls = op_class(name)
    accepted = [k for k in inspect.signature(cls.__init__).parameters if k != "self"]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ConfigError(f"{where}: unknown parameter(s) {unknown}; expected some of {accepted}")
    if "sample_rate" in accepted:
        kwargs.setdefault("sample_rate", sample_rate)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where}: {err}") from None


def fuse_vocoder_ops(ops: list[nn.Module]) -> list[nn.Module]:
    """Replace each `PitchShift` directly followed by a `TimeStretch` (same STFT) with a `PitchTimeShift`."""
    from audiorep.augment.pitch_shift import PitchShift
    from audiorep.augment.pitch_time import PitchTimeShift
    from audiorep.augment.time_stretch import TimeStretch

    fused, i = [], 0
    while i < len(ops):
        pair = ops[i : i + 2]
        if (
            len(pair) == 2
            and type(pair[0]) is PitchShift
            and type(pair[1]) is TimeStretch
            and (pair[0].n_fft, pair[0].hop) == (pair[1].n_fft, pair[1].hop)
        ):
            fused.append(PitchTimeShift(*pair))
            i += 2
        else:
            fused.append(ops[i])
            i += 1
    return fused


def build_chain(spec: list[dict] | None, sample_rate: int = 16000, fuse: bool = True) -> Compose:
    """Build a `Compose` from a list of `{"name": op, **params}` entries (an empty list is the identity).

    `fuse` merges adjacent pitch shift and time stretch entries into one vocoder pass.
    """
    if spec is None:
        spec = []
    if not isinstance(spec, (list, tuple)):
        raise ConfigError(f"augmentation chain must be a list of entries, got {type(spec).__name__}")
    ops = [_build_op(entry, f"augmentation entry {i}", sample_rate, fuse) for i, entry in enumerate(spec)]
    return Compose(fuse_vocoder_ops(ops) if fuse else ops)
