import os
import pickle

import pytest
import torch

from audiorep.errors import CheckpointError
from audiorep.io.checkpoint import load_checkpoint, save_checkpoint


def test_round_trip(tmp_path):
    state = {"w": torch.arange(4.0), "step": 3, "config": {"a": [1, 2]}}
    save_checkpoint(tmp_path / "c.pt", state)
    back = load_checkpoint(tmp_path / "c.pt")
    assert back["step"] == 3 and torch.equal(back["w"], state["w"]) and back["config"] == {"a": [1, 2]}


def test_failed_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    save_checkpoint(tmp_path / "c.pt", {"step": 1})

    def broken_save(obj, f):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        save_checkpoint(tmp_path / "c.pt", {"step": 2})
    monkeypatch.undo()
    assert load_checkpoint(tmp_path / "c.pt")["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temp files left behind


class Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_pickled_code_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"x": Exploit()}, path, pickle_module=pickle)
    with pytest.raises(CheckpointError, match="evil.pt: refused: it holds objects other than tensors"):
        load_checkpoint(path)


def test_missing_and_corrupt(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nope.pt")
    (tmp_path / "junk.pt").write_bytes(b"\x00\x01junk")
    with pytest.raises(CheckpointError, match="junk.pt"):
        load_checkpoint(tmp_path / "junk.pt")
