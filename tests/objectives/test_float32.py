"""Every loss computes its logits, similarities and SNRs in float32 under autocast (tested with
CPU bf16 autocast): in bf16 they lose the small differences the losses rank by."""

import pytest
import torch

from audiorep.objectives.bilinear import bilinear_contrastive
from audiorep.objectives.byol import byol_loss
from audiorep.objectives.coincidence import coincidence_loss
from audiorep.objectives.mixit import mixit_loss
from audiorep.objectives.ntxent import nt_xent
from audiorep.objectives.pit import pit_loss


def inputs(seed: int):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(16, 32, generator=g)
    audio = torch.randn(4, 2, 800, generator=g)
    return {
        "nt_xent": (lambda a, b: nt_xent(a, b, 0.1), z[:8], z[8:] + 0.3 * z[:8]),
        "bilinear": (lambda a, b: bilinear_contrastive(a, b, torch.eye(32)), z[:8], z[8:] + 0.3 * z[:8]),
        "byol": (byol_loss, z[:8], z[8:] + 0.3 * z[:8]),
        "coincidence": (lambda a, b: coincidence_loss(a.sum(1), (b.sum(1) > 0).float()), z[:8], z[8:]),
        "mixit": (lambda e, r: mixit_loss(e, r).mean(), audio + 0.1 * torch.randn(4, 2, 800, generator=g), audio),
        "pit": (lambda e, s: pit_loss(e, s).mean(), audio + 0.1 * torch.randn(4, 2, 800, generator=g), audio),
    }


@pytest.mark.parametrize("name", list(inputs(0)))
def test_losses_are_float32_under_bf16_autocast(name):
    loss_fn, a, b = inputs(0)[name]
    exact = loss_fn(a.double(), b.double())  # the reference, computed in float64
    with torch.autocast("cpu", dtype=torch.bfloat16):
        under_autocast = loss_fn(a, b)
    assert under_autocast.dtype == torch.float32
    assert float(under_autocast) == pytest.approx(float(exact), rel=1e-5, abs=1e-5)


def test_gradients_reach_bf16_inputs_through_the_cast():
    a = torch.randn(8, 16, dtype=torch.bfloat16, requires_grad=True)
    nt_xent(a, a.detach() + 0.1).backward()
    assert a.grad is not None and a.grad.dtype == torch.bfloat16
