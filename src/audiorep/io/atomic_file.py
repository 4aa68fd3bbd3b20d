"""Write a file so that a reader (or a resumed run) sees the old file or the new one, never half:
the bytes go to a temporary file beside it, are flushed and fsync'd, and the temporary file is
renamed over the target (`os.replace` is atomic on one file system); the folder is fsync'd so
the rename survives a power cut. On any error the temporary file is removed."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def fsync_dir(folder: str | os.PathLike) -> None:
    """Make a rename durable: the directory entry lives in the folder, not in the file."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not every platform opens folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb", *, fsync: bool = True, **kwargs):
    """``with atomic_open(path) as fh: ...``: `fh` writes a temporary file that replaces `path`
    when the block ends without an error (`mode` "wb" or "w"; `kwargs` go to `open`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if fsync:
        fsync_dir(path.parent)
