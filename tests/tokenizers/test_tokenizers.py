"""Tokenizers: patch layout, k-means that converges (and agrees with scikit-learn), a VQ whose
dead-code restarts keep its codebook in use, frozen eval-mode encoding, and files."""

import math

import pytest
import torch
import vector_quantize_pytorch.vector_quantize_pytorch as vq_lib
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from audiorep.errors import CheckpointError, ConfigError
from audiorep.frontend.log_mel import LogMel
from audiorep.io.checkpoint import save_checkpoint
from audiorep.tokenizers import (
    TOKENIZERS,
    KMeansTokenizer,
    VQTokenizer,
    build_tokenizer,
    codebook_stats,
    load_tokenizer,
    save_tokenizer,
)
from audiorep.tokenizers.kmeans import kmeans_plus_plus, nearest_centre

SMALL_VQ = {"latent_dim": 8, "hidden": 64}


def blobs(n_blobs: int, dim: int, n: int, spread: float, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """n points around n_blobs centres (unit noise, centres `spread` apart on average), and labels."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(n_blobs, dim, generator=g) * spread
    labels = torch.arange(n) % n_blobs
    return centres[labels] + torch.randn(n, dim, generator=g), labels


def inertia(z: torch.Tensor, centres: torch.Tensor) -> float:
    return nearest_centre(z, centres)[1].mean().item()


# ---- shared parts -------------------------------------------------------------------------
def test_patches_group_consecutive_frames_frame_by_frame():
    tok = KMeansTokenizer(n_features=3, codebook_size=4, patch_frames=3)
    features = torch.arange(2 * 3 * 10, dtype=torch.float32).reshape(2, 3, 10)
    p = tok.patches(features)
    assert p.shape == (2, 3, 9)  # 10 frames -> 3 patches; the 10th frame is dropped
    for b in range(2):
        for j in range(3):
            expected = torch.cat([features[b, :, 3 * j + f] for f in range(3)])
            assert torch.equal(p[b, j], expected)
    with pytest.raises(ValueError, match="3, T"):
        tok.patches(torch.zeros(2, 4, 10))


@pytest.mark.parametrize("name", sorted(TOKENIZERS))
def test_encode_shape_dtype_and_range(name):
    tok = build_tokenizer(name, 5, 7, patch_frames=2)
    tokens = tok.encode(torch.randn(3, 5, 11))
    assert tokens.shape == (3, 5) and tokens.dtype == torch.long
    assert int(tokens.min()) >= 0 and int(tokens.max()) < 7
    assert tok.encode(torch.randn(2, 5, 1)).shape == (2, 0)  # shorter than one patch: no token
    assert len(tok.encode(torch.randn(64, 5, 2)).unique()) > 1  # unfitted: a random codebook, not one code


def test_codebook_stats():
    uniform = codebook_stats(torch.arange(8).repeat(3), 8)
    assert uniform["usage"] == 1.0 and uniform["perplexity"] == pytest.approx(8.0)
    one = codebook_stats(torch.full((2, 5), 3), 8)
    assert one["usage"] == 1 / 8 and one["perplexity"] == pytest.approx(1.0) and one["codebook_size"] == 8
    half = codebook_stats(torch.tensor([0, 0, 0, 1]), 4)  # H = -(.75 ln .75 + .25 ln .25)
    assert half["perplexity"] == pytest.approx(math.exp(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25))))
    with pytest.raises(ValueError):
        codebook_stats(torch.tensor([4]), 4)


def test_fit_sets_statistics_and_history():
    z, _ = blobs(4, 6, 800, spread=5.0)
    z = z * 3 + 10
    tok = KMeansTokenizer(6, 4)
    history = tok.fit(z, iterations=5, batch_size=256)
    assert torch.allclose(tok.mean, z.mean(0), atol=1e-4) and torch.allclose(tok.std, z.std(0, correction=0), atol=1e-4)
    assert bool(tok.fitted) and history["seconds"] > 0
    assert history["stats"]["codebook_size"] == 4 and history["stats"]["usage"] == 1.0


# ---- k-means -----------------------------------------------------------------------------
def test_kmeans_lowers_inertia_to_what_sklearn_reaches():
    z = torch.randn(6000, 4, generator=torch.Generator().manual_seed(1))  # no clusters: iterations must work
    tok = KMeansTokenizer(4, 32)
    history = tok.fit(z, iterations=300, batch_size=128)  # ~4 points per centroid a batch: the rate matters
    first, last = history["inertia"][0], history["inertia"][-1]
    zs = tok.standardise(z)
    assert last < 0.9 * first
    assert last < 0.85 * inertia(zs, torch.randn(32, 4, generator=torch.Generator().manual_seed(2)))  # random codebook
    assert inertia(zs, tok.centroids) == pytest.approx(last, rel=0.05)  # history measures the kept centroids
    reference = KMeans(32, n_init=1, random_state=0).fit(zs.numpy()).inertia_ / len(zs)  # full-batch Lloyd
    assert last < 1.08 * reference


def test_kmeans_clusters_tones_by_pitch():
    sr, freqs = 16000, (250.0, 700.0, 1800.0, 4500.0)
    g = torch.Generator().manual_seed(0)
    t = torch.arange(sr // 2) / sr
    waves, labels = [], []
    for k, f in enumerate(freqs):
        for _ in range(4):
            amp = 0.2 + 0.4 * torch.rand((), generator=g)
            waves.append(amp * torch.sin(2 * math.pi * f * t) + 0.003 * torch.randn(len(t), generator=g))
            labels.append(k)
    mel = LogMel(sr, n_mels=32)(torch.stack(waves))[..., 2:-2]  # [16, 32, 47]: edge frames hold the clip's clicks
    tok = KMeansTokenizer(32, 4, patch_frames=1)
    tok.fit(tok.patches(mel).reshape(-1, 32), iterations=30, batch_size=256)
    tokens = tok.encode(mel)  # [16, 47]
    truth = torch.tensor(labels)[:, None].expand_as(tokens)
    assert adjusted_rand_score(truth.flatten().numpy(), tokens.flatten().numpy()) > 0.99


def test_kmeans_plus_plus_seeds_one_centre_per_blob():
    z, labels = blobs(20, 8, 2000, spread=100.0)  # centres > 100 apart, unit noise
    g = torch.Generator().manual_seed(0)
    seeded = kmeans_plus_plus(z, 20, g)
    random = z[torch.randperm(len(z), generator=g)[:20]]
    assert len(labels[nearest_centre(seeded, z)[0]].unique()) == 20  # every blob gets a centre
    assert inertia(z, seeded) < 24.0  # a seed is a point of its blob: about 2 x 8 dims of unit variance
    assert inertia(z, random) > 10 * inertia(z, seeded)
    tok = KMeansTokenizer(8, 20)
    history = tok.fit(z, iterations=0)  # k-means++ only
    assert history["inertia"] == history["inertia"][:1] and history["stats"]["usage"] == 1.0
    assert adjusted_rand_score(labels.numpy(), tok.encode(z.T[None])[0].numpy()) == 1.0


def test_kmeans_moves_rarely_used_centroids_to_the_data():
    g = torch.Generator().manual_seed(0)
    far = torch.randn(20, 4, generator=g)
    z = torch.cat([torch.randn(6000, 4, generator=g), 200 * far / far.norm(dim=1, keepdim=True)])
    bulk, fits = {}, {}
    for below in (0.01, 0.0):  # k-means++ seeds many centroids on the 20 far outliers
        tok = KMeansTokenizer(4, 32)
        fits[below] = tok.fit(z, iterations=100, batch_size=512, reassign_below=below)
        bulk[below] = inertia(tok.standardise(z[:6000]), tok.centroids)
    assert fits[0.01]["reassigned"] > 0 and fits[0.0]["reassigned"] == 0
    assert bulk[0.01] < 0.85 * bulk[0.0]  # measured: 0.034 against 0.047
    assert fits[0.01]["stats"]["perplexity"] > 1.5 * fits[0.0]["stats"]["perplexity"]  # 25.6 against 12.1


def test_kmeans_fit_is_reproducible():
    z, _ = blobs(8, 3, 1000, spread=3.0)
    a, b = KMeansTokenizer(3, 8), KMeansTokenizer(3, 8)
    a.fit(z, iterations=20, batch_size=128, seed=3)
    b.fit(z, iterations=20, batch_size=128, seed=3)
    assert torch.equal(a.centroids, b.centroids)


# ---- vector quantiser ----------------------------------------------------------------------
def test_vq_uses_most_of_its_codebook():
    z, _ = blobs(16, 8, 4000, spread=8.0)
    tok = VQTokenizer(8, 16, **SMALL_VQ)
    history = tok.fit(z, steps=150, batch_size=256)
    assert history["stats"]["usage"] >= 0.8
    assert history["reconstruction"][-1] < 0.5 * history["reconstruction"][0]
    assert len(history["usage"]) == len(history["reconstruction"]) <= 20 and history["steps_at"][-1] == 150


def collapsed_kmeans(samples, num_clusters, *args, **kwargs):
    """A bad seeding: every code on the first sample (what the library's k-means returns: means, counts)."""
    h, n, d = samples.shape
    means = samples[:, :1].expand(h, num_clusters, d).clone()
    return means, torch.full((h, num_clusters), n / num_clusters, device=samples.device)


def test_vq_dead_code_restarts_recover_a_collapsed_codebook(monkeypatch):
    monkeypatch.setattr(vq_lib, "kmeans", collapsed_kmeans)
    z, _ = blobs(16, 8, 4000, spread=8.0)
    usage, error = {}, {}
    for threshold in (2.0, 0.0):
        tok = VQTokenizer(8, 16, dead_code_threshold=threshold, **SMALL_VQ)
        history = tok.fit(z, steps=100, batch_size=256)
        usage[threshold], error[threshold] = history["stats"]["usage"], history["final_reconstruction"]
        assert history["usage"][0] <= 0.25  # the collapsed start: a few codes take every point
    assert usage[2.0] >= 0.9 and usage[0.0] <= 0.6  # measured: 1.0 and 0.375
    assert error[2.0] < 0.5 * error[0.0]


def test_vq_encoding_never_changes_the_codebook():
    z, _ = blobs(4, 6, 600, spread=6.0)
    unfitted = VQTokenizer(6, 4, **SMALL_VQ)
    before = {k: v.clone() for k, v in unfitted.state_dict().items()}
    unfitted.encode(torch.randn(2, 6, 30))  # the library would k-means-seed here if left uninitialised
    assert all(torch.equal(before[k], v) for k, v in unfitted.state_dict().items())

    tok = VQTokenizer(6, 4, **SMALL_VQ)
    tok.fit(z, steps=20, batch_size=128)
    assert not any(t.requires_grad for t in (*tok.parameters(), *tok.buffers()))
    parent = torch.nn.Sequential(tok)
    parent.train()
    assert not any(m.training for m in tok.modules())
    before = {k: v.clone() for k, v in tok.state_dict().items()}
    tokens = tok.encode(z.T[None])
    again = tok.encode(z.T[None])
    assert torch.equal(tokens, again)
    assert all(torch.equal(before[k], v) for k, v in tok.state_dict().items())


def test_vq_fit_is_reproducible_and_leaves_the_global_generator_alone():
    z, _ = blobs(4, 6, 600, spread=6.0)
    a, b = VQTokenizer(6, 4, **SMALL_VQ), VQTokenizer(6, 4, **SMALL_VQ)
    state = torch.random.get_rng_state()
    a.fit(z, steps=15, batch_size=64, seed=1)
    assert torch.equal(torch.random.get_rng_state(), state)
    b.fit(z, steps=15, batch_size=64, seed=1)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


# ---- files --------------------------------------------------------------------------------
@pytest.mark.parametrize("name,fit", [("kmeans", {"iterations": 10}), ("vq", {"steps": 10, "batch_size": 64})])
def test_save_load_round_trip(tmp_path, name, fit):
    z, _ = blobs(6, 10, 400, spread=4.0)
    settings = SMALL_VQ if name == "vq" else {}
    tok = build_tokenizer(name, 5, 6, patch_frames=2, **settings)
    history = tok.fit(z, **fit)
    path = save_tokenizer(tmp_path / f"{name}.pt", tok, history=history["stats"])
    back = load_tokenizer(path)
    assert type(back) is type(tok) and back.settings() == tok.settings() and bool(back.fitted)
    assert not back.training and not any(p.requires_grad for p in back.parameters())
    features = torch.randn(3, 5, 40)
    assert torch.equal(back.encode(features), tok.encode(features))


def test_files_of_another_kind_or_shape_are_refused(tmp_path):
    other = save_checkpoint(tmp_path / "sep.pt", {"kind": "separator", "state_dict": {}})
    with pytest.raises(CheckpointError, match="sep.pt"):
        load_tokenizer(other)
    tok = KMeansTokenizer(4, 8)
    path = save_tokenizer(tmp_path / "tok.pt", tok)
    bad = torch.load(path, weights_only=True)
    bad["state_dict"]["centroids"] = torch.zeros(8, 5)
    save_checkpoint(path, bad)
    with pytest.raises(CheckpointError, match="tok.pt"):
        load_tokenizer(path)
    bad = {"kind": "tokenizer", "tokenizer": "vq", "settings": tok.settings(), "state_dict": tok.state_dict()}
    save_checkpoint(path, bad)  # k-means weights under the vq name: missing keys
    with pytest.raises(CheckpointError, match="tok.pt"):
        load_tokenizer(path)


def test_build_tokenizer_names_the_choices():
    with pytest.raises(ConfigError, match="kmeans, vq"):
        build_tokenizer("bpe", 8, 16)
    with pytest.raises(ConfigError, match="latent_dim"):
        build_tokenizer("kmeans", 8, 16, latent_dim=4)
