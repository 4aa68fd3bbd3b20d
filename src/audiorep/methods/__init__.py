"""Methods, looked up by the `method.name` key of a config (in `audiorep.builders`)."""

from audiorep.methods.audiovisual import AudioVisual
from audiorep.methods.byol import BYOL
from audiorep.methods.generative import Generative
from audiorep.methods.separation_ssl import SeparationSSL
from audiorep.methods.separator_training import SeparatorTraining
from audiorep.methods.simclr import SimCLR
from audiorep.methods.supervised import Supervised

METHODS = {"simclr": SimCLR, "audiovisual": AudioVisual, "separation_ssl": SeparationSSL, "byol": BYOL,
           "separator": SeparatorTraining, "generative": Generative, "supervised": Supervised}

__all__ = ["BYOL", "METHODS", "AudioVisual", "Generative", "SeparationSSL", "SeparatorTraining", "SimCLR", "Supervised"]
