"""Progress of the long phases of an evaluation (embedding a task's clips, fitting its probes).

On a terminal (stderr is a TTY) a phase is a tqdm bar that redraws in place and is erased when
done. Anywhere else (a log file, CI, a pipe) redraws would only fill the log, so a phase writes
one short line to stderr when it starts instead, and nothing more. `progress=False` (the
commands' `--quiet`) writes nothing at all."""

from __future__ import annotations

import sys

from tqdm import tqdm


def stderr_is_terminal() -> bool:
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


class _Silent:
    """tqdm's surface, doing nothing."""

    n = 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix_str(self, text: str = "", refresh: bool = True) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _OneLine(_Silent):
    """tqdm's surface; says once, on stderr, what the phase is about to do."""

    def __init__(self, total: int, desc: str, unit: str):
        self.n = 0
        print(f"{desc}: {total} {unit}{'' if total == 1 else 's'} ...", file=sys.stderr, flush=True)


def phase(total: int, desc: str, unit: str = "item", progress: bool = True):
    """A progress object with tqdm's `update`, `set_postfix_str` and `close` (and `with`): a bar
    on a terminal, one line on stderr elsewhere, nothing without `progress`."""
    if not progress:
        return _Silent()
    if stderr_is_terminal():
        return tqdm(total=total, desc=desc, unit=unit, leave=False)
    return _OneLine(total, desc, unit)
