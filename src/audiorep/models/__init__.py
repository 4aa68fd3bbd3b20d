"""Encoders: features [B, F, T] (log-mel, or raw samples with F = 1) -> frame features
[B, D, T']; each carries its own config dataclass (`Config`) and says what it `reads`."""

from audiorep.models.cnn import AudioCNN
from audiorep.models.efficientnet import EfficientNetB0
from audiorep.models.token_lm import TokenLMEncoder
from audiorep.models.video_encoder import R2Plus1D
from audiorep.models.waveform_cnn import WaveformCNN

ENCODERS = {"cnn": AudioCNN, "efficientnet_b0": EfficientNetB0, "waveform_cnn": WaveformCNN,
            "token_lm": TokenLMEncoder}
VIDEO_ENCODERS = {"r2plus1d": R2Plus1D}  # video [B, F, 3, H, W] -> [B, D]; not audio encoders

__all__ = ["ENCODERS", "VIDEO_ENCODERS", "AudioCNN", "EfficientNetB0", "R2Plus1D", "TokenLMEncoder", "WaveformCNN"]
