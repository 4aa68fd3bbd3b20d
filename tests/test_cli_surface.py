"""The command line a newcomer meets in the first hour: every option explained once, every
name checked (with the valid ones and a "did you mean") before any work starts, missing
optional packages named before the work they would end, and one rule for audio inputs (files,
folders and manifest CSVs, in any mix) in every command that takes audio. Commands run
in-process on tiny files written at test time."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import textwrap

import numpy as np
import pytest
import soundfile as sf
import torch

from audiorep.cli import build_parser, check_device, main
from audiorep.data.input_files import FILE, FOLDER, MANIFEST, audio_inputs
from audiorep.errors import ConfigError

RATE = 16000

# Known gaps in commands/separator.py and commands/evaluate.py, to be removed once fixed there:
# the test fails on any other command or option without help.
PENDING_HELP = set()
PENDING_DESCRIPTION = set()


def _parsers(parser=None):
    """(prog, parser) of the top level and every (sub)command, nested ones included."""
    parser = parser or build_parser()
    yield parser.prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield from _parsers(sub)


def _documented(action) -> bool:
    return not isinstance(action, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction))


def _name(action) -> str:
    return action.option_strings[-1] if action.option_strings else action.dest


# ---- --help ---------------------------------------------------------------------------------
def test_every_option_has_help_that_gives_its_default_at_most_once():
    missing, twice = set(), []
    for prog, parser in _parsers():
        formatter = parser._get_formatter()
        for action in filter(_documented, parser._actions):
            if action.help == argparse.SUPPRESS:
                continue
            if not (action.help or "").strip():
                missing.add((prog, _name(action)))
                continue
            text = formatter._expand_help(action)
            if text.count("(default") > 1 or "(default: None)" in text:
                twice.append(f"{prog} {_name(action)}: {text}")
        parser.format_help()  # every help renders
    assert not twice, "\n".join(twice)
    assert missing <= PENDING_HELP, sorted(missing - PENDING_HELP)


def test_defaults_are_shown_only_when_they_say_something():
    parsers = dict(_parsers())
    embed = parsers["audiorep embed"].format_help()
    assert "(default: npy)" in embed and "(default: 32)" in embed
    assert "(default: None)" not in embed and "(default: False)" not in embed
    ablate = " ".join(parsers["audiorep ablate"].format_help().split())
    assert "(default 5 when --steps is not given)" in ablate and "(default: None)" not in ablate
    assert "(default: separation_ssl_demo)" in ablate


def test_every_command_has_a_description_that_keeps_its_example_lines():
    without = {prog for prog, parser in _parsers() if not (parser.description or "").strip()}
    assert without <= PENDING_DESCRIPTION, sorted(without - PENDING_DESCRIPTION)
    for prog, parser in _parsers():
        text = textwrap.dedent(parser.description or "")
        examples = [line.rstrip() for line in text.splitlines() if line[:1].isspace() and line.strip()]
        shown = [line.strip() for line in parser.format_help().splitlines()]
        for line in examples:  # an example command is printed as written, on its own line
            assert line.strip() in shown, (prog, line)
    pretrain = dict(_parsers())["audiorep pretrain"].format_help()
    assert not [line for line in pretrain.splitlines() if "runs/simclr" in line and "Run under" in line]


def test_a_mistyped_choice_or_command_gets_a_did_you_mean(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["embd", str(tmp_path)])
    assert exit_.value.code == 2 and "did you mean 'embed'?" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["embed", str(tmp_path), "--model", "logmel", "--out", str(tmp_path / "o"), "--format", "parqet"])
    assert "did you mean 'parquet'?" in capsys.readouterr().err


# ---- ablate ---------------------------------------------------------------------------------
def test_ablate_only_names_a_variant_before_anything_runs(tmp_path, capsys, monkeypatch):
    from audiorep.commands.ablate import VARIANTS
    from audiorep.workflows import ablation

    assert tuple(ablation.variants(["a.pt", "b.pt"])) == VARIANTS
    monkeypatch.setattr(ablation, "run_ablation", lambda *a, **k: pytest.fail("ran before checking"))
    base = ["ablate", "--separators", "A.pt", "B.pt", "--steps", "5", "--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as exit_:
        main([*base, "--only", "bogus"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "--only: invalid choice: 'bogus'" in err
    assert all(name in err for name in VARIANTS)
    with pytest.raises(SystemExit):
        main([*base, "--only", "mixture_only", "joint_"])
    assert "did you mean 'joint'?" in capsys.readouterr().err
    help_text = " ".join(dict(_parsers())["audiorep ablate"].format_help().split())
    assert all(name in help_text for name in VARIANTS)


def test_ablate_checks_separators_and_probe_tasks_before_training(tmp_path, capsys, monkeypatch):
    from audiorep.workflows import ablation

    monkeypatch.setattr(ablation, "run_ablation", lambda *a, **k: pytest.fail("ran before checking"))
    base = ["ablate", "--steps", "5", "--out", str(tmp_path / "out"), "--no-progress"]
    assert main([*base, "--separators", str(tmp_path / "early.pt"), str(tmp_path / "late.pt")]) == 2
    assert "early.pt" in capsys.readouterr().err
    (tmp_path / "late.pt").write_bytes(b"not a checkpoint")
    assert main([*base, "--separators", str(tmp_path / "late.pt")]) == 2
    assert "late.pt" in capsys.readouterr().err
    assert main([*base, "--separators", "x.pt", "--probe-tasks", f"fsdd_digt={tmp_path}"]) == 2
    assert "did you mean 'fsdd_digit'?" in capsys.readouterr().err
    assert main([*base, "--separators", "x.pt", "--probe-tasks", f"fsdd={tmp_path / 'nowhere'}"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main([*base, "--separators", "x.pt", "train.stepz=3"]) == 2
    assert "train.stepz" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# ---- --device -------------------------------------------------------------------------------
def test_a_device_is_checked_before_the_command_runs(tmp_path, capsys, monkeypatch):
    from audiorep.commands import embed

    monkeypatch.setattr(embed, "read_inputs", lambda *a: pytest.fail("ran before checking"))
    base = ["embed", str(tmp_path), "--model", "logmel", "--out", str(tmp_path / "o"), "--quiet"]
    assert main([*base, "--device", "gpu"]) == 2
    assert "did you mean 'cuda'?" in capsys.readouterr().err
    assert main([*base, "--device", "cpux"]) == 2
    assert "did you mean 'cpu'?" in capsys.readouterr().err
    if not torch.cuda.is_available():
        assert main([*base, "--device", "cuda"]) == 2
        assert "CUDA is not available" in capsys.readouterr().err
    assert check_device("CPU") == "cpu" and check_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ConfigError, match="is not a device"):
        check_device("cuda:x")


# ---- optional packages ----------------------------------------------------------------------
def test_parquet_without_pyarrow_fails_before_any_file_is_embedded(tmp_path, capsys, monkeypatch):
    import audiorep.eval.embedding_cache as cache

    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError, installed or not
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    monkeypatch.setattr(cache, "embed_files", lambda *a, **k: pytest.fail("embedded before checking"))
    _tone(tmp_path / "a.wav")
    out = tmp_path / "out"
    assert main(["embed", str(tmp_path / "a.wav"), "--model", "logmel", "--out", str(out), "--format", "parquet",
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "pyarrow" in err and "pip install pyarrow" in err and not out.exists()


def test_embed_names_an_unknown_model_before_reading_inputs(tmp_path, capsys):
    _tone(tmp_path / "a.wav")
    assert main(["embed", str(tmp_path / "a.wav"), "--model", "logmell", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'logmel'?" in err and "logmel, random" in err and not (tmp_path / "o").exists()


# ---- audio inputs ---------------------------------------------------------------------------
def _tone(path, seconds: float = 0.5, freq: float = 440.0, rate: int = RATE):
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)
    return path


@pytest.fixture
def corpus(tmp_path):
    """few/{a.wav, sub/b.flac, notes.txt}, one.wav, list/manifest.csv naming list/c.wav (label x)
    and few/a.wav (again), and empty/ (no audio)."""
    root = tmp_path / "data"
    few = root / "few"
    _tone(few / "a.wav", freq=300)
    _tone(few / "sub" / "b.flac", freq=500)
    (few / "notes.txt").write_text("not audio")
    one = _tone(root / "one.wav", freq=700)
    _tone(root / "list" / "c.wav", freq=900)
    manifest = root / "list" / "manifest.csv"
    manifest.write_text(f"path,label\nc.wav,x\n{few / 'a.wav'},y\n")
    (root / "empty").mkdir()
    (root / "empty" / "readme.md").write_text("nothing")
    return {"few": few, "one": one, "manifest": manifest, "empty": root / "empty", "root": root}


def test_audio_inputs_resolve_files_folders_and_manifests_once_each(corpus):
    items = [str(corpus["one"]), str(corpus["few"]), str(corpus["manifest"]), str(corpus["one"])]
    found = audio_inputs(items)
    assert [r.path for r in found] == [str(corpus["one"]), str(corpus["few"] / "a.wav"),
                                       str(corpus["few"] / "sub" / "b.flac"), str(corpus["root"] / "list" / "c.wav")]
    assert [r.kind for r in found] == [FILE, FOLDER, FOLDER, MANIFEST]
    assert found[2].meta["relpath"] == "sub/b.flac" and found[3].label == "x" and found[3].meta["label"] == "x"
    assert [str(r.relative()) for r in found] == ["one.wav", "a.wav", "sub/b.flac", "c.wav"]
    with pytest.raises(ConfigError, match="does not exist"):
        audio_inputs([str(corpus["one"]), str(corpus["root"] / "typo.wav")])
    with pytest.raises(ConfigError, match="without audio files"):
        audio_inputs([str(corpus["empty"])])
    with pytest.raises(ConfigError, match="does not exist"):
        audio_inputs([str(corpus["root"] / "missing.csv")])


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_embed_takes_one_file_several_files_and_any_mix(corpus, tmp_path):
    out = tmp_path / "e1"
    assert main(["embed", str(corpus["one"]), "--model", "logmel", "--out", str(out), "--quiet"]) == 0
    assert [r["path"] for r in _rows(out / "index.csv")] == [str(corpus["one"])]
    out = tmp_path / "e2"
    two = [str(corpus["one"]), str(corpus["few"] / "a.wav")]
    assert main(["embed", *two, "--model", "logmel", "--out", str(out), "--quiet"]) == 0
    assert [r["path"] for r in _rows(out / "index.csv")] == two
    out = tmp_path / "e3"
    assert main(["embed", str(corpus["few"]), str(corpus["manifest"]), str(corpus["one"]), "--model", "logmel",
                 "--out", str(out), "--quiet"]) == 0
    rows = _rows(out / "index.csv")
    assert [r["path"] for r in rows] == [str(corpus["few"] / "a.wav"), str(corpus["few"] / "sub" / "b.flac"),
                                         str(corpus["root"] / "list" / "c.wav"), str(corpus["one"])]
    assert [r["relpath"] for r in rows] == ["a.wav", "sub/b.flac", "", ""]
    assert [r["label"] for r in rows] == ["", "", "x", ""]
    assert np.load(out / "embeddings.npy").shape[0] == 4


def test_separate_takes_folders_manifests_and_files_and_keeps_their_layout(corpus, tmp_path, capsys):
    from audiorep.io.checkpoint import save_separator
    from audiorep.separation.tdcn import TDCNSeparator

    torch.manual_seed(0)
    checkpoint = tmp_path / "sep.pt"
    save_separator(checkpoint, TDCNSeparator(num_channels=2, sample_rate=8000, num_filters=16, kernel_size=16,
                                             bottleneck=8, hidden=16, blocks_per_repeat=1, repeats=1))
    out = tmp_path / "out"
    assert main(["separate", "--checkpoint", str(checkpoint), "--out", str(out), "--quiet", str(corpus["few"]),
                 str(corpus["manifest"]), str(corpus["one"])]) == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.wav"))
    assert written == sorted(f"{stem}_ch{k}.wav" for stem in ("few/a", "few/sub/b", "c", "one") for k in (0, 1))
    assert "separated 4 of 4 inputs" in capsys.readouterr().out
    assert main(["separate", "--checkpoint", str(checkpoint), "--out", str(out), str(corpus["empty"])]) == 2
    assert "without audio files" in capsys.readouterr().err


def test_augment_takes_a_manifest_and_a_file(corpus, tmp_path, capsys):
    out = tmp_path / "views"
    assert main(["augment", str(corpus["manifest"]), str(corpus["one"]), "--out", str(out), "--views", "1",
                 "--no-figure"]) == 0
    assert sorted(p.name for p in out.glob("*.wav")) == ["a_view0.wav", "c_view0.wav", "one_view0.wav"]
    assert main(["augment", str(corpus["root"] / "nope.wav"), "--out", str(out)]) == 2
    assert "nope.wav' does not exist" in capsys.readouterr().err


def test_shard_takes_a_file_and_a_mix_and_resumes_it(corpus, tmp_path, capsys):
    out = tmp_path / "one"
    assert main(["shard", str(corpus["one"]), "--out", str(out), "--quiet"]) == 0
    assert json.loads((out / "index.json").read_text())["samples"] == 1
    out = tmp_path / "mix"
    mix = ["shard", str(corpus["few"]), str(corpus["one"]), "--out", str(out), "--quiet"]
    assert main(mix) == 0
    index = json.loads((out / "index.json").read_text())
    assert index["samples"] == 3 and index["input"]["path"] == str(corpus["root"])
    capsys.readouterr()
    assert main(mix) == 0 and "already complete" in capsys.readouterr().out
    assert main(["shard", str(corpus["few"]), "--out", str(out), "--quiet"]) == 2  # another input: --restart


def test_shard_takes_a_mix_of_videos(tmp_path):
    world = tmp_path / "world"
    assert main(["synth", "--out", str(world), "--n", "3", "--seconds", "1", "--video", "--video-size", "16",
                 "--video-fps", "4"]) == 0
    videos = sorted((world / "video").glob("*.mp4"))
    out = tmp_path / "shards"
    assert main(["shard", str(videos[0]), str(world / "manifest.csv"), "--video", "--video-size", "16",
                 "--video-fps", "4", "--out", str(out), "--quiet"]) == 0
    index = json.loads((out / "index.json").read_text())
    assert index["samples"] == 3 and index["fields"] == ["audio", "video"] and not index["skipped"]


def test_supervised_checks_the_method_keys_before_loading_a_task(tmp_path, capsys, monkeypatch):
    from audiorep.commands import supervised

    monkeypatch.setattr(supervised, "load_tasks_for", lambda *a, **k: pytest.fail("loaded before checking"))
    assert main(["supervised", "--task", "synthetic", "--out", str(tmp_path), "method.label_smoothin=0.1"]) == 2
    assert "did you mean 'label_smoothing'?" in capsys.readouterr().err


def test_embed_checks_each_part_of_a_joined_model(tmp_path, capsys):
    _tone(tmp_path / "a.wav")
    out = tmp_path / "o"
    assert main(["embed", str(tmp_path / "a.wav"), "--model", "logmel+random", "--out", str(out), "--quiet"]) == 0
    assert main(["embed", str(tmp_path / "a.wav"), "--model", "logmel+randon", "--out", str(out), "--quiet"]) == 2
    assert "'randon' is not a file" in capsys.readouterr().err
