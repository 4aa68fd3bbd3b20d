"""Methods, looked up by the `method.name` key of a config."""

from audiorep.methods.separation_ssl import SeparationSSL
from audiorep.methods.simclr import SimCLR

METHODS = {"simclr": SimCLR, "separation_ssl": SeparationSSL}

__all__ = ["METHODS", "SeparationSSL", "SimCLR"]
