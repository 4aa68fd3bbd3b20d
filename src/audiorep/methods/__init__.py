"""Methods, looked up by the `method.name` key of a config (in `audiorep.builders`)."""

from audiorep.methods.audiovisual import AudioVisual
from audiorep.methods.byol import BYOL
from audiorep.methods.separation_ssl import SeparationSSL
from audiorep.methods.separator_training import SeparatorTraining
from audiorep.methods.simclr import SimCLR

METHODS = {"simclr": SimCLR, "audiovisual": AudioVisual, "separation_ssl": SeparationSSL, "byol": BYOL, "separator": SeparatorTraining}

__all__ = ["BYOL", "METHODS", "AudioVisual", "SeparationSSL", "SeparatorTraining", "SimCLR"]
