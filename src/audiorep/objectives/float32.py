"""Losses compute in float32, whatever autocast does around them.

Under bf16 autocast a matmul of float32 inputs still runs in bf16 (8 bits of mantissa), so
cosine similarities, logits and SNRs would lose the small differences a contrastive or
separation loss ranks by. `@float32` turns autocast off inside the loss and casts its
half-precision tensor arguments to float32 (gradients flow back through the cast).
"""

from __future__ import annotations

import functools

import torch


def _to_float32(value):
    """Half-precision tensors become float32; float32 and float64 stay as they are."""
    return value.float() if torch.is_tensor(value) and value.dtype in (torch.float16, torch.bfloat16) else value


def float32(loss_fn):
    @functools.wraps(loss_fn)
    def in_float32(*args, **kwargs):
        device = next((a.device.type for a in (*args, *kwargs.values()) if torch.is_tensor(a)), "cpu")
        with torch.autocast(device_type=device, enabled=False):
            return loss_fn(*map(_to_float32, args), **{k: _to_float32(v) for k, v in kwargs.items()})

    return in_float32
