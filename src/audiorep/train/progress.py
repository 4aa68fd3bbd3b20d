"""How far a run is, shown as the run's own progress: the fraction of its budget used
(`max(step / train.steps, elapsed / train.minutes)`), so the bar ends at 100 % when the
budget ends, whichever of steps and minutes binds.

On a terminal it is a tqdm bar: over steps when only a step budget is set, over percent when
a minutes budget may end the run first. When stderr is not a terminal (a log file, a batch
job) no bar redraws: one short line is printed at every tenth of the run instead.
"""

from __future__ import annotations

import math
import sys

LINES = 10
"""Without a terminal: one line per 1/LINES of the run."""


def _tenths(fraction: float) -> int:
    """Whole 1/LINES of the run in `fraction` (0.7 is 7 of them, though 0.7 * 10 may be 6.99...)."""
    return math.floor(fraction * LINES + 1e-9)


class RunProgress:
    def __init__(self, desc: str, steps: int, minutes: float | None, step: int, fraction: float,
                 enabled: bool = True):
        self.desc, self.steps, self.by_steps = desc, steps, not minutes
        self.step, self.fraction, self.postfix = step, fraction, {}
        self.stream = sys.stderr
        self.bar = None
        self.lines = enabled and not self.stream.isatty()
        self.next_line = _tenths(fraction) + 1  # the first tenth not yet reported
        self.said = fraction
        if enabled and not self.lines:
            from tqdm.auto import tqdm

            if self.by_steps:
                self.bar = tqdm(total=steps, initial=step, desc=desc, unit="step", dynamic_ncols=True)
            else:  # percent of the budget; the step count rides in the postfix
                self.bar = tqdm(total=100, initial=round(100 * fraction, 1), desc=desc, dynamic_ncols=True,
                                bar_format="{l_bar}{bar}| [{elapsed}<{remaining}{postfix}]")

    def set_postfix(self, postfix: dict) -> None:
        self.postfix = dict(postfix)
        if self.bar is not None:
            self.bar.set_postfix(self._postfix(), refresh=False)

    def update(self, step: int, fraction: float) -> None:
        """After an optimiser step: `step` done, `fraction` of the run used."""
        self.step, self.fraction = step, max(self.fraction, min(fraction, 1.0))
        if self.bar is not None:
            if not self.by_steps:
                self.bar.set_postfix(self._postfix(), refresh=False)
            self.bar.update(self._position() - self.bar.n)
        elif self.lines and _tenths(self.fraction) >= self.next_line:
            self._line()

    def close(self, fraction: float) -> None:
        """The run ended (or stopped) at `fraction`: the bar shows it, or a last line says it."""
        self.fraction = max(self.fraction, min(fraction, 1.0))
        if self.bar is not None:
            self.bar.update(self._position() - self.bar.n)
            self.bar.close()
        elif self.lines and self.fraction > self.said:
            self._line()

    def _position(self) -> float:
        return self.step if self.by_steps else round(100 * self.fraction, 1)

    def _postfix(self) -> dict:
        return self.postfix if self.by_steps else {"step": self.step, **self.postfix}

    def _line(self) -> None:
        extra = "".join(f" {k}={v}" for k, v in self.postfix.items())
        print(f"{self.desc}: {100 * self.fraction:3.0f}% (step {self.step}){extra}", file=self.stream, flush=True)
        self.said = self.fraction
        self.next_line = _tenths(self.fraction) + 1
