import pytest
import torch

from audiorep.builders import build_embedder, random_init_embedder
from audiorep.config import load_config


@pytest.mark.parametrize("name,width,extra", [("cnn", 8, []), ("cnn", 8, ["encoder.freq_pool=flatten"]),
                                              ("efficientnet_b0", 8, [])])
def test_encoders_give_embeddings_and_timestamped_frames(name, width, extra):
    cfg = load_config("simclr_demo", [f"encoder.name={name}", f"encoder.width={width}", "encoder.embedding_dim=32",
                                      *extra])
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


def test_flatten_keeps_where_in_frequency_the_energy_is_which_the_band_average_loses():
    """Two inputs whose last feature maps differ only in the order of their bands look the same
    to the band-averaging CNN and different to the flattening one (BYOL-A's pooling)."""
    from audiorep.models.cnn import AudioCNN

    class LastMap(torch.nn.Module):  # stands in for the stages: this map, whatever the input
        def __init__(self, last):
            super().__init__()
            self.last = last

        def forward(self, x):
            return self.last.expand(x.shape[0], -1, -1, -1)

    torch.manual_seed(0)
    last = torch.randn(1, 16, 4, 10)  # width 2: 16 channels after four stages; 64 bands -> 4
    for pool, differs in (("mean", False), ("flatten", True)):
        cnn = AudioCNN(in_features=64, width=2, embedding_dim=12, freq_pool=pool).eval()
        mel = torch.randn(2, 64, 40)
        with torch.no_grad():
            cnn.stages = LastMap(last)
            a = cnn(mel)
            cnn.stages = LastMap(last.flip(2))  # the same channels, bands in reverse order
            b = cnn(mel)
        assert a.shape == b.shape == (2, 12, 10)
        assert (not torch.allclose(a, b)) == differs, pool
    assert AudioCNN(in_features=64, width=8, freq_pool="flatten").to_embedding.in_channels == 64 * 4
    assert AudioCNN(in_features=40, width=8, freq_pool="flatten").to_embedding.in_channels == 64 * 3  # 40->20,10,5,3
    assert AudioCNN(in_features=40, width=8).to_embedding.in_channels == 64


def test_an_unknown_freq_pool_is_refused_with_the_choices():
    from audiorep.errors import ConfigError

    with pytest.raises(ConfigError, match=r"encoder.freq_pool.*mean, flatten"):
        build_embedder(load_config("simclr_demo", ["encoder.freq_pool=max"]))
