"""Unsupervised sound separation (MixIT) for separation-based views: the TDCN++-style
separator, mixture consistency, mixtures of mixtures, the training loop and its metrics."""

from audiorep.separation.mixture_consistency import mixture_consistency
from audiorep.separation.tdcn import TDCNConfig, TDCNSeparator

__all__ = ["TDCNConfig", "TDCNSeparator", "mixture_consistency"]
