"""The one report writer: per-task summaries and the grid tables of the demo and ablations."""

from audiorep.eval.report import scores_table, summarise


def row(task, model, metric, mean, std=0.0, n_folds=1, probe="linear"):
    return {"task": task, "model": model, "probe": probe, "metric": metric, "mean": mean, "std": std,
            "n_folds": n_folds, "folds": [mean] * n_folds}


ROWS = [row("scene", "ssl", "accuracy", 0.61), row("scene", "logmel", "accuracy", 0.47),
        row("events", "ssl", "mAP", 0.8), row("events", "ssl", "auc", 0.95), row("events", "logmel", "mAP", 0.52),
        row("digits", "ssl", "accuracy", 0.69, 0.094, 6), row("digits", "logmel", "accuracy", 0.574, 0.065, 6),
        row("digits", "ssl", "accuracy", 0.99, probe="mlp")]


def test_summaries_keep_each_tasks_primary_metric_of_one_probe():
    s = summarise(ROWS)
    assert {t: v["metric"] for t, v in s.items()} == {"scene": "accuracy", "events": "mAP", "digits": "accuracy"}
    assert s["events"]["models"] == {"ssl": 0.8, "logmel": 0.52}  # not the AUC row
    assert s["digits"]["models"]["ssl"] == 0.69 and s["digits"]["n_folds"] == 6  # not the MLP row


def test_grid_tables_bold_the_best_and_show_spread_only_over_several_folds():
    s = summarise(ROWS)
    by_task = scores_table(s)
    assert "| scene | accuracy | **0.610** | 0.470 |" in by_task
    assert "| digits | accuracy | **0.690 ± 0.094** | 0.574 ± 0.065 |" in by_task
    by_model = scores_table(s, rows_are="models", first_column="variant", extra_columns={"steps": {"ssl": "300"}})
    lines = by_model.splitlines()
    assert lines[0] == "| variant | scene (accuracy) | events (mAP) | digits (accuracy) | steps |"
    assert lines[2] == "| ssl | **0.610** | **0.800** | **0.690 ± 0.094** | 300 |"
    assert lines[3].endswith("| - |")
