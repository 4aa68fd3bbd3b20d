"""Encoders: features [B, F, T] (log-mel, or raw samples with F = 1) -> frame features
[B, D, T']; each carries its own config dataclass (`Config`) and says what it `reads`."""

from audiorep.models.cnn import AudioCNN
from audiorep.models.efficientnet import EfficientNetB0
from audiorep.models.waveform_cnn import WaveformCNN

ENCODERS = {"cnn": AudioCNN, "efficientnet_b0": EfficientNetB0, "waveform_cnn": WaveformCNN}

__all__ = ["ENCODERS", "AudioCNN", "EfficientNetB0", "WaveformCNN"]
