"""Discrete tokenizers: log-mel frames (or short patches of frames) -> codebook indices.

A generative "next token" method needs a discrete sequence to predict: a tokenizer is
fitted once on unlabelled audio (k-means on standardised patches, or a small autoencoder
with a vector-quantised bottleneck), frozen, and then turns every clip into tokens
[B, T // patch_frames] that a causal model learns to predict. `codebook_stats` says how
much of the codebook the tokens use; `save_tokenizer` / `load_tokenizer` share a fitted
tokenizer between runs.
"""

from audiorep.tokenizers.base import Tokenizer
from audiorep.tokenizers.files import (
    TOKENIZERS,
    build_tokenizer,
    load_tokenizer,
    save_tokenizer,
)
from audiorep.tokenizers.kmeans import KMeansTokenizer
from audiorep.tokenizers.stats import codebook_stats
from audiorep.tokenizers.vector_quantizer import VQTokenizer

__all__ = ["TOKENIZERS", "KMeansTokenizer", "Tokenizer", "VQTokenizer", "build_tokenizer", "codebook_stats",
           "load_tokenizer", "save_tokenizer"]
