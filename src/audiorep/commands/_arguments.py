"""Argument types that refuse impossible numbers at the command line, with a readable message
("--steps: must be an integer >= 1, got 0"), before any work starts. Used as argparse `type=`."""

from __future__ import annotations

import argparse
import math


def _number(text: str, kind: type, low: float, strict: bool, what: str):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value) or (value <= low if strict else value < low):
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    return _number(text, int, 0, True, "an integer >= 1")


def nonnegative_int(text: str) -> int:
    return _number(text, int, 0, False, "an integer >= 0")


def positive_float(text: str) -> float:
    return _number(text, float, 0.0, True, "a positive number")
