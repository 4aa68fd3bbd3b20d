"""Next-token loss and accuracy: position t is scored against token t + 1, checked against a loop
over positions, a by-hand formula, and bf16 logits computed in float32."""

import pytest
import torch
import torch.nn.functional as F

from audiorep.objectives.next_token import next_token_accuracy, next_token_loss


def random_inputs(seed=0, b=3, t=7, v=11):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, t, v, generator=g) * 3, torch.randint(0, v, (b, t), generator=g)


def loop_over_positions(logits, tokens, label_smoothing):
    """One F.cross_entropy per (example, position), then the mean."""
    losses = [F.cross_entropy(logits[i, t][None], tokens[i, t + 1][None], label_smoothing=label_smoothing)
              for i in range(tokens.shape[0]) for t in range(tokens.shape[1] - 1)]
    return torch.stack(losses).mean()


def by_hand(logits, tokens, label_smoothing):
    """-(1 - e) log p(next) - e * mean_v log p(v), from a float64 log-softmax."""
    logp = logits.double().log_softmax(-1)[:, :-1]
    nll = -logp.gather(-1, tokens[:, 1:, None]).squeeze(-1)
    return ((1 - label_smoothing) * nll - label_smoothing * logp.mean(-1)).mean()


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_loss_equals_a_loop_over_positions_and_the_formula(label_smoothing):
    logits, tokens = random_inputs()
    loss = next_token_loss(logits, tokens, label_smoothing=label_smoothing)
    assert loss.shape == () and loss.dtype == torch.float32
    torch.testing.assert_close(loss, loop_over_positions(logits, tokens, label_smoothing), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(loss.double(), by_hand(logits, tokens, label_smoothing), rtol=1e-6, atol=1e-6)


def test_position_t_predicts_token_t_plus_1():
    _, tokens = random_inputs()
    ahead = F.one_hot(tokens[:, 1:], 11).float() * 50  # position t confident of token t + 1
    logits = torch.cat([ahead, torch.zeros(3, 1, 11)], dim=1)  # the last position predicts nothing
    assert next_token_loss(logits, tokens) < 1e-6
    assert next_token_accuracy(logits, tokens) == 1
    same = F.one_hot(tokens, 11).float() * 50  # confident of its own token: the unshifted mistake
    assert next_token_loss(same, tokens) > 10


def test_bf16_logits_are_computed_in_float32():
    logits, tokens = random_inputs(seed=1, v=300)
    half = logits.bfloat16().requires_grad_()
    loss = next_token_loss(half, tokens, label_smoothing=0.1)
    assert loss.dtype == torch.float32
    assert torch.equal(loss, next_token_loss(half.detach().float(), tokens, label_smoothing=0.1))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert next_token_loss(half, tokens).dtype == torch.float32
    loss.backward()
    assert half.grad.dtype == torch.bfloat16 and half.grad.abs().sum() > 0


def test_accuracy_by_hand_and_without_gradient():
    logits, tokens = random_inputs(seed=2, b=4, t=9, v=3)  # small vocab: some argmaxes hit
    logits.requires_grad_()
    hits = [logits[i, t].argmax().item() == tokens[i, t + 1].item() for i in range(4) for t in range(8)]
    accuracy = next_token_accuracy(logits, tokens)
    assert 0 < sum(hits) < len(hits)
    assert accuracy.item() == pytest.approx(sum(hits) / len(hits)) and not accuracy.requires_grad


@pytest.mark.parametrize("logits_shape,tokens_shape", [((2, 5, 4), (2, 6)), ((2, 5), (2, 5)), ((2, 1, 4), (2, 1))])
def test_mismatched_or_too_short_inputs_are_refused(logits_shape, tokens_shape):
    with pytest.raises(ValueError, match="T >= 2"):
        next_token_loss(torch.zeros(logits_shape), torch.zeros(tokens_shape, dtype=torch.long))
