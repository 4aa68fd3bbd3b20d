import pytest
import torch

from audiorep.builders import build_embedder, random_init_embedder
from audiorep.config import load_config


@pytest.mark.parametrize("name,width", [("cnn", 8), ("efficientnet_b0", 8)])
def test_encoders_give_embeddings_and_timestamped_frames(name, width):
    cfg = load_config("simclr_demo", [f"encoder.name={name}", f"encoder.width={width}", "encoder.embedding_dim=32"])
    emb = build_embedder(cfg).eval()
    wave = torch.randn(2, 32000) * 0.1
    with torch.no_grad():
        scene = emb(wave)
        frames, times = emb.frames(wave)
    assert scene.shape == (2, 32)
    assert frames.shape[0] == 2 and frames.shape[2] == 32 and frames.shape[1] == times.shape[0]
    hop = (times[1:] - times[:-1])
    assert torch.allclose(hop, torch.full_like(hop, emb.frame_hop_s)) and emb.frame_hop_s <= 0.05
    assert times[-1] <= 2.0 + emb.frame_hop_s  # frames cover the clip, not beyond it


def test_embedding_depends_on_the_input_and_gradients_reach_every_layer():
    cfg = load_config("simclr_demo", ["encoder.width=8", "encoder.embedding_dim=16"])
    emb = build_embedder(cfg).train()
    out = emb(torch.randn(4, 16000))
    out.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in emb.parameters())
    emb.eval()
    with torch.no_grad():
        assert not torch.allclose(emb(torch.randn(1, 16000)), emb(torch.randn(1, 16000)))


def test_random_init_is_reproducible_by_seed():
    a, b, c = random_init_embedder(seed=1), random_init_embedder(seed=1), random_init_embedder(seed=2)
    x = torch.randn(1, 16000)
    with torch.no_grad():
        assert torch.equal(a(x), b(x)) and not torch.equal(a(x), c(x))
