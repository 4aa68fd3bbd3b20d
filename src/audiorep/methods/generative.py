"""Generative pretraining: predict the next codebook token of the audio.

Each clip goes through the waveform chain (optional: gain, noise), the embedder's front-end
and the encoder's frozen tokenizer, giving one token per patch of log-mel frames; the causal
transformer reads them and is trained by next-token cross-entropy, as a language model is.
No label is used. The tokenizer is fitted on the training data before the first step (or read
from `tokenizer_path`) and is handed over by `audiorep.builders`; its hidden states are the
representation (`models/token_lm.py`), kept in `self.embedder` like every method's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from audiorep.augment.compose import build_chain
from audiorep.config import check
from audiorep.errors import ConfigError
from audiorep.methods.base import Method, MethodConfig
from audiorep.objectives.next_token import next_token_accuracy, next_token_loss
from audiorep.tokenizers.stats import usage_and_perplexity


def default_fit() -> dict:
    return {"clips": 1000, "iterations": 300, "batch_size": 4096, "steps": 1500}


@dataclass
class GenerativeConfig(MethodConfig):
    name: str = "generative"
    tokenizer_path: str | None = None  # a fitted tokenizer file (`audiorep tokenize`); None: fit one first
    fit: dict = field(default_factory=default_fit)  # clips to fit on; k-means iterations / VQ steps, batch size
    wave_augment: list = field(default_factory=list)  # e.g. [{name: gain, db: [-6, 6]}]: no crops needed
    label_smoothing: float = 0.0

    def validate(self, key):
        unknown = sorted(set(self.fit) - set(default_fit()) - {"seed", "lr"})
        if unknown:
            raise ConfigError(f"config key '{key}.fit': unknown key(s) {unknown}; expected some of "
                              f"{sorted(default_fit()) + ['lr', 'seed']}")
        check(int(self.fit.get("clips", 1)) >= 1, f"{key}.fit.clips", self.fit.get("clips"), "an integer >= 1")
        check(0 <= self.label_smoothing < 1, f"{key}.label_smoothing", self.label_smoothing, "a number in [0, 1)")


class Generative(Method):
    Config = GenerativeConfig

    def __init__(self, cfg: GenerativeConfig, embedder: nn.Module, sample_rate: int, tokenizer: nn.Module):
        super().__init__()
        if not hasattr(embedder.encoder, "tokenizer"):
            raise ConfigError("method 'generative' trains the token_lm encoder; set encoder.name=token_lm")
        self.cfg = cfg
        self.embedder = embedder
        embedder.encoder.tokenizer = tokenizer  # fitted and frozen: only the transformer learns
        self.wave_augment = build_chain(cfg.wave_augment, sample_rate)

    def forward(self, batch: dict, generator: torch.Generator | None = None) -> dict:
        encoder = self.embedder.encoder
        with torch.no_grad():
            waves = self.wave_augment(batch["audio"], generator)
            tokens = encoder.tokens(self.embedder.frontend(waves))
        tokens = tokens[:, : encoder.max_tokens]  # the context the model is built for
        logits = encoder.lm(tokens)
        loss = next_token_loss(logits, tokens, self.cfg.label_smoothing)
        usage, perplexity = usage_and_perplexity(tokens, encoder.tokenizer.codebook_size)  # no host sync
        return {"loss": loss, "next_token_accuracy": next_token_accuracy(logits, tokens),
                "token_perplexity": perplexity, "token_usage": usage}
