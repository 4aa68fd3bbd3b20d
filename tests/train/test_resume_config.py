"""`--resume` continues the run's own config (the resolved config in its last.pt), not the
recipe's: the data, batch size and learning rate stay what they were; a budget or cadence
the resume states is applied and announced; a key that decides what the run learns is refused,
naming what it was and what the resume asks."""

import argparse
import csv

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from audiorep import builders
from audiorep.commands import pretrain, separator
from audiorep.config import load_config
from audiorep.errors import ConfigError
from audiorep.methods.simclr import SimCLR
from audiorep.optim.schedule import LearningRateSchedule
from audiorep.train.resume import RESUMABLE, resumed_config

TINY = ["encoder.width=4", "encoder.embedding_dim=16", "method.projection_hidden=32", "method.projection_dim=16",
        "train.warmup_steps=2", "train.log_every=1", "train.checkpoint_every=2", "data.clip_seconds=0.5",
        "method.wave_augment=[{name: random_crop, seconds: 0.25}, {name: gain, db: [-6, 6]}]"]
# what the first run states and the resume does not repeat; the recipe (simclr_demo) says
# source: synthetic, batch_size: 64, lr: 0.002, warmup_steps: 50
RUN = ["train.batch_size=6", "train.lr=0.004", "train.steps=4", *TINY]


def tones(folder, n=16, sample_rate=16000, seconds=0.6):
    """A small folder of tones at four pitches."""
    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    for i in range(n):
        sf.write(folder / f"tone{i}.wav", (0.3 * np.sin(2 * np.pi * 220 * 2 ** (i % 4) * t)).astype(np.float32),
                 sample_rate)
    return folder


def command(module, *argv):
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return module.run(parser.parse_args([str(a) for a in argv]))


def pretrain_cmd(*argv):
    return command(pretrain, "--config", "simclr_demo", "--no-progress", *argv)


def rows(out):
    with open(out / "metrics.csv") as f:
        return [(int(r["step"]), float(r["lr"])) for r in csv.DictReader(f)]


def config_yaml(out):
    return yaml.safe_load((out / "config.yaml").read_text())


@pytest.fixture
def first_run(tmp_path):
    """The issue's run: a folder, another batch size and rate than the recipe's, --minutes 1."""
    data, out = tones(tmp_path / "tones"), tmp_path / "run"
    assert pretrain_cmd("--minutes", 1, "--out", out, "data.source=folder", f"data.path={data}", *RUN) == 0
    return data, out


def test_a_resume_continues_the_runs_own_config_and_applies_the_budget_it_states(first_run, monkeypatch, capsys):
    data, out = first_run
    capsys.readouterr()

    def no_synthetic_world(*args, **kwargs):
        raise AssertionError("the resumed run generated synthetic scenes")

    monkeypatch.setattr(builders, "generate_clips", no_synthetic_world)
    assert pretrain_cmd("--resume", "--minutes", 1.5, "--out", out, "train.steps=6") == 0
    said = capsys.readouterr().out
    assert "resume: train.minutes 1 -> 1.5" in said and "resume: train.steps 4 -> 6" in said
    assert said.count("resume: ") == 2  # nothing else changed: the recipe's defaults are not overrides

    cfg = config_yaml(out)
    assert (cfg["data"]["source"], cfg["data"]["path"]) == ("folder", str(data))
    assert (cfg["train"]["batch_size"], cfg["train"]["lr"], cfg["train"]["warmup_steps"]) == (6, 0.004, 2)
    assert (cfg["train"]["minutes"], cfg["train"]["steps"]) == (1.5, 6)
    assert torch.load(out / "last.pt", weights_only=True)["step"] == 6
    # the rate continues the run's own schedule (peak 0.004, warm-up 2), stretched to the new budget;
    # the recipe's (peak 0.002, warm-up 50) would put step 5 back in the warm-up, at 0.002 * 5 / 50
    own = LearningRateSchedule(0.004, warmup_steps=2)
    logged = rows(out)
    assert [s for s, _ in logged] == [1, 2, 3, 4, 5, 6]
    assert logged[4][1] == pytest.approx(own(4, 4 / 6)) and logged[5][1] == pytest.approx(own(5, 5 / 6))


def test_an_interrupted_run_resumed_without_overrides_keeps_its_rate(tmp_path, killed_at_call, capsys):
    data = tones(tmp_path / "tones")
    run = ["data.source=folder", f"data.path={data}", *RUN, "train.steps=8"]
    assert pretrain_cmd("--out", tmp_path / "whole", *run) == 0
    with killed_at_call(SimCLR, 5):  # last.pt at step 4
        pretrain_cmd("--out", tmp_path / "killed", *run)
    capsys.readouterr()
    assert pretrain_cmd("--resume", "--out", tmp_path / "killed") == 0
    assert "resume: " not in capsys.readouterr().out
    assert rows(tmp_path / "killed") == pytest.approx(rows(tmp_path / "whole"))
    assert config_yaml(tmp_path / "killed")["data"] == config_yaml(tmp_path / "whole")["data"]


def test_a_resume_that_would_change_what_the_run_learns_is_refused_naming_each_key(first_run):
    data, out = first_run
    before = (out / "config.yaml").read_text(), (out / "last.pt").read_bytes()
    with pytest.raises(ConfigError) as err:
        pretrain_cmd("--resume", "--out", out, "--minutes", 2, "data.source=synthetic", "train.batch_size=64",
                     "train.lr=2e-3", "encoder.width=4", f"data.path={data}")
    msg = str(err.value)
    assert msg.startswith("--resume continues the run as it was configured: data.source was 'folder', the resume "
                          "asks 'synthetic'; train.batch_size was 6, the resume asks 64; train.lr was 0.004, the "
                          "resume asks 0.002; start a new run (another --out) to change them")
    assert "encoder.width" not in msg.split("(a resume")[0] and "data.path" not in msg  # as they were: fine
    assert ((out / "config.yaml").read_text(), (out / "last.pt").read_bytes()) == before  # nothing ran


def test_a_resume_without_a_checkpoint_says_so(tmp_path):
    with pytest.raises(ConfigError, match="no checkpoint at .*nothing to resume; drop --resume"):
        pretrain_cmd("--resume", "--out", tmp_path / "nothing")


def _saved(*extra):
    return builders.resolve(load_config("simclr_demo", TINY + ["train.steps=10", "train.keep_checkpoints={late: 1.0}",
                                                                *extra])).to_dict()


def test_what_a_resume_may_change_is_applied_and_announced_and_the_rest_compared_as_the_config_reads_it():
    saved, said = _saved(), []
    cfg = resumed_config(saved, ["encoder={name: cnn, width: 4}", "train.lr=2e-3", "train={log_every: 5}",
                                 "train.keep_checkpoints={early: 0.1}", "data.num_workers=2", "train.device=cpu",
                                 "train.steps=20", "train.steps=30"], say=said.append)
    assert said == ["resume: train.log_every 1 -> 5", "resume: train.keep_checkpoints {'late': 1.0} -> {'early': 0.1}",
                    "resume: data.num_workers 0 -> 2", "resume: train.device 'auto' -> 'cpu'",
                    "resume: train.steps 10 -> 30"]
    assert (cfg.train.log_every, cfg.train.steps, cfg.train.keep_checkpoints) == (5, 30, {"early": 0.1})
    assert cfg.train.batch_size == saved["train"]["batch_size"] and cfg.encoder == saved["encoder"]
    assert resumed_config(saved, [], say=said.append).to_dict() == saved and len(said) == 5  # nothing asked


def test_every_resumable_key_is_a_config_key_and_a_bad_value_is_still_a_config_error():
    saved = _saved()
    for key in RESUMABLE:
        node = saved
        for part in key.split("."):
            assert part in node, key
            node = node[part]
    with pytest.raises(ConfigError, match="'train.steps': got 0"):
        resumed_config(saved, ["train.steps=0"], say=lambda _: None)
    with pytest.raises(ConfigError, match="method.temperature was 0.2, the resume asks 0.5"):
        resumed_config(saved, ["method.temperature=0.5", "train.minutes=2"], say=lambda _: None)
    with pytest.raises(ConfigError, match="unknown config key 'train.minuts'; did you mean 'minutes'"):
        resumed_config(saved, ["train.minuts=2"], say=lambda _: None)
    said = []
    assert resumed_config(saved, ["train.keep_checkpoints.early=0.1"], say=said.append).train.keep_checkpoints == \
        {"late": 1.0, "early": 0.1}
    assert said == ["resume: train.keep_checkpoints.early not set -> 0.1"]


TINY_SEPARATOR = ["method.model={num_filters: 32, kernel_size: 16, bottleneck: 16, hidden: 32, blocks_per_repeat: 2, "
                  "repeats: 1}", "method.model.num_channels=4", "data.clip_seconds=0.2", "train.minutes=null",
                  "train.log_every=1"]


def test_separator_train_resume_keeps_its_data_batch_and_device(tmp_path, capsys):
    data, out = tones(tmp_path / "tones", n=8, sample_rate=8000, seconds=0.4), tmp_path / "sep"
    assert command(separator, "train", "--data", data, "--out", out, "--steps", 2, "--batch-size", 2, "--no-progress",
                   "train.device=auto", *TINY_SEPARATOR) == 0
    capsys.readouterr()
    with pytest.raises(ConfigError, match="train.batch_size was 4, the resume asks 8"):
        command(separator, "train", "--out", out, "--resume", "--batch-size", 4)
    assert command(separator, "train", "--out", out, "--resume", "--steps", 3, "--no-progress") == 0
    said = capsys.readouterr().out
    assert "resume: train.steps 2 -> 3" in said and said.count("resume: ") == 1
    cfg = config_yaml(out)
    assert (cfg["data"]["source"], cfg["data"]["path"], cfg["train"]["batch_size"]) == ("folder", str(data), 4)
    assert cfg["train"]["device"] == "auto"  # not the --device default: the resume did not give one
    assert cfg["method"]["model"]["num_filters"] == 32
    assert torch.load(out / "last.pt", weights_only=True)["step"] == 3


def test_a_resume_reads_no_recipe_but_the_folder_it_names(first_run, tmp_path, capsys):
    """A recipe that leaves data.path to the command line (audiovisual, simclr) does not have to
    validate again: the run's config has the path. Without --out, the recipe's out_dir is the run."""
    _, out = first_run
    recipe = tmp_path / "needs_a_path.yaml"
    recipe.write_text(f"data: {{source: folder}}\ntrain: {{out_dir: {out}}}\n")
    parser = argparse.ArgumentParser()
    pretrain.add_arguments(parser)
    assert pretrain.run(parser.parse_args(["--config", str(recipe), "--resume", "--no-progress", "train.steps=5"])) == 0
    assert "resume: train.steps 4 -> 5" in capsys.readouterr().out
    assert torch.load(out / "last.pt", weights_only=True)["step"] == 5
