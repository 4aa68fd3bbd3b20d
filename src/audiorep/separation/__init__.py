"""Unsupervised sound separation (MixIT) for separation-based views: the TDCN++-style
separator, mixture consistency, mixtures of mixtures, separated views and their metrics.
Separators are trained by the `separator` method on the shared trainer."""

from audiorep.separation.mixture_consistency import mixture_consistency
from audiorep.separation.tdcn import TDCNConfig, TDCNSeparator

__all__ = ["TDCNConfig", "TDCNSeparator", "mixture_consistency"]
