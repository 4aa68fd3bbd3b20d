"""`audiorep evaluate` as a newcomer meets it, run in-process on tiny generated data: tasks over
the same clips cost one embedding pass; the manifest `audiorep synth` writes evaluates as it is,
its protocol printed first; an unknown task name gets the full list and a "did you mean"; long
phases show progress (bars on a terminal, one line per phase in a log, nothing with --quiet)."""

import io
import json

import numpy as np
import pytest
import soundfile as sf

import audiorep.eval.embedding_cache as embedding_cache
from audiorep.builders import build_baseline
from audiorep.cli import main
from audiorep.eval.embedding_cache import EmbeddingCache
from audiorep.eval.tasks import load_task, load_tasks

RATE = 8000


def _tones(folder, n_per_class: int = 6, pitches=(300.0, 900.0, 2000.0)) -> list[tuple[str, int]]:
    """Short tones, one pitch per class: [(file name, class)]."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    t = np.arange(RATE // 4) / RATE
    out = []
    for c, hz in enumerate(pitches):
        for k in range(n_per_class):
            wave = 0.3 * np.sin(2 * np.pi * hz * (1 + 0.01 * k) * t) + 0.01 * rng.standard_normal(t.size)
            name = f"c{c}_{k}.wav"
            sf.write(folder / name, wave.astype(np.float32), RATE)
            out.append((name, c))
    return out


@pytest.fixture
def embedding_passes(monkeypatch):
    """Every call of embed_files (one embedding pass over a list of files): the number of files."""
    calls = []
    real = embedding_cache.embed_files

    def spy(model, paths, *args, **kwargs):
        calls.append(len(paths))
        return real(model, paths, *args, **kwargs)

    monkeypatch.setattr(embedding_cache, "embed_files", spy)
    return calls


def _evaluate(tmp_path, *argv) -> int:
    return main(["evaluate", "--baseline", "logmel", "--out", str(tmp_path / "out"), "--no-plots", *argv])


# 1. tasks over the same clips share one embedding pass


def test_two_manifests_over_the_same_clips_share_one_embedding_pass(tmp_path, embedding_passes):
    clips = _tones(tmp_path / "clips")
    # the same files, spelt from another folder and listed in another order, with other labels
    (tmp_path / "by_pitch.csv").write_text("path,label\n" + "".join(f"clips/{f},p{c}\n" for f, c in clips))
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "by_take.csv").write_text(
        "path,label\n" + "".join(f"../clips/{f},{'odd' if int(f[-5]) % 2 else 'even'}\n" for f, _ in clips[::-1]))
    a, b = load_task(str(tmp_path / "by_pitch.csv")), load_task(str(tmp_path / "lists" / "by_take.csv"))
    logmel = build_baseline("logmel")
    cache = EmbeddingCache(None, progress=False)
    assert cache.key(logmel, a) == cache.key(logmel, b)
    xa, xb = cache.get(logmel, a), cache.get(logmel, b)
    assert (cache.misses, cache.hits) == (1, 1) and embedding_passes == [len(clips)]
    # each task reads its own rows, in its own order
    row_a = {p.rsplit("/", 1)[-1]: i for i, p in enumerate(a.paths)}
    for j, p in enumerate(b.paths):
        assert np.array_equal(xb[j], xa[row_a[p.rsplit("/", 1)[-1]]])

    embedding_passes.clear()
    assert _evaluate(tmp_path, "--quiet", "--task", str(tmp_path / "by_pitch.csv"),
                     "--task", str(tmp_path / "lists" / "by_take.csv")) == 0
    assert embedding_passes == [len(clips)]
    assert len(list((tmp_path / "out" / "embedding_cache").glob("*.npy"))) == 1
    rows = json.loads((tmp_path / "out" / "results.json").read_text())["results"]
    acc = {r["task"]: r["mean"] for r in rows if r["metric"] == "accuracy"}
    assert acc["by_pitch"] > 0.9  # the shared rows are the right clips' rows


def test_a_manifest_with_label_and_labels_is_two_tasks_and_one_embedding_pass(tmp_path, embedding_passes):
    clips = _tones(tmp_path / "clips")
    tags = ["low", "mid", "high"]
    (tmp_path / "both.csv").write_text("path,label,labels\n" + "".join(
        f"clips/{f},p{c},{tags[c]};{'odd' if int(f[-5]) % 2 else 'even'}\n" for f, c in clips))
    assert _evaluate(tmp_path, "--quiet", "--task", str(tmp_path / "both.csv")) == 0
    assert embedding_passes == [len(clips)]
    rows = json.loads((tmp_path / "out" / "results.json").read_text())["results"]
    assert {(r["task"], r["metric"]) for r in rows} >= {("both:label", "accuracy"), ("both:labels", "mAP")}


# 2. the manifest `audiorep synth` writes evaluates as it is


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "world"
    assert main(["synth", "--out", str(out), "--n", "40", "--seconds", "1", "--sample-rate", "8000"]) == 0
    return out


def test_the_synth_manifest_is_cross_validated_and_its_protocol_printed_before_the_work(world, tmp_path, capsys):
    capsys.readouterr()
    assert _evaluate(tmp_path, "--task", str(world / "manifest.csv")) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    label = next(i for i, line in enumerate(lines) if line.startswith("task world:label:"))
    labels = next(i for i, line in enumerate(lines) if line.startswith("task world:labels:"))
    first_score = next(i for i, line in enumerate(lines) if " linear " in line)
    assert max(label, labels) < first_score  # the protocol comes before any result
    assert "single-label (accuracy)" in lines[label] and "column 'label'" in lines[label]
    assert "multi-label (mAP)" in lines[labels] and "column 'labels'" in lines[labels]
    for i in (label, labels):
        assert "40 clips" in lines[i] and "5-fold cross-validation" in lines[i] and "seed 0" in lines[i]
        assert "no test clip" in lines[i]  # why the split column is not used
    report = json.loads((tmp_path / "out" / "results.json").read_text())
    by_task = {r["task"]: r for r in report["results"] if r["metric"] in ("accuracy", "mAP")}
    assert set(by_task) == {"world:label", "world:labels"}
    assert all(r["n_folds"] == 5 for r in by_task.values())
    assert "(5 folds)" in out and "1 folds" not in out


def test_label_column_picks_one_task_and_a_single_split_is_not_shown_as_zero_spread(world, tmp_path, capsys):
    test_world = tmp_path / "world"  # a copy of the train split plus a test split
    assert main(["synth", "--out", str(test_world), "--n", "40", "--seconds", "1", "--sample-rate", "8000"]) == 0
    assert main(["synth", "--out", str(test_world), "--n", "16", "--seconds", "1", "--sample-rate", "8000",
                 "--split", "test", "--seed", "1"]) == 0
    capsys.readouterr()
    assert _evaluate(tmp_path, "--quiet", "--task", str(test_world / "manifest.csv"), "--label-column", "label") == 0
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "out" / "results.json").read_text())
    assert {r["task"] for r in report["results"]} == {"world:label"}
    assert "the manifest's split" in out and "16 test clips" in out
    assert "± 0.0" not in out and "1 folds" not in out and "(one split, no std)" in out
    assert "| world:label | logmel | linear | accuracy (%) | " in (tmp_path / "out" / "results.md").read_text()

    assert _evaluate(tmp_path, "--quiet", "--task", str(world / "manifest.csv"), "--label-column", "nosuch") == 2
    err = capsys.readouterr().err
    assert "no label column 'nosuch'" in err and "scene" in err and "labels" in err


def test_load_task_on_a_two_label_manifest_says_which_column_it_read(world):
    task = load_task(str(world / "manifest.csv"))
    assert task.meta["label_column"] == "label" and not task.multilabel
    assert "'labels'" in task.meta["note"] and "--label-column" in task.meta["note"]
    assert [t.name for t in load_tasks(str(world / "manifest.csv"), label_columns=["scene"])] == ["world:scene"]


# 3. unknown task names


def test_an_unknown_task_name_lists_every_task_and_suggests_the_closest(tmp_path, capsys):
    from audiorep.eval.tasks import task_names

    assert _evaluate(tmp_path, "--task", f"fsd={tmp_path}") == 2
    err = capsys.readouterr().err
    assert "did you mean 'fsdd'?" in err
    for name in task_names():
        assert name in err
    assert {"fsdd", "nsynth", "synthetic", "esc50", "manifest"} <= set(task_names())
    assert _evaluate(tmp_path, "--task", f"nsyth={tmp_path}") == 2
    assert "did you mean 'nsynth'?" in capsys.readouterr().err


def test_the_help_text_names_every_task():
    from audiorep.commands.evaluate import DESCRIPTION
    from audiorep.eval.tasks import task_names

    for name in task_names():
        assert name in DESCRIPTION, name


# 4. progress


def _manifest(tmp_path):
    clips = _tones(tmp_path / "clips")
    path = tmp_path / "tones.csv"
    path.write_text("path,label\n" + "".join(f"clips/{f},p{c}\n" for f, c in clips))
    return path


def test_progress_in_a_log_is_one_line_per_phase_and_quiet_is_silent(tmp_path, capsys):
    task = _manifest(tmp_path)
    assert _evaluate(tmp_path, "--task", str(task), "--probe", "linear", "mlp", "--no-cache") == 0
    err = capsys.readouterr().err  # captured: not a terminal
    assert "\r" not in err  # no redraws
    lines = err.splitlines()
    assert [line for line in lines if line.startswith("embedding tones with logmel")] == [lines[0]]
    assert len([line for line in lines if line.startswith("fitting linear and mlp probes on tones (logmel, 5 folds)")]) == 1
    assert len(lines) == 2
    assert _evaluate(tmp_path, "--task", str(task), "--no-cache", "--quiet") == 0
    assert capsys.readouterr().err == ""


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_on_a_terminal_is_a_bar_over_the_probe_fits(tmp_path, monkeypatch, capsys):
    task = _manifest(tmp_path)
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert _evaluate(tmp_path, "--task", str(task), "--no-cache") == 0
    shown = terminal.getvalue()
    assert "\r" in shown and "embedding tones with logmel" in shown
    assert "fitting linear probe on tones" in shown and "/5 " in shown


def test_the_demo_probing_stage_shows_its_phases(tmp_path, capsys):
    from audiorep.workflows.demo import run_demo

    overrides = ["data.synthetic.n_clips=16", "train.batch_size=8", "encoder.width=4", "encoder.embedding_dim=16",
                 "method.projection_hidden=32", "train.steps=1", "train.warmup_steps=1", "train.log_every=1"]
    run_demo(tmp_path, minutes=1.0, overrides=overrides, probe_train=20, probe_test=12, progress=True)
    captured = capsys.readouterr()
    for model in ("ssl", "random_init", "logmel"):
        assert f"embedding scene with {model}" in captured.err
        assert f"fitting linear probe on scene ({model}, 1 fold)" in captured.err
        assert f"fitting linear probe on events ({model}, 1 fold)" in captured.err
    assert "task scene:" in captured.out and "held out" in captured.out and "probed in" in captured.out
