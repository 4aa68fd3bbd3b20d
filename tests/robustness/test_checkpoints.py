"""Bad checkpoints: each is one CheckpointError, one line naming the file and a short cause;
never a bare KeyError, a size-mismatch RuntimeError, torch's page-long weights_only notice,
or an empty cause like "()". Every file is built at test time."""

from __future__ import annotations

import os
import pickle
import zipfile

import pytest
import torch

from audiorep.builders import build_method, build_optimizer
from audiorep.config import load_config
from audiorep.errors import CheckpointError
from audiorep.io.checkpoint import config_differences, load_checkpoint, load_method_state, save_checkpoint
from audiorep.train.checkpointing import Checkpointing

TINY = ["encoder.width=4", "encoder.embedding_dim=16", "method.projection_hidden=32", "method.projection_dim=16"]


def _error(call, path) -> str:
    with pytest.raises(CheckpointError) as info:
        call()
    msg = str(info.value)
    assert str(path) in msg and "\n" not in msg and "()" not in msg and len(msg) < 400, msg
    return msg


def _load_error(path) -> str:
    return _error(lambda: load_checkpoint(path), path)


def _good(tmp_path):
    return save_checkpoint(tmp_path / "good.pt", {"w": torch.arange(1000.0), "step": 3})


def test_an_empty_file(tmp_path):
    path = tmp_path / "empty.pt"
    path.write_bytes(b"")
    assert "is empty (0 bytes)" in _load_error(path)


def test_random_bytes(tmp_path):
    path = tmp_path / "random.pt"
    path.write_bytes(os.urandom(4096))
    assert "is not a PyTorch checkpoint (corrupt, or another kind of file)" in _load_error(path)
    (tmp_path / "text.pt").write_text("step: 3\n")
    assert "not a PyTorch checkpoint" in _load_error(tmp_path / "text.pt")


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_a_truncated_zip(tmp_path, keep):
    data = _good(tmp_path).read_bytes()
    path = tmp_path / "cut.pt"
    path.write_bytes(data[: int(len(data) * keep)])
    assert "is truncated or corrupt" in _load_error(path)


def test_a_truncated_legacy_file_and_a_zip_of_something_else(tmp_path):
    legacy = tmp_path / "legacy.pt"
    torch.save({"w": torch.zeros(100), "step": 1}, legacy, _use_new_zipfile_serialization=False)
    assert load_checkpoint(legacy)["step"] == 1  # the old format still loads
    data = legacy.read_bytes()
    legacy.write_bytes(data[: len(data) // 2])
    assert "is truncated or corrupt" in _load_error(legacy)
    other = tmp_path / "notes.pt"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("notes/readme.txt", "hello")
    assert "zip archive, but not a PyTorch checkpoint" in _load_error(other)


def test_a_folder_and_a_missing_file(tmp_path):
    (tmp_path / "run.pt").mkdir()
    assert "is a folder, not a checkpoint file" in _load_error(tmp_path / "run.pt")
    assert "checkpoint not found" in _load_error(tmp_path / "nope.pt")


class Exploit:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_pickled_code_is_refused_in_one_short_line_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"x": Exploit(marker)}, path, pickle_module=pickle)
    msg = _load_error(path)
    assert "refused" in msg and "objects other than tensors and plain containers" in msg
    assert "could run code" in msg and "system" not in msg.split("(")[0]
    assert "mkdir" in msg  # the object it holds is named
    assert "weights_only" not in msg and "PyTorch 2.6" not in msg
    assert not marker.exists()
    module = tmp_path / "module.pt"
    torch.save({"model": torch.nn.Linear(2, 2)}, module)  # a whole module, not its state dict
    msg = _load_error(module)
    assert "objects other than tensors" in msg and "torch.nn.modules.linear.Linear" in msg


def test_a_checkpoint_that_is_not_a_dict(tmp_path):
    path = save_checkpoint(tmp_path / "list.pt", [1, 2])
    assert "expected a dict checkpoint, found list" in _load_error(path)


def test_required_entries_and_their_types(tmp_path):
    path = save_checkpoint(tmp_path / "c.pt", {"step": "three", "config": {}})
    msg = _error(lambda: load_checkpoint(path, require={"method": dict}), path)
    assert "no 'method' entry" in msg and "step, config" in msg
    msg = _error(lambda: load_checkpoint(path, require={"step": int}), path)
    assert "entry 'step' is a str, expected int" in msg


def _tiny(*extra):
    return load_config("simclr_demo", TINY + list(extra))


def _training_state(cfg, model, opt, **changes):
    state = {"format": "audiorep-checkpoint/2", "config": cfg.to_dict(), "method": model.state_dict(),
             "optimizer": opt.state_dict(), "rng": [{"generator": torch.Generator().get_state()}],
             "generator": torch.Generator().get_state(), "step": 5, "elapsed_s": 1.5, "bad_files": {}}
    state.update(changes)
    return {k: v for k, v in state.items() if v is not None}


@pytest.fixture(scope="module")
def tiny_method():
    torch.manual_seed(0)
    cfg = _tiny()
    method = build_method(cfg, progress=False)
    return cfg, method, build_optimizer(cfg, method)


@pytest.mark.parametrize("drop", ["method", "optimizer", "config", "step", "elapsed_s"])
def test_resume_from_a_checkpoint_without_an_entry(tmp_path, tiny_method, drop):
    cfg, method, optimizer = tiny_method
    save_checkpoint(tmp_path / "last.pt", _training_state(cfg, method, optimizer, **{drop: None}))
    checkpoints = Checkpointing(tmp_path, every=10, keep={})
    msg = _error(checkpoints.load_last, checkpoints.last)
    assert f"no {drop!r} entry" in msg and "not a training checkpoint" in msg


def test_resume_from_a_checkpoint_without_random_streams_or_of_wrong_types(tmp_path, tiny_method):
    cfg, method, optimizer = tiny_method
    checkpoints = Checkpointing(tmp_path, every=10, keep={})
    save_checkpoint(checkpoints.last, _training_state(cfg, method, optimizer, rng=None, generator=None))
    assert "neither the 'rng' nor the 'generator' entry" in _error(checkpoints.load_last, checkpoints.last)
    save_checkpoint(checkpoints.last, _training_state(cfg, method, optimizer, method=[1, 2]))
    assert "entry 'method' is a list, expected dict" in _error(checkpoints.load_last, checkpoints.last)
    save_checkpoint(checkpoints.last, _training_state(cfg, method, optimizer))
    assert checkpoints.load_last()["step"] == 5  # a whole state passes


def test_a_resume_without_method_weights_is_a_checkpoint_error_not_a_key_error(tmp_path):
    from audiorep.train.trainer import Trainer

    cfg = _tiny("train.batch_size=4", f"train.out_dir={tmp_path}", "train.steps=2", "data.synthetic.n_clips=8",
                "data.synthetic.clip_seconds=1.0", "data.clip_seconds=1.0")
    save_checkpoint(tmp_path / "last.pt", {"config": cfg.to_dict(), "step": 3})
    with pytest.raises(CheckpointError, match=r"last\.pt: not a training checkpoint: it has no 'method' entry"):
        Trainer(cfg, progress=False, resume=True).fit()


def test_weights_of_another_architecture_name_the_config_keys_that_differ(tmp_path, tiny_method):
    cfg_a, method_a, optimizer_a = tiny_method
    path = save_checkpoint(tmp_path / "last.pt", _training_state(cfg_a, method_a, optimizer_a))
    cfg_b = _tiny("encoder.width=8", "train.steps=99", "train.out_dir=elsewhere")
    method_b = build_method(cfg_b, progress=False)
    state = load_checkpoint(path)
    with pytest.raises(RuntimeError, match="size mismatch"):  # what a bare load_state_dict says
        method_b.load_state_dict(state["method"])
    msg = _error(lambda: load_method_state(method_b, state, path, cfg_b.to_dict()), path)
    assert "do not fit this model, built from another config" in msg
    assert "encoder.width (4 in the checkpoint, 8 now)" in msg
    assert "train." not in msg  # run-only keys differ too, but cannot change the weights
    assert "first misfit" in msg and "in this model" in msg
    # without a config to compare, still one line, naming the first weight that does not fit
    msg = _error(lambda: load_method_state(method_b, state, path), path)
    assert "do not fit this model" in msg and "in the checkpoint" in msg


def test_same_architecture_loads_weights_and_optimiser(tmp_path, tiny_method):
    cfg, method, optimizer = tiny_method
    path = save_checkpoint(tmp_path / "last.pt", _training_state(cfg, method, optimizer))
    torch.manual_seed(1)
    cfg_again = _tiny("train.steps=99", "train.lr=0.1")  # run keys may change on a resume
    fresh = build_method(cfg_again, progress=False)
    fresh_opt = build_optimizer(cfg_again, fresh)
    load_method_state(fresh, load_checkpoint(path), path, cfg_again.to_dict(), optimizer=fresh_opt)
    for (name, a), b in zip(method.state_dict().items(), fresh.state_dict().values()):
        assert torch.equal(a, b), name


def test_an_optimiser_of_another_shape_is_a_checkpoint_error(tmp_path, tiny_method):
    cfg, method, optimizer = tiny_method
    state = _training_state(cfg, method, optimizer)
    state["optimizer"] = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1).state_dict()
    path = save_checkpoint(tmp_path / "last.pt", state)
    fresh = build_method(cfg, progress=False)
    msg = _error(lambda: load_method_state(fresh, load_checkpoint(path), path, cfg.to_dict(),
                                           optimizer=build_optimizer(cfg, fresh)), path)
    assert "optimiser state does not fit" in msg


def test_missing_method_weights_for_load_method_state(tmp_path, tiny_method):
    cfg, method, _ = tiny_method
    path = tmp_path / "x.pt"
    msg = _error(lambda: load_method_state(method, {"config": cfg.to_dict()}, path, cfg.to_dict()), path)
    assert "holds no 'method' weights" in msg


def test_config_differences_lists_model_keys_first_and_skips_run_keys():
    saved = {"train": {"steps": 1}, "seed": 0, "data": {"sample_rate": 16000, "path": "a"},
             "encoder": {"name": "cnn", "width": 4}, "method": {"name": "simclr"}}
    now = {"train": {"steps": 2}, "seed": 1, "data": {"sample_rate": 8000, "path": "b"},
           "encoder": {"name": "cnn", "width": 8}, "method": {"name": "simclr", "extra": 1}}
    assert config_differences(saved, now) == [("encoder.width", 4, 8), ("method.extra", None, 1),
                                              ("data.sample_rate", 16000, 8000)]
    assert config_differences(None, now) == [] and config_differences(saved, saved) == []


def test_resume_with_another_architecture_names_the_keys_that_differ(tmp_path):
    from audiorep.train.trainer import Trainer

    tiny = ["encoder.embedding_dim=16", "method.projection_hidden=32", "method.projection_dim=16",
            "data.synthetic.n_clips=16", "data.synthetic.clip_seconds=1.0", "data.clip_seconds=1.0",
            "train.batch_size=8", "train.steps=2", "train.minutes=null", "train.device=cpu", f"train.out_dir={tmp_path}"]
    Trainer(load_config("simclr_demo", tiny + ["encoder.width=4"]), progress=False).fit()
    with pytest.raises(CheckpointError, match=r"last.pt: .*encoder.width \(4 in the checkpoint, 8 now\)"):
        Trainer(load_config("simclr_demo", tiny + ["encoder.width=8"]), progress=False, resume=True).fit()
