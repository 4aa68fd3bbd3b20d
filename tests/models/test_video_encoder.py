import pytest
import torch

from audiorep.config import from_dict
from audiorep.errors import ConfigError
from audiorep.models import ENCODERS, VIDEO_ENCODERS
from audiorep.models.video_encoder import R2Plus1D, VideoEncoderConfig


def small(**kw):
    torch.manual_seed(0)
    return R2Plus1D(**{"width": 8, "embedding_dim": 24, **kw})


@pytest.mark.parametrize("size,frames", [(8, 4), (16, 8), (32, 16), (64, 4), (12, 5)])
def test_output_shapes_for_8_to_64_px_and_4_to_16_frames(size, frames):
    enc = small().eval()
    with torch.no_grad():
        clip, per_frame = enc(torch.rand(2, frames, 3, size, size), return_frames=True)
    assert clip.shape == (2, 24) and per_frame.shape == (2, frames, 24) and enc.out_dim == 24
    torch.testing.assert_close(per_frame.mean(1), clip)


@pytest.mark.parametrize("size,final", [(8, 4), (16, 4), (32, 4), (64, 4), (128, 8), (6, 3), (4, 4), (3, 3)])
def test_spatial_strides_adapt_to_the_input_size(size, final):
    enc = small()
    strides = enc.strides(size, size)
    assert len(strides) == 4  # stem + three stages
    for stride in strides:
        size = (size - 1) // stride[0] + 1  # 3x3, padding 1
    assert size == final
    assert enc.strides(8, 64) == [(2, 2), (1, 2), (1, 2), (1, 2)]  # each axis on its own


def test_uint8_and_float_inputs_agree():
    enc = small().eval()
    u8 = torch.randint(0, 256, (2, 4, 3, 16, 16), dtype=torch.uint8)
    with torch.no_grad():
        torch.testing.assert_close(enc(u8), enc(u8.float() / 255))
    with pytest.raises(ValueError, match="expects video"):
        enc(torch.rand(2, 3, 16, 16))


@pytest.mark.parametrize("norm", ["batch", "group"])
def test_gradients_reach_every_parameter(norm):
    enc = small(norm=norm, blocks=[2, 1]).train()
    enc(torch.rand(3, 4, 3, 16, 16)).square().sum().backward()
    missing = [n for n, p in enc.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert not missing


def test_config_defaults_validation_and_registry():
    cfg = from_dict(VideoEncoderConfig, {"blocks": [1, 2], "norm": "group"}, "video_encoder")
    enc = VIDEO_ENCODERS[cfg.name](**{k: v for k, v in vars(cfg).items() if k != "name"})
    assert len(enc.stages) == 2 and enc.out_dim == cfg.embedding_dim == 128 and enc.reads == "video"
    assert "r2plus1d" not in ENCODERS  # the audio encoders read spectrograms or samples
    for bad in ({"norm": "layer"}, {"blocks": []}, {"blocks": [0]}, {"width": 2}):
        with pytest.raises(ConfigError):
            from_dict(VideoEncoderConfig, bad, "video_encoder")


def sprites(n: int, generator, size: int = 16, frames: int = 6):
    """A 3 px white square moving right (label 0) or left (label 1), random row and start: only
    the direction of motion tells the classes apart, so the encoder must use time."""
    labels = torch.arange(n) % 2
    video = torch.zeros(n, frames, 3, size, size)
    row = torch.randint(0, size - 3, (n,), generator=generator)
    start = torch.randint(3, size - 6, (n,), generator=generator)
    for i in range(n):
        for f in range(frames):
            col = int(start[i]) + (f if labels[i] == 0 else -f)
            col = max(0, min(size - 3, col))
            video[i, f, :, row[i]:row[i] + 3, col:col + 3] = 1.0
    return video, labels


def test_learns_to_tell_two_sprite_motions_apart():
    # GroupNorm: after 25 steps BatchNorm's running statistics still lag the weights, and
    # eval mode would measure that lag rather than what the network learned
    g = torch.Generator().manual_seed(0)
    enc = small(embedding_dim=2, norm="group")
    opt = torch.optim.Adam(enc.parameters(), lr=3e-3)
    for _ in range(25):
        video, labels = sprites(16, g)
        loss = torch.nn.functional.cross_entropy(enc(video), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    video, labels = sprites(32, g)
    with torch.no_grad():
        accuracy = (enc.eval()(video).argmax(1) == labels).float().mean().item()
    assert accuracy >= 0.9
