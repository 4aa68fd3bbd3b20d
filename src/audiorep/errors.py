"""Error types a user sees. Each names the offending file or key and the cause."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


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


def did_you_mean(value, names: Iterable) -> str:
    """The hint " (did you mean 'x'?)" when `value` is close to one of `names`; else the empty string."""
    close = difflib.get_close_matches(str(value), [str(n) for n in names], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
