"""Impossible numbers at the command line are refused before any work starts, with the option
named and what it must be (argparse exits 2), for every command's numeric options."""

import pytest

from audiorep.cli import main

CASES = [
    (["synth", "--out", "w", "--n", "0"], "--n: must be an integer >= 1, got '0'"),
    (["synth", "--out", "w", "--n", "3", "--seconds", "-1"], "--seconds: must be a positive number"),
    (["synth", "--out", "w", "--n", "3", "--seconds", "nan"], "--seconds: must be a positive number"),
    (["synth", "--out", "w", "--n", "3", "--max-events", "-2"], "--max-events: must be an integer >= 0"),
    (["synth", "--out", "w", "--n", "two"], "--n: must be an integer >= 1, got 'two'"),
    (["pretrain", "--minutes", "0"], "--minutes: must be a positive number"),
    (["demo", "--minutes", "-5"], "--minutes: must be a positive number"),
    (["ablate", "--steps", "0"], "--steps: must be an integer >= 1"),
    (["augment", "x.wav", "--views", "0"], "--views: must be an integer >= 1"),
    (["augment", "x.wav", "--seconds", "inf"], "--seconds: must be a positive number"),
    (["separator", "train", "--out", "o", "--batch-size", "0"], "--batch-size: must be an integer >= 1"),
    (["separator", "train", "--out", "o", "--num-workers", "-1"], "--num-workers: must be an integer >= 0"),
    (["supervised", "--task", "synthetic", "--steps", "-3"], "--steps: must be an integer >= 1"),
    (["supervised", "--task", "synthetic", "--synthetic-clips", "700", "0"], "--synthetic-clips: must be an integer"),
]


@pytest.mark.parametrize("argv,message", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_an_impossible_number_is_refused_with_the_option_named(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


MORE = [
    (["shard", "in", "--out", "o", "--max-samples", "0"], "--max-samples: must be an integer >= 1"),
    (["shard", "in", "--out", "o", "--video-fps", "inf"], "--video-fps: must be a positive number"),
    (["shard", "in", "--out", "o", "--workers", "-1"], "--workers: must be an integer >= 0"),
    (["evaluate", "--model", "m", "--task", "synthetic", "--batch-size", "0"], "--batch-size: must be an integer >= 1"),
    (["evaluate", "--model", "m", "--task", "synthetic", "--clip-seconds", "-1"], "--clip-seconds: must be a positive"),
]


@pytest.mark.parametrize("argv,message", MORE, ids=[" ".join(a) for a, _ in MORE])
def test_shard_and_evaluate_refuse_impossible_numbers_too(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err
