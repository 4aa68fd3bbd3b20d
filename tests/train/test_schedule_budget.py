"""A short budget never ends inside the warm-up: the warm-up takes at most the first tenth of the
run and the cosine reaches its floor when the budget ends. Under a minutes budget the progress
display counts the run's fraction, and without a terminal it prints a line per tenth."""

import re

import pytest

from audiorep.optim.schedule import WARMUP_SHARE, LearningRateSchedule
from audiorep.train.progress import RunProgress
from audiorep.train.trainer import Trainer

from test_trainer import tiny_cfg, toy_source  # the shared tiny run (rootdir-relative import, as its neighbours do)


@pytest.mark.parametrize("steps", [1, 2, 5, 46, 50, 51, 200, 5000])
@pytest.mark.parametrize("warmup", [0, 1, 10, 50, 500])
def test_the_cosine_ends_at_the_floor_and_the_warm_up_by_a_tenth_of_any_budget(steps, warmup):
    schedule = LearningRateSchedule(2e-3, warmup_steps=warmup, final_fraction=0.01)
    assert schedule(steps, 1.0) == pytest.approx(2e-3 * 0.01)
    assert schedule(steps - 1, 1.0) == pytest.approx(2e-3 * 0.01)  # the budget ends at the step it ends
    first_after_warmup = next(s for s in range(steps + 1) if schedule.warmup(s, s / steps) == 1.0)
    assert first_after_warmup / steps <= WARMUP_SHARE + 1 / steps
    # the rate rises through the warm-up and falls after it, whatever the budget
    rates = [schedule(s, s / steps) for s in range(steps)]
    assert all(a <= b for a, b in zip(rates[:first_after_warmup], rates[1:first_after_warmup]))
    assert all(a >= b for a, b in zip(rates[first_after_warmup:], rates[first_after_warmup + 1:]))


def test_the_issue_case_46_steps_of_a_50_step_warm_up_end_at_the_floor():
    schedule = LearningRateSchedule(2e-3, warmup_steps=50)
    assert schedule(4, 4 / 46) < 2e-3 and schedule(5, 5 / 46) > 1.9e-3  # warmed up by a tenth of the run
    assert schedule(45, 45 / 46) < 0.03 * 2e-3 and schedule(46, 1.0) == pytest.approx(2e-5)
    # with a long budget the warm-up still counts its steps
    assert schedule(24, 24 / 5000) == pytest.approx(2e-3 * 25 / 50)


def test_a_wall_clock_budget_ends_the_warm_up_by_a_tenth_of_the_minutes():
    schedule = LearningRateSchedule(1.0, warmup_steps=1000)  # a slow machine does few steps per minute
    assert schedule.factor(3, 0.05) == pytest.approx(0.5)
    assert schedule.factor(7, 0.1) == pytest.approx(1.0, abs=0.03)  # the cosine at 0.1 is 0.976
    assert schedule.factor(9, 1.0) == pytest.approx(0.01)


def test_a_tiny_run_whose_budget_is_shorter_than_its_warm_up_ends_at_the_floor(tmp_path):
    import csv

    cfg = tiny_cfg(tmp_path, "train.steps=10", "train.warmup_steps=50", "train.lr=0.002")
    Trainer(cfg, progress=False, source=toy_source()).fit()
    with open(tmp_path / "metrics.csv") as f:
        rates = [float(r["lr"]) for r in csv.DictReader(f)]
    assert rates[0] == pytest.approx(0.002 / 50) and max(rates) > 0.0019  # warmed up within the run
    assert rates.index(max(rates)) <= 1 and rates == sorted(rates[:2]) + sorted(rates[2:], reverse=True)
    assert rates[-1] < 0.1 * 0.002


def _lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("pretrain simclr:")]


def test_without_a_terminal_a_run_prints_a_line_per_tenth_instead_of_a_bar(tmp_path, capsys):
    Trainer(tiny_cfg(tmp_path, "train.steps=20", "train.log_every=5"), progress=True, source=toy_source()).fit()
    err = capsys.readouterr().err
    lines = _lines(err)
    assert [int(re.search(r"(\d+)%", line).group(1)) for line in lines] == list(range(10, 101, 10))
    assert [int(re.search(r"step (\d+)", line).group(1)) for line in lines] == list(range(2, 21, 2))
    assert "\r" not in err and "loss=" in lines[-1] and "lr=" in lines[-1]


def test_the_lines_continue_from_a_resumed_run_and_a_stop_says_where_it_stopped(capsys):
    progress = RunProgress("pretrain simclr", steps=3000, minutes=5, step=40, fraction=0.43)
    for step, fraction in ((41, 0.45), (42, 0.5), (43, 0.58), (44, 0.61), (45, 0.63)):
        progress.update(step, fraction)
    progress.close(0.64)  # stopped (SIGTERM) before the budget ended
    assert _lines(capsys.readouterr().err) == ["pretrain simclr:  50% (step 42)", "pretrain simclr:  61% (step 44)",
                                               "pretrain simclr:  64% (step 45)"]
    quiet = RunProgress("pretrain simclr", steps=10, minutes=None, step=0, fraction=0.0, enabled=False)
    quiet.update(10, 1.0)
    quiet.close(1.0)
    assert capsys.readouterr().err == ""


class _Terminal:
    """A stderr that says it is a terminal, keeping what is drawn."""

    def __init__(self):
        self.text = ""

    def isatty(self):
        return True

    def write(self, s):
        self.text += s

    def flush(self):
        pass


def test_on_a_terminal_a_minutes_budget_bar_counts_the_budget_and_ends_at_100_percent(monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    progress = RunProgress("pretrain simclr", steps=3000, minutes=1, step=0, fraction=0.0)
    for step in range(1, 47):  # a slow machine: 46 steps in the minute, of 3000 allowed
        progress.update(step, min(1.0, step / 46))
    progress.close(1.0)
    last = terminal.text.replace("\r", "\n").strip().splitlines()[-1]
    assert "100%" in last and "step=46" in last and "/3000" not in last
    # a step budget alone counts steps
    terminal.text = ""
    progress = RunProgress("pretrain simclr", steps=20, minutes=None, step=0, fraction=0.0)
    for step in range(1, 21):
        progress.update(step, step / 20)
    progress.close(1.0)
    assert "20/20" in terminal.text.replace("\r", "\n").strip().splitlines()[-1]
