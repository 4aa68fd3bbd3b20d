"""audiorep: learn general-purpose audio representations without labels, and measure them."""

__version__ = "0.1.0"
