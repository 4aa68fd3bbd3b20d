"""Error types a user sees. Each names the offending file or key and the cause."""

from __future__ import annotations


class AudiorepError(Exception):
    """Base class for errors audiorep raises on purpose."""


class AudioFileError(AudiorepError):
    """An audio file cannot be used (unreadable, empty, all-NaN, zero length, bad rate...)."""

    def __init__(self, path, cause: str):
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{self.path}: {cause}")


class ConfigError(AudiorepError):
    """A configuration is invalid; the message names the key and what is expected."""


class CheckpointError(AudiorepError):
    """A checkpoint is missing, corrupt or incompatible."""


class NonFiniteLossError(AudiorepError, FloatingPointError):
    """Training met more NaN/inf losses in a row than `train.max_nonfinite_steps`; names the clips."""
