"""The causal transformer: a position never sees a later token (checked bit for bit, with a
check that this test catches leaks), it learns a pattern that needs attention and a
deterministic sequence to near-zero loss, and its layers and length limits behave as documented."""

import math

import pytest
import torch
import torch.nn.functional as F

from audiorep.models.causal_transformer import CausalTransformer, Rotary, rotate
from audiorep.objectives.next_token import next_token_loss

POSITIONS = ["learned", "rotary"]


def small(positions="learned", **kwargs):
    torch.manual_seed(0)
    args = {"vocab_size": 20, "width": 32, "depth": 3, "heads": 4, "max_len": 16, "positions": positions} | kwargs
    return CausalTransformer(**args).eval()


def outputs(model, tokens):
    """Every hidden state [embeddings, block 1, ..., block depth] and the logits."""
    with torch.no_grad():
        return [*model.hidden_states(tokens), model(tokens)]


def changed(before, after):
    """[T] bool per output: whether any value at that position differs at all (no tolerance)."""
    return [(a != b).flatten(2).any(-1).any(0) if a.dim() == 3 else None for a, b in zip(before, after)]


def edit(tokens, t, vocab_size):
    out = tokens.clone()
    out[:, t] = (out[:, t] + 1) % vocab_size
    return out


def random_tokens(b=2, t=12, vocab_size=20, seed=0):
    return torch.randint(0, vocab_size, (b, t), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("positions", POSITIONS)
def test_changing_token_t_changes_positions_from_t_on_and_never_before(positions):
    model = small(positions)
    tokens = random_tokens()
    before = outputs(model, tokens)
    for t in [0, 1, 5, 10, 11]:
        diff = changed(before, outputs(model, edit(tokens, t, 20)))
        embeddings, *blocks_and_logits = diff
        assert embeddings.tolist() == [i == t for i in range(12)]  # layer 0 reads one token per position
        for layer, d in enumerate(blocks_and_logits, start=1):
            assert not d[:t].any(), f"layer {layer}: positions before {t} changed"
            assert d[t:].all(), f"layer {layer}: a position at or after {t} ignored token {t}"


def leaky_attention(original, allowed_offset):
    """An attention that lets position i see j <= i + allowed_offset: the mistakes the test must catch."""

    def attention(q, k, v, is_causal=False, dropout_p=0.0, **kwargs):
        t = q.shape[-2]
        mask = torch.ones(t, t, dtype=torch.bool).tril(allowed_offset)
        return original(q, k, v, attn_mask=mask, dropout_p=dropout_p)

    return attention


@pytest.mark.parametrize("allowed_offset", [0, 1, 11])
def test_the_causality_check_catches_attention_that_sees_the_future(monkeypatch, allowed_offset):
    """offset 0 rebuilds the causal mask by hand (no leak), 1 is an off-by-one, 11 no mask at all."""
    model = small()
    tokens = random_tokens()
    monkeypatch.setattr(F, "scaled_dot_product_attention", leaky_attention(F.scaled_dot_product_attention,
                                                                           allowed_offset))
    before = outputs(model, tokens)
    logits_diff = changed(before, outputs(model, edit(tokens, 5, 20)))[-1]
    assert logits_diff[:5].any() == (allowed_offset > 0)


def test_rotary_scores_depend_only_on_the_relative_offset():
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(2, 1, 1, 1, 16, generator=g)
    cos, sin = Rotary(16)(40, torch.device("cpu"))

    def score(m, n):
        return (rotate(q, cos[m : m + 1], sin[m : m + 1]) * rotate(k, cos[n : n + 1], sin[n : n + 1])).sum()

    for m, n in [(3, 1), (9, 2), (20, 20)]:
        for shift in [1, 7, 19]:
            torch.testing.assert_close(score(m + shift, n + shift), score(m, n), rtol=1e-5, atol=1e-5)
    assert not torch.allclose(score(5, 1), score(5, 3))  # the offset does matter
    torch.testing.assert_close(rotate(q, cos[7:8], sin[7:8]).norm(), q.norm())  # a rotation


def test_rotary_model_rotates_queries_and_keys_in_every_layer(monkeypatch):
    """On a sequence of one repeated token, the first layer's unrotated queries (and keys) are
    the same at every position; rotated, their scores form a Toeplitz matrix: a function of
    the offset i - j alone, and not a constant one. Every layer's attention gets rotate() of
    its own qkv projection."""
    model = small("rotary", depth=3)
    seen, projected = [], []
    original = F.scaled_dot_product_attention

    def recording(q, k, v, **kwargs):
        seen.append((q, k))
        return original(q, k, v, **kwargs)

    monkeypatch.setattr(F, "scaled_dot_product_attention", recording)
    for block in model.blocks:
        block.attn.qkv.register_forward_hook(lambda module, args, out: projected.append(out))
    with torch.no_grad():
        model(torch.full((1, 12), 3))
    q, k = seen[0]
    scores = (q @ k.transpose(-1, -2))[0]  # [H, T, T]
    torch.testing.assert_close(scores[:, 1:, 1:], scores[:, :-1, :-1], rtol=1e-4, atol=1e-6)
    assert (scores[:, 11, :].std(-1) > 1e-3 * scores[:, 11, :].abs().mean(-1)).all()
    cos, sin = Rotary(8)(12, torch.device("cpu"))
    assert len(seen) == len(projected) == model.depth
    for (q, k), out in zip(seen, projected):
        raw_q, raw_k, _ = out.view(1, 12, 3, 4, 8).permute(2, 0, 3, 1, 4)
        torch.testing.assert_close(q, rotate(raw_q, cos, sin), rtol=0, atol=0)
        torch.testing.assert_close(k, rotate(raw_k, cos, sin), rtol=0, atol=0)


def test_hidden_layers_match_hidden_states_and_the_head():
    model = small("rotary")
    tokens = random_tokens()
    with torch.no_grad():
        states = model.hidden_states(tokens)
        assert len(states) == model.depth + 1 and all(s.shape == (2, 12, model.width) for s in states)
        for layer in range(model.depth + 1):
            assert torch.equal(model.hidden(tokens, layer), states[layer])
        last = model.hidden(tokens, -1)
        assert torch.equal(last, model.ln_f(states[-1]))
        assert torch.equal(model(tokens), model.head(last))
        assert model(tokens).shape == (2, 12, model.vocab_size)
    for layer in (-2, model.depth + 1):
        with pytest.raises(ValueError, match="layer"):
            model.hidden(tokens, layer)


def test_upto_stops_after_that_block():
    model = small()
    tokens = random_tokens()
    calls = []
    for i, block in enumerate(model.blocks):
        block.register_forward_hook(lambda module, args, out, i=i: calls.append(i))
    full = model.hidden_states(tokens)
    calls.clear()
    early = model.hidden_states(tokens, upto=1)
    assert calls == [0] and len(early) == 2 and torch.equal(early[1], full[1])
    calls.clear()
    assert torch.equal(model.hidden(tokens, 2), full[2]) and calls == [0, 1]
    calls.clear()
    assert torch.equal(model.hidden(tokens, 0), full[0]) and calls == []
    with pytest.raises(ValueError, match="upto"):
        model.hidden_states(tokens, upto=4)


def test_learned_positions_refuse_long_sequences_and_rotary_runs_past_max_len():
    tokens = random_tokens(t=40)
    with pytest.raises(ValueError, match=r"max_len=16.*rotary"):
        small("learned")(tokens)
    model = small("rotary")
    with torch.no_grad():
        short = model(tokens[:, :8])  # fills the rotary cache for 8 positions, then it must grow
        long = model(tokens)
    assert long.shape == (2, 40, 20) and torch.isfinite(long).all()
    torch.testing.assert_close(long[:, :8], short, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs,name", [({"width": 30, "heads": 4}, "width"), ({"positions": "sinusoid"}, "positions"),
                                         ({"width": 36, "heads": 4, "positions": "rotary"}, "rotary"),
                                         ({"depth": 0}, "depth"), ({"dropout": 1.0}, "dropout")])
def test_bad_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        small(**kwargs)


def test_initialisation_is_gpt2_style_and_the_head_is_tied():
    model = CausalTransformer(256, width=192, depth=4, heads=4)
    assert model.head.weight is model.tok_emb.weight
    assert (model.width, model.depth, model.vocab_size) == (192, 4, 256)
    residual = 0.02 / math.sqrt(2 * 4)
    for block in model.blocks:
        for layer, std in [(block.attn.qkv, 0.02), (block.mlp[0], 0.02), (block.attn.proj, residual),
                           (block.mlp[2], residual)]:
            assert abs(layer.weight.std().item() / std - 1) < 0.05
            assert not layer.bias.any()
    for table in (model.tok_emb, model.pos_emb):
        assert abs(table.weight.std().item() / 0.02 - 1) < 0.05


def repeating(generator, batch, length, period, vocab_size):
    """Sequences whose first `period` tokens are random and then repeat: token n = token n - period."""
    first = torch.randint(0, vocab_size, (batch, period), generator=generator)
    return first.repeat(1, math.ceil(length / period))[:, :length]


def per_position_loss(model, tokens):
    with torch.no_grad():
        return F.cross_entropy(model(tokens)[:, :-1].transpose(1, 2), tokens[:, 1:], reduction="none").mean(0)


def test_learns_a_pattern_that_needs_attention_but_cannot_predict_random_tokens():
    """Targets 1..period-1 are random (no model beats ln V on fresh sequences, and a model that
    peeked ahead would); later targets copy the token `period` back, which only attention finds."""
    vocab, length, period = 16, 24, 6
    g = torch.Generator().manual_seed(0)
    model = small(vocab_size=vocab, width=32, depth=2, heads=2, max_len=length)
    held_out = repeating(torch.Generator().manual_seed(1), 512, length, period, vocab)
    at_init = per_position_loss(model, held_out)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    for _ in range(300):
        tokens = repeating(g, 32, length, period, vocab)
        loss = next_token_loss(model(tokens), tokens)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    trained = per_position_loss(model.eval(), held_out)
    random_part, copied_part = trained[: period - 1].mean(), trained[period - 1 :].mean()
    assert abs(at_init.mean() - math.log(vocab)) < 0.1
    assert random_part > 0.95 * math.log(vocab)
    assert copied_part < 0.2
    floor = (period - 1) / (length - 1) * math.log(vocab)  # the random part's share, the best any model can do
    assert trained.mean() < floor + 0.2 < at_init.mean() - 1.5


@pytest.mark.parametrize("positions", POSITIONS)
def test_reaches_near_zero_loss_on_a_deterministic_sequence(positions):
    vocab, length = 16, 32
    g = torch.Generator().manual_seed(0)
    model = small(positions, vocab_size=vocab, width=32, depth=2, heads=2, max_len=length).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(200):
        tokens = (torch.randint(0, vocab, (16, 1), generator=g) + torch.arange(length)) % vocab
        loss = next_token_loss(model(tokens), tokens)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    tokens = (torch.arange(vocab)[:, None] + torch.arange(length)) % vocab  # every start offset
    with torch.no_grad():
        assert next_token_loss(model.eval()(tokens), tokens) < 0.05
