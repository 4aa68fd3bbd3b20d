"""The generative encoder: log-mel -> codebook tokens -> causal transformer -> hidden states.

A frozen tokenizer (k-means or a learned vector quantiser, `audiorep.tokenizers`) turns each
patch of `patch_frames` log-mel frames into one token; a causal transformer reads the tokens
and the hidden states of one layer (`layer`) are the frame features, one per token. So the
generative model is an encoder like any other: `AudioEmbedder(frontend, TokenLMEncoder)` gives
pooled scene embeddings and timestamped frame embeddings through the same embedder and HEAR
API, and its checkpoint holds the tokenizer (buffers) with the transformer.

Time: output frame j is token j, the patch of front-end frames j*p .. j*p+p-1, so it is
centred on front-end frame j*p + (p-1)/2. A causal state also carries the tokens before it
(its context reaches into the past), but it changes with no later patch, and patch j is the
newest thing it has heard; its timestamp is that patch's centre. Inputs longer than
`max_tokens` are read in consecutive windows of `max_tokens` tokens, the context the model
was trained with, so a long file never puts the transformer at positions it never saw.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from audiorep.config import check
from audiorep.models.causal_transformer import CausalTransformer
from audiorep.tokenizers import TOKENIZERS, build_tokenizer


@dataclass
class TokenLMConfig:
    """The `encoder:` section for `name: token_lm`."""

    name: str = "token_lm"
    tokenizer: str = "kmeans"  # kmeans | vq (the codebook is fitted before the transformer trains)
    codebook_size: int = 256
    patch_frames: int = 4  # log-mel frames per token: 4 x 10 ms hop = 25 tokens per second
    embedding_dim: int = 192  # transformer width, and so the size of the embedding
    depth: int = 4
    heads: int = 4
    layer: int = -1  # whose hidden states are the representation: 0 = token embeddings, 1..depth, -1 = final
    positions: str = "rotary"  # rotary | learned
    max_tokens: int = 100  # context; longer inputs are read in windows of this many tokens
    dropout: float = 0.0

    def validate(self, key):
        check(self.tokenizer in TOKENIZERS, f"{key}.tokenizer", self.tokenizer, f"one of {sorted(TOKENIZERS)}")
        check(self.codebook_size >= 2, f"{key}.codebook_size", self.codebook_size, "an integer >= 2")
        check(self.patch_frames >= 1, f"{key}.patch_frames", self.patch_frames, "an integer >= 1")
        check(self.embedding_dim >= 8 and self.embedding_dim % self.heads == 0, f"{key}.embedding_dim",
              self.embedding_dim, f"an integer >= 8 divisible by heads ({self.heads})")
        check(self.depth >= 1, f"{key}.depth", self.depth, "an integer >= 1")
        check(self.heads >= 1, f"{key}.heads", self.heads, "an integer >= 1")
        check(-1 <= self.layer <= self.depth, f"{key}.layer", self.layer, f"-1..depth ({self.depth})")
        check(self.positions in ("rotary", "learned"), f"{key}.positions", self.positions, "rotary or learned")
        check(self.max_tokens >= 2, f"{key}.max_tokens", self.max_tokens, "an integer >= 2")
        check(0 <= self.dropout < 1, f"{key}.dropout", self.dropout, "a probability in [0, 1)")


class TokenLMEncoder(nn.Module):
    """Log-mel [B, F, T] -> hidden states of `layer` [B, D, T // patch_frames]."""

    Config = TokenLMConfig
    reads = "spectrogram"
    differentiable = False  # tokens are discrete: no gradient reaches the input

    def __init__(self, in_features: int = 64, tokenizer: str = "kmeans", codebook_size: int = 256,
                 patch_frames: int = 4, embedding_dim: int = 192, depth: int = 4, heads: int = 4, layer: int = -1,
                 positions: str = "rotary", max_tokens: int = 100, dropout: float = 0.0):
        super().__init__()
        self.tokenizer = build_tokenizer(tokenizer, in_features, codebook_size, patch_frames)
        self.lm = CausalTransformer(codebook_size, embedding_dim, depth, heads, max_tokens, positions, dropout)
        self.layer = layer
        self.max_tokens = max_tokens
        self.out_dim = embedding_dim
        self.time_stride = patch_frames
        self.time_offset = (patch_frames - 1) / 2

    def extra_repr(self) -> str:  # in the repr, so embedding caches tell layers apart
        return f"layer={self.layer}, max_tokens={self.max_tokens}"

    def tokens(self, features: torch.Tensor) -> torch.Tensor:
        """Log-mel [B, F, T] -> tokens [B, max(1, T // patch_frames)] (a clip shorter than one
        patch is padded by repeating its last frame)."""
        short = self.time_stride - features.shape[-1]
        if short > 0:
            features = F.pad(features, (0, short), mode="replicate")
        return self.tokenizer.encode(features)

    def hidden(self, tokens: torch.Tensor, layer: int | None = None) -> torch.Tensor:
        """Tokens [B, N] -> hidden states [B, N, D] of `layer`, in windows of `max_tokens`."""
        layer = self.layer if layer is None else layer
        b, n = tokens.shape
        w = self.max_tokens
        if n <= w:
            return self.lm.hidden(tokens, layer)
        windows = -(-n // w)
        padded = F.pad(tokens, (0, windows * w - n))  # padding comes after: a causal state never sees it
        states = self.lm.hidden(padded.reshape(b * windows, w), layer)
        return states.reshape(b, windows * w, -1)[:, :n]

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.hidden(self.tokens(features)).transpose(1, 2)
