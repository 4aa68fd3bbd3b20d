"""Atomic writes: the target is the old file or the new one, never half, and no temporary file
is left behind either way."""

import pytest

from audiorep.io.atomic_file import atomic_open


def test_a_finished_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "index.json"
    with atomic_open(target, "w", encoding="utf-8") as fh:
        fh.write("new")
    assert target.read_text() == "new" and [p.name for p in target.parent.iterdir()] == ["index.json"]


def test_a_write_interrupted_midway_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "last.pt"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_open(target) as fh:
            fh.write(b"half of the new")
            raise KeyboardInterrupt
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["last.pt"]
