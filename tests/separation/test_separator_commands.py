"""The two CLI entry points, end to end on real recordings (FSDD, 8 kHz spoken digits)."""

from pathlib import Path

import pytest
import soundfile as sf
import torch

from audiorep.cli import main

FSDD = Path("/work/shared/data/fsdd")
TINY_RECIPE = """
method:
  model: {num_channels: 4, num_filters: 32, kernel_size: 16, bottleneck: 16, hidden: 32, blocks_per_repeat: 2,
          repeats: 1}
data: {clip_seconds: 0.25}
train: {batch_size: 4, steps: 4, log_every: 2}
"""


@pytest.mark.skipif(not (FSDD / "manifest.csv").is_file(), reason="shared FSDD recordings not available")
def test_train_on_a_manifest_then_separate_files_into_channels(tmp_path, capsys):
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(TINY_RECIPE)
    run_dir = tmp_path / "run"
    assert main(["separator", "train", "--config", str(recipe), "--data", str(FSDD / "manifest.csv"),
                 "--out", str(run_dir)]) == 0
    assert {p.name for p in run_dir.glob("*.pt")} == {"early.pt", "middle.pt", "late.pt", "last.pt"}

    inputs = [str(FSDD / "recordings/0_george_0.wav"), str(FSDD / "recordings/7_jackson_3.wav")]
    out = tmp_path / "sep"
    assert main(["separate", "--checkpoint", str(run_dir / "late.pt"), "--out", str(out), *inputs]) == 0
    for path in inputs:
        stem = Path(path).stem
        channels = [sf.read(out / f"{stem}_ch{m}.wav", dtype="float32") for m in range(4)]
        assert all(rate == 8000 for _, rate in channels)
        original, _ = sf.read(path, dtype="float32")
        total = torch.tensor(sum(wave for wave, _ in channels))
        torch.testing.assert_close(total, torch.tensor(original), atol=1e-3, rtol=0)


def test_unknown_recipe_key_is_named(tmp_path, capsys):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text("train: {learning_rat: 0.01}\n")
    assert main(["separator", "train", "--config", str(recipe), "--out", str(tmp_path / "x")]) == 2
    assert "unknown config key 'train.learning_rat'" in capsys.readouterr().err


def test_a_recipe_in_the_old_layout_gets_a_migration_note(tmp_path, capsys):
    recipe = tmp_path / "old.yaml"
    recipe.write_text("model: {num_channels: 4}\ntrain: {max_steps: 4}\n")
    assert main(["separator", "train", "--config", str(recipe), "--out", str(tmp_path / "x")]) == 2
    assert "method.model" in capsys.readouterr().err


def test_batch_size_counts_separator_inputs(tmp_path, monkeypatch):
    from audiorep.train import trainer

    seen = {}
    monkeypatch.setattr(trainer.Trainer, "fit", lambda self: seen.update(batch=self.cfg.train.batch_size) or
                        {"steps": 0, "seconds": 0.0})
    for objective, clips in (("mixit", 6), ("pit", 3)):
        assert main(["separator", "train", "--objective", objective, "--batch-size", "3", "--out", str(tmp_path)]) == 0
        assert seen["batch"] == clips  # MixIT sums pairs of clips into each input


def test_pit_on_files_without_sources_is_refused(tmp_path, capsys):
    assert main(["separator", "train", "--objective", "pit", "--data", str(tmp_path), "--out", str(tmp_path / "x")]) == 2
    assert "isolated sources" in capsys.readouterr().err


def test_separate_with_a_missing_checkpoint_says_which(tmp_path, capsys):
    assert main(["separate", "--checkpoint", str(tmp_path / "none.pt"), "--out", str(tmp_path), "a.wav"]) == 2
    assert "none.pt" in capsys.readouterr().err
