"""`audiorep pretrain` over the hostile corpus: bad files mixed with good ones are skipped,
counted and listed and the run ends with finite weights; a folder of nothing but bad files stops
with a message, under a step budget and under a minutes budget, instead of looping or saving an
untrained model."""

import torch
from corpus import write_bad_audio, write_good_audio

from audiorep.cli import main

TINY = ["encoder.width=4", "encoder.embedding_dim=16", "method.projection_hidden=32", "method.projection_dim=16",
        "train.batch_size=4", "train.warmup_steps=1", "data.clip_seconds=1.0", "train.device=cpu",
        "method.wave_augment=[{name: random_crop, seconds: 0.5}]"]


def test_bad_files_among_good_ones_are_skipped_listed_and_the_weights_stay_finite(tmp_path):
    bad = write_bad_audio(tmp_path / "data" / "bad")
    write_good_audio(tmp_path / "data" / "good", 12)
    out = tmp_path / "run"
    code = main(["pretrain", "--config", "simclr_demo", "--out", str(out), "--no-progress", "data.source=folder",
                 f"data.path={tmp_path / 'data'}", "train.steps=6", "train.minutes=null", *TINY])
    assert code == 0
    listed = (out / "bad_files.txt").read_text()
    files = [p for p, _ in bad.values() if p.is_file() and not p.is_symlink()]  # what a folder listing finds
    assert files and all(p.name in listed for p in files)
    state = torch.load(out / "last.pt", weights_only=True)
    assert state["step"] == 6
    assert all(torch.isfinite(v).all() for v in state["method"].values() if v.is_floating_point())


def test_a_folder_of_only_bad_files_stops_with_a_message_under_steps_or_minutes(tmp_path, capsys):
    write_bad_audio(tmp_path / "bad")
    for budget in (["train.steps=3", "train.minutes=null"], ["train.steps=100000", "train.minutes=0.5"]):
        out = tmp_path / f"run{len(budget[0])}"
        code = main(["pretrain", "--config", "simclr_demo", "--out", str(out), "--no-progress", "data.source=folder",
                     f"data.path={tmp_path / 'bad'}", *budget, *TINY])
        assert code == 2
        assert "no readable clip in the last 50 batches" in capsys.readouterr().err
        assert not (out / "last.pt").exists()  # no untrained checkpoint passed off as a result
