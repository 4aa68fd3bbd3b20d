"""Frame timestamps are the centres of the frames' receptive fields, measured by gradients on
the real encoders: the HEAR timestamp embeddings must not be shifted in time."""

import pytest
import torch

from audiorep.builders import build_embedder
from audiorep.config import load_config
from audiorep.models import ENCODERS

MEL_HOP_S = 0.01


def receptive_field(embedder, wave: torch.Tensor, frame: int) -> tuple[int, int]:
    """First and last front-end frame whose gradient reaches output `frame`. A frame counts
    where |gradient| exceeds 1 % of its peak: EfficientNet's squeeze-excitation makes every
    output depend faintly on the whole clip, which would otherwise make every field the clip."""
    features = embedder.frontend(wave).detach().requires_grad_(True)
    embedder.encoder(features)[..., frame].abs().sum().backward()
    strength = features.grad.abs().sum(dim=(0, 1))
    inside = torch.nonzero(strength > 0.01 * strength.max()).flatten()
    return int(inside[0]), int(inside[-1])


# token_lm reads discrete tokens, so no gradient reaches its input: its timing is checked by
# changing the audio instead (tests/methods/test_generative.py)
@pytest.mark.parametrize("name", sorted(n for n, e in ENCODERS.items() if getattr(e, "differentiable", True)))
def test_each_frame_time_is_the_centre_of_its_receptive_field(name):
    frontend = "waveform" if ENCODERS[name].reads == "waveform" else "log_mel"
    cfg = load_config("simclr_demo", [f"encoder={{name: {name}, width: 8, embedding_dim: 16}}",
                                      f"frontend.name={frontend}"])
    torch.manual_seed(0)
    embedder = build_embedder(cfg).eval()
    wave = 0.1 * torch.randn(4, 3 * 16000)
    _, times = embedder.frames(wave)
    for frame in (20, 37):  # inside the clip, where no field is cut by its edges
        first, last = receptive_field(embedder, wave, frame)
        centre_s = (first + last) / 2 * embedder.frontend.hop_seconds
        assert abs(float(times[frame]) - centre_s) <= MEL_HOP_S / 4, (name, frame, first, last, float(times[frame]))


def test_the_default_cnn_reports_frame_5_at_200_ms():
    # the case the issue measured: output frame 5 depends on mel frames 9-31, centred at 200 ms
    torch.manual_seed(0)
    embedder = build_embedder(load_config("simclr_demo")).eval()
    first, last = receptive_field(embedder, 0.1 * torch.randn(2, 16000), 5)
    _, times = embedder.frames(torch.zeros(1, 16000))
    assert (first + last) / 2 * MEL_HOP_S == pytest.approx(0.2) and float(times[5]) == pytest.approx(0.2)
