"""The generative method: a tokenizer fitted on the data, a causal transformer trained on next
tokens by the shared trainer, and hidden states that come out of the embedder and HEAR API with
the right shapes and timestamps; several models probed as one."""

import json

import numpy as np
import pytest
import torch

from audiorep import api, hear
from audiorep.builders import build_embedder, build_method, load_embedder
from audiorep.cli import main
from audiorep.config import load_config
from audiorep.errors import ConfigError
from audiorep.models.concat_embedder import ConcatEmbedder
from audiorep.train.trainer import Trainer

TINY = ["encoder.embedding_dim=16", "encoder.depth=2", "encoder.heads=2", "encoder.codebook_size=16",
        "encoder.max_tokens=25", "data.clip_seconds=1.0", "data.synthetic.n_clips=48",
        "data.synthetic.clip_seconds=1.0", "method.fit={clips: 48, iterations: 20, batch_size: 256}",
        "train.batch_size=8", "train.warmup_steps=2", "train.log_every=1", "train.minutes=null",
        "train.checkpoint_every=1000"]
HOP_S = 0.01  # the log-mel hop of the recipe


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("generative")
    cfg = load_config("generative_demo", TINY + ["train.steps=30", f"train.out_dir={out}", "train.lr=3e-3"])
    summary = Trainer(cfg, progress=False).fit()
    return summary, out


def test_the_next_token_loss_falls_and_the_codebook_is_used(trained):
    _, out = trained
    rows = list(__import__("csv").DictReader(open(out / "metrics.csv")))
    loss = [float(r["loss"]) for r in rows if r.get("loss")]
    assert np.mean(loss[-5:]) < np.mean(loss[:3]) - 0.3, loss
    usage = [float(r["token_usage"]) for r in rows if r.get("token_usage")]
    assert np.mean(usage) > 0.5 and min(usage) >= 0.25  # a fitted 16-word codebook: most words occur in a batch


def test_the_tokenizer_is_fitted_frozen_and_saved_with_the_transformer(trained):
    summary, _ = trained
    embedder = load_embedder(summary["checkpoint"])
    tok = embedder.encoder.tokenizer
    assert bool(tok.fitted) and not tok.training
    fresh = build_embedder(load_config("generative_demo", TINY))
    assert not torch.equal(fresh.encoder.tokenizer.centroids, tok.centroids)
    state = torch.load(summary["checkpoint"], weights_only=True)
    assert torch.equal(state["embedder"]["encoder.tokenizer.centroids"], tok.centroids)


def test_hear_api_gives_shapes_and_timestamps_at_the_centre_of_each_tokens_patch(trained):
    summary, _ = trained
    model = hear.load_model(summary["checkpoint"])
    audio = 0.1 * torch.randn(3, 16000 * 3)
    scene = hear.get_scene_embeddings(audio, model)
    frames, times = hear.get_timestamp_embeddings(audio, model)
    assert scene.shape == (3, 16) and model.scene_embedding_size == 16
    assert frames.shape[0] == 3 and frames.shape[2] == 16 and times.shape == frames.shape[:2]
    # a token covers 4 frames of 10 ms: token j is centred on frame 4j + 1.5 (HEAR times in ms);
    # the API interpolates to <= 50 ms hops, so the first two stamps are tokens 0 and 1 here
    assert float(times[0, 0]) == pytest.approx(1.5 * HOP_S * 1000, abs=1e-3)
    assert float(times[0, 1] - times[0, 0]) == pytest.approx(4 * HOP_S * 1000, abs=1e-3)
    assert torch.isfinite(frames).all() and torch.isfinite(scene).all()


def test_a_frame_embedding_never_changes_with_later_audio(trained):
    """Causal: new audio after token j's patch leaves frames 0..j as they were, and changes later ones."""
    embedder = load_embedder(trained[0]["checkpoint"])
    wave = 0.1 * torch.randn(1, 16000)
    changed = wave.clone()
    changed[:, 8000:] = 0.3 * torch.randn(1, 8000)  # from 0.5 s on
    with torch.no_grad():
        a, times = embedder.frames(wave)
        b, _ = embedder.frames(changed)
    # token j reads samples of frames 4j-1 .. 4j+3 (25 ms windows centred on 10 ms hops)
    unaffected = times + 0.0125 + 0.015 < 0.5 - 1e-6
    assert unaffected.any() and (~unaffected).any()
    assert torch.equal(a[:, unaffected], b[:, unaffected])
    assert not torch.allclose(a[:, ~unaffected][:, -3:], b[:, ~unaffected][:, -3:])


def test_long_inputs_are_read_in_windows_of_the_trained_context(trained):
    embedder = load_embedder(trained[0]["checkpoint"])
    enc = embedder.encoder
    tokens = torch.randint(0, 16, (2, 60))  # max_tokens 25: windows 0-24, 25-49, 50-59
    with torch.no_grad():
        whole = enc.hidden(tokens)
        parts = torch.cat([enc.lm.hidden(tokens[:, s:s + 25], enc.layer) for s in (0, 25, 50)], dim=1)
    torch.testing.assert_close(whole, parts)


def test_a_saved_tokenizer_is_reused_and_a_mismatched_one_refused(tmp_path, capsys):
    path = tmp_path / "tok.pt"
    assert main(["tokenize", "--config", "generative_demo", "--out", str(path), "--no-progress", *TINY]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["patches"] > 0 and 0.5 < report["stats"]["usage"] <= 1 and report["stats"]["perplexity"] > 4
    method = build_method(load_config("generative_demo", TINY + [f"method.tokenizer_path={path}"]))
    from audiorep.tokenizers import load_tokenizer

    assert torch.equal(method.embedder.encoder.tokenizer.centroids, load_tokenizer(path).centroids)
    with pytest.raises(ConfigError, match="codebook_size=16 \\(the config says 32\\)"):
        build_method(load_config("generative_demo", TINY + [f"method.tokenizer_path={path}",
                                                            "encoder.codebook_size=32"]))


def test_the_generative_method_refuses_an_encoder_without_tokens():
    with pytest.raises(ConfigError, match="encoder.name=token_lm"):
        build_method(load_config("generative_demo", TINY + ["encoder={name: cnn, width: 4, embedding_dim: 16}"]))


def test_two_models_probed_as_one_put_their_embeddings_side_by_side(trained):
    generative = load_embedder(trained[0]["checkpoint"])
    torch.manual_seed(0)
    cnn = build_embedder(load_config("simclr_demo", ["encoder.width=4", "encoder.embedding_dim=8"])).eval()
    both = ConcatEmbedder([cnn, generative]).eval()
    wave = 0.1 * torch.randn(2, 16000)
    with torch.no_grad():
        assert torch.equal(both(wave), torch.cat([cnn(wave), generative(wave)], dim=1))
        frames, times = both.frames(wave)
        f_cnn, t_cnn = cnn.frames(wave)
        f_gen, t_gen = generative.frames(wave)
    assert torch.equal(times, t_cnn) and both.embedding_size == 24
    for i, t in enumerate(t_cnn.tolist()):  # brute force: the generative frame nearest in time
        j = int(np.argmin(np.abs(t_gen.numpy() - t)))
        assert torch.equal(frames[:, i, 8:], f_gen[:, j])
        assert torch.equal(frames[:, i, :8], f_cnn[:, i])


def test_the_api_loads_a_plus_b_as_one_model(trained, tmp_path):
    ckpt = trained[0]["checkpoint"]
    both = api.load(f"{ckpt}+{ckpt}")
    assert isinstance(both, ConcatEmbedder) and both.embedding_size == 32


def test_each_layer_is_its_own_representation_and_its_own_cache_entry(trained):
    from audiorep.eval.embedding_cache import model_fingerprint

    embedder = load_embedder(trained[0]["checkpoint"])
    wave = 0.1 * torch.randn(2, 16000)
    outputs, prints = [], set()
    for layer in (0, 1, 2, -1):
        embedder.encoder.layer = layer
        with torch.no_grad():
            outputs.append(embedder(wave))
        prints.add(model_fingerprint(embedder))  # same weights, another layer: another embedding
    assert len(prints) == 4
    assert all(not torch.allclose(a, b) for i, a in enumerate(outputs) for b in outputs[i + 1:])
