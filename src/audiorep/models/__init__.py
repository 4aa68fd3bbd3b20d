"""Encoders: log-mel [B, F, T] -> frame features [B, D, T']; looked up by config name."""

from audiorep.models.cnn import AudioCNN
from audiorep.models.efficientnet import EfficientNetB0

ENCODERS = {"cnn": AudioCNN, "efficientnet_b0": EfficientNetB0}

__all__ = ["ENCODERS", "AudioCNN", "EfficientNetB0"]
