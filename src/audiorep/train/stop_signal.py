"""SIGTERM (a scheduler's pre-emption, `kill`) asks a run to stop after the current step,
so it ends as it would at its budget: with a checkpoint, a summary and its bad-file list."""

from __future__ import annotations

import signal
import threading


class StopOnSignal:
    """`with StopOnSignal() as stop: ... if stop.requested: break` (handler only in the main thread)."""

    def __init__(self, enabled: bool = True):
        self.requested = False
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self._previous = None

    def _handle(self, *_):
        self.requested = True

    def __enter__(self) -> "StopOnSignal":
        if self.enabled:
            self._previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self.enabled:
            signal.signal(signal.SIGTERM, self._previous)
