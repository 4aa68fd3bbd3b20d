"""Per-example random parameters, drawn on a CPU generator.

Parameters are drawn on the CPU (a handful of numbers per example) and then moved to the
batch's device, so a seed gives the same parameters, hence the same batch, on CPU and CUDA.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch


def as_range(value, name: str) -> tuple[float, float]:
    """Accept a number or a [lo, hi] pair; a number means a fixed value."""
    if isinstance(value, (int, float)):
        return float(value), float(value)
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or a [low, high] pair, got {value!r}") from None
    if lo > hi:
        raise ValueError(f"{name} must be [low, high] with low <= high, got {value!r}")
    return lo, hi


def check_probability(p: float) -> float:
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1], got {p}")
    return p


def uniform(n: int, bounds: Sequence[float], generator: torch.Generator | None) -> torch.Tensor:
    lo, hi = bounds
    return lo + (hi - lo) * torch.rand(n, generator=generator, dtype=torch.float64)


def log_uniform(n: int, bounds: Sequence[float], generator: torch.Generator | None) -> torch.Tensor:
    """Uniform on a log scale: the right law for frequencies and time constants."""
    lo, hi = bounds
    if lo <= 0:
        raise ValueError(f"a log-uniform range must be positive, got {list(bounds)}")
    return torch.exp(uniform(n, (math.log(lo), math.log(hi)), generator))


def randint(n: int, high, generator: torch.Generator | None) -> torch.Tensor:
    """Integers in [0, high) per example; `high` may be a per-example tensor."""
    return (torch.rand(n, generator=generator, dtype=torch.float64) * torch.as_tensor(high)).long()


def seeds(n: int, generator: torch.Generator | None) -> torch.Tensor:
    """One 31-bit seed per example for noise made on the batch's device (see `device_noise`)."""
    return torch.randint(0, 2**31 - 1, (n,), generator=generator, dtype=torch.int64)


def apply_mask(n: int, p: float, generator: torch.Generator | None) -> torch.Tensor:
    """Which examples an op touches; drawn even when p == 1 so the stream does not depend on p."""
    return torch.rand(n, generator=generator) < p


def apply_to_chosen(x: torch.Tensor, p: float, generator, fn) -> torch.Tensor:
    """`fn` applied to the examples of `x` chosen with probability `p` each: one call on the
    chosen sub-batch (an index, not a loop), the others passed through unchanged."""
    chosen = apply_mask(x.shape[0], p, generator)
    if bool(chosen.all()):
        return fn(x)
    if not bool(chosen.any()):
        return x
    index = chosen.nonzero().squeeze(1).to(x.device)
    out = x.clone()
    out[index] = fn(x[index]).to(out.dtype)
    return out
