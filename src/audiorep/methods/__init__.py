"""Methods, looked up by the `method.name` key of a config."""

from audiorep.methods.simclr import SimCLR

METHODS = {"simclr": SimCLR}

__all__ = ["METHODS", "SimCLR"]
