"""A causal (GPT-style) transformer over discrete token sequences, such as audio codebook tokens.

Trained to predict the next token, its hidden states are the audio representation: a state at
position t has read tokens 0..t and nothing later, so it must summarise the past well enough to
predict what comes next. `hidden_states` returns every layer's states, since the best layer for
a downstream task is usually a middle one, not the last.

Blocks are pre-LayerNorm (x + Attn(LN(x)); x + MLP(LN(x))): the residual stream is never
normalised, so deep stacks train without warm-up tricks. Attention is
`scaled_dot_product_attention(..., is_causal=True)`, which picks a fused kernel where one
exists. Positions are either a learned table of `max_len` rows, or rotary (RoPE: queries and
keys rotated by an angle proportional to their position, so scores depend on relative offset),
which has no length limit. The output Linear shares its weight with the token embedding (weight
tying): one matrix for reading and writing tokens, fewer parameters, no loss in quality.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

POSITIONS = ("learned", "rotary")


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """RoPE on [B, H, T, d] (rotate-half pairing: dimension i turns with i + d/2); cos, sin [T, d]."""
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos.to(x.dtype) + rotated * sin.to(x.dtype)


class Rotary(nn.Module):
    """cos and sin [T, d] of RoPE angles for any length, cached for the longest length seen.
    Computed in float32 and kept out of the state dict, so `.half()` cannot round the angles."""

    def __init__(self, head_dim: int, base: float = 10000.0):
        super().__init__()
        self.head_dim, self.base = head_dim, base
        self._cache: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, length: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        cache = self._cache
        if cache is None or cache[0].shape[0] < length or cache[0].device != device:
            inv_freq = self.base ** (-torch.arange(0, self.head_dim, 2, device=device, dtype=torch.float32)
                                     / self.head_dim)
            angles = torch.outer(torch.arange(length, device=device, dtype=torch.float32), inv_freq)
            angles = torch.cat([angles, angles], dim=-1)  # [T, d], matching rotate()'s halves
            cache = self._cache = (angles.cos(), angles.sin())
        return cache[0][:length], cache[1][:length]


class CausalSelfAttention(nn.Module):
    """Multi-head attention over the past: one fused qkv Linear, heads as [B, H, T, W/H]."""

    def __init__(self, width: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.dropout = dropout
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor] | None) -> torch.Tensor:
        b, t, w = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        if rope is not None:
            q, k = rotate(q, *rope), rotate(k, *rope)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0)
        return self.proj(y.transpose(1, 2).reshape(b, t, w))


class Block(nn.Module):
    """Pre-LayerNorm transformer block: x + Attn(LN(x)), then x + MLP(LN(x)) with GELU."""

    def __init__(self, width: int, heads: int, mlp_ratio: float, dropout: float):
        super().__init__()
        hidden = max(1, round(width * mlp_ratio))
        self.ln_attn = nn.LayerNorm(width)
        self.attn = CausalSelfAttention(width, heads, dropout)
        self.ln_mlp = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, width))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor] | None) -> torch.Tensor:
        x = x + self.drop(self.attn(self.ln_attn(x), rope))
        return x + self.drop(self.mlp(self.ln_mlp(x)))


class CausalTransformer(nn.Module):
    """Next-token language model over tokens [B, T] in [0, vocab_size); see the module docstring."""

    def __init__(self, vocab_size: int, width: int = 192, depth: int = 4, heads: int = 4, max_len: int = 512,
                 positions: str = "learned", dropout: float = 0.0, mlp_ratio: float = 4.0):
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("width", width), ("depth", depth), ("heads", heads),
                            ("max_len", max_len)):
            if value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value}")
        if width % heads:
            raise ValueError(f"width ({width}) must be divisible by heads ({heads})")
        if positions not in POSITIONS:
            raise ValueError(f"positions must be one of {POSITIONS}, got {positions!r}")
        if positions == "rotary" and (width // heads) % 2:
            raise ValueError(f"positions='rotary' needs an even head dimension, got width / heads = {width // heads}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if mlp_ratio <= 0:
            raise ValueError(f"mlp_ratio must be positive, got {mlp_ratio}")
        self.vocab_size, self.width, self.depth, self.heads = vocab_size, width, depth, heads
        self.max_len, self.positions = max_len, positions

        self.tok_emb = nn.Embedding(vocab_size, width)
        self.pos_emb = nn.Embedding(max_len, width) if positions == "learned" else None
        self.rotary = Rotary(width // heads) if positions == "rotary" else None
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(width, heads, mlp_ratio, dropout) for _ in range(depth))
        self.ln_f = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight  # weight tying

        self.apply(self._init)
        for block in self.blocks:  # GPT-2: each block adds two residual branches; keep the stream's variance flat
            for proj in (block.attn.proj, block.mlp[-1]):
                nn.init.normal_(proj.weight, std=0.02 / math.sqrt(2 * depth))

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def _embed(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.dim() != 2:
            raise ValueError(f"tokens must be [B, T], got shape {tuple(tokens.shape)}")
        t = tokens.shape[1]
        x = self.tok_emb(tokens)
        if self.pos_emb is not None:
            if t > self.max_len:
                raise ValueError(f"tokens has length {t} > max_len={self.max_len} of the learned positions; "
                                 f"use positions='rotary' or a larger max_len")
            x = x + self.pos_emb(torch.arange(t, device=tokens.device))
        return self.drop(x)

    def hidden_states(self, tokens: torch.Tensor, upto: int | None = None) -> list[torch.Tensor]:
        """[embeddings, block 1 output, ..., block `upto` output], each [B, T, width]; blocks past
        `upto` are not run."""
        upto = self.depth if upto is None else upto
        if not 0 <= upto <= self.depth:
            raise ValueError(f"upto must be in 0..{self.depth}, got {upto}")
        rope = self.rotary(tokens.shape[1], tokens.device) if self.rotary is not None else None
        states = [self._embed(tokens)]
        for block in self.blocks[:upto]:
            states.append(block(states[-1], rope))
        return states

    def hidden(self, tokens: torch.Tensor, layer: int) -> torch.Tensor:
        """One layer's states [B, T, width]: 0..depth as in `hidden_states`, or -1 for the last
        block's output after the final LayerNorm (what the output head reads)."""
        if layer == -1:
            return self.ln_f(self.hidden_states(tokens)[-1])
        if not 0 <= layer <= self.depth:
            raise ValueError(f"layer must be -1 or in 0..{self.depth}, got {layer}")
        return self.hidden_states(tokens, upto=layer)[layer]

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits [B, T, vocab_size]; position t predicts token t + 1."""
        return self.head(self.hidden(tokens, -1))
