"""The one report writer. Results are rows, one per (task, model, probe, metric), with mean ±
std over folds and the per-fold values, written as markdown (for docs), CSV (for
spreadsheets), JSON (for code). Clips an evaluation skipped (unreadable files, non-finite
embeddings) are counted per task in the tables ("N clips skipped") and listed one per line, with
their cause, in skipped.csv and the JSON; tasks that could not be evaluated are named with the
reason. `summarise` keeps each task's primary score per model;
`scores_table` turns that into the grid tables of the demo and the ablations, and
`audiorep.eval.plots.plot_scores` into a bar chart."""

from __future__ import annotations

import csv
import json
import shlex
import sys
from pathlib import Path

from audiorep.eval.metrics import format_mean_std

COLUMNS = ("task", "model", "probe", "metric", "mean", "std", "n_folds", "folds")


def command_line(argv: list[str] | None = None) -> str:
    """The command that is running, as a user would type it, for results files to record."""
    argv = list(sys.argv if argv is None else argv)
    if argv and (argv[0].endswith("audiorep") or argv[0].endswith("audiorep/__main__.py")):
        return shlex.join(["audiorep", *argv[1:]])
    return shlex.join(["python", *argv])
UNSCALED = {"dprime"}  # reported as is, not as a percentage


def format_value(row: dict) -> str:
    """'87.3 ± 2.1'; over a single fold (one split) the mean alone: a spread of one value is no spread."""
    scale = 1.0 if row["metric"] in UNSCALED else 100.0
    digits = 2 if row["metric"] in UNSCALED else 1
    if row.get("n_folds", 2) <= 1:
        return f"{row['mean'] * scale:.{digits}f}"
    return format_mean_std(row["mean"], row["std"], scale=scale, digits=digits)


def folds_text(n_folds: int) -> str:
    """'(5 folds)', or '(one split, no std)' for a single fold."""
    return f"({n_folds} folds)" if n_folds != 1 else "(one split, no std)"


def markdown_table(rows: list[dict]) -> str:
    """| task | model | probe | metric | mean ± std | folds |; percentages except d'. When any
    row's task had clips skipped (`clips_skipped`), a last column says "N clips skipped"."""
    skipped = any(r.get("clips_skipped") for r in rows)
    head = "| task | model | probe | metric | mean ± std | folds |" + (" skipped |" if skipped else "")
    lines = [head, "|---|---|---|---|---|---|" + ("---|" if skipped else "")]
    for r in rows:
        unit = "" if r["metric"] in UNSCALED else " (%)"
        line = f"| {r['task']} | {r['model']} | {r['probe']} | {r['metric']}{unit} | {format_value(r)} | {r['n_folds']} |"
        lines.append(line + (f" {clips_skipped_text(r.get('clips_skipped', 0))} |" if skipped else ""))
    return "\n".join(lines) + "\n"


def clips_skipped_text(n: int) -> str:
    return f"{n} clip skipped" if n == 1 else f"{n} clips skipped"


def left_out_markdown(skipped_clips: list[dict] | None = None, not_evaluated: list[dict] | None = None,
                      skipped_file: str = "skipped.csv") -> str:
    """Markdown naming the tasks not evaluated (with the reason) and, per task and model, how
    many clips were skipped (every one is listed in `skipped_file`); empty when nothing was."""
    text = ""
    if not_evaluated:
        text += "\n**Not evaluated**\n\n" + "".join(f"- {n['task']} ({n['model']}): {n['reason']}\n"
                                                       for n in not_evaluated)
    if skipped_clips:
        per: dict[tuple[str, str], int] = {}
        for c in skipped_clips:
            per[(c["task"], c["model"])] = per.get((c["task"], c["model"]), 0) + 1
        text += (f"\n**Skipped clips** (each with its cause in {skipped_file})\n\n"
                 + "".join(f"- {task} ({model}): {clips_skipped_text(n)}\n" for (task, model), n in per.items()))
    return text


def write_markdown(rows: list[dict], path, skipped_clips=None, not_evaluated=None) -> Path:
    path = Path(path)
    path.write_text(markdown_table(rows) + left_out_markdown(skipped_clips, not_evaluated))
    return path


def write_skipped_csv(skipped_clips: list[dict], path) -> Path:
    """One row per skipped clip: task, model, path, cause."""
    path = Path(path)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=("task", "model", "path", "cause"))
        writer.writeheader()
        writer.writerows({k: c[k] for k in ("task", "model", "path", "cause")} for c in skipped_clips)
    return path


def write_csv(rows: list[dict], path) -> Path:
    path = Path(path)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for r in rows:
            writer.writerow({**{k: r[k] for k in COLUMNS if k != "folds"}, "folds": ";".join(f"{v:.6g}" for v in r["folds"])})
    return path


def write_json(rows: list[dict], path, extra: dict | None = None) -> Path:
    path = Path(path)
    path.write_text(json.dumps({"results": rows, **(extra or {})}, indent=1, default=str))
    return path


def write_all(rows: list[dict], out_dir, extra: dict | None = None, skipped_clips: list[dict] | None = None,
              not_evaluated: list[dict] | None = None) -> dict[str, Path]:
    """results.md, results.csv, results.json; and skipped.csv when clips were skipped (given
    an empty list, an old skipped.csv in `out_dir` is removed, so it never describes another run)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {
        "markdown": write_markdown(rows, out_dir / "results.md", skipped_clips, not_evaluated),
        "csv": write_csv(rows, out_dir / "results.csv"),
        "json": write_json(rows, out_dir / "results.json", extra),
    }
    if skipped_clips:
        written["skipped"] = write_skipped_csv(skipped_clips, out_dir / "skipped.csv")
    elif skipped_clips is not None and (out_dir / "skipped.csv").is_file():
        (out_dir / "skipped.csv").unlink()
    return written


# ---- summaries: one score per (task, model), for the demo, ablations and benchmarks ----
def primary_metric(metrics: set[str]) -> str:
    """The metric a task is ranked by: mAP for multi-label tasks, accuracy otherwise."""
    return "mAP" if "mAP" in metrics else "accuracy"


def summarise(rows: list[dict], probe: str = "linear", digits: int = 4) -> dict:
    """{task: {"metric", "n_folds", "models": {model: mean}, "std": {model: std}}} from result rows."""
    out: dict = {}
    for task in dict.fromkeys(r["task"] for r in rows):
        mine = [r for r in rows if r["task"] == task and r["probe"] == probe]
        metric = primary_metric({r["metric"] for r in mine})
        chosen = [r for r in mine if r["metric"] == metric]
        out[task] = {"metric": metric, "n_folds": max(r["n_folds"] for r in chosen),
                     "models": {r["model"]: round(float(r["mean"]), digits) for r in chosen},
                     "std": {r["model"]: round(float(r["std"]), digits) for r in chosen}}
    return out


def _cell(summary_task: dict, model: str, best: float) -> str:
    value = summary_task["models"].get(model)
    if value is None:
        return ""
    text = f"{value:.3f}" + (f" ± {summary_task['std'][model]:.3f}" if summary_task["n_folds"] > 1 else "")
    return f"**{text}**" if value == best else text


def scores_table(summary: dict, rows_are: str = "tasks", first_column: str = "model",
                 extra_columns: dict[str, dict[str, str]] | None = None) -> str:
    """A markdown grid of `summarise` scores, the best per task in bold, ± std over folds where
    a task has several. rows_are="tasks": | task | metric | model... |; "models": one row per
    model, one column per task, then `extra_columns` ({column: {model: text}})."""
    models = list(dict.fromkeys(m for t in summary.values() for m in t["models"]))
    best = {task: max(t["models"].values()) for task, t in summary.items()}
    if rows_are == "tasks":
        lines = ["| task | metric | " + " | ".join(models) + " |", "|---|---|" + "---|" * len(models)]
        lines += [f"| {task} | {t['metric']} | " + " | ".join(_cell(t, m, best[task]) for m in models) + " |"
                  for task, t in summary.items()]
        return "\n".join(lines) + "\n"
    extra = extra_columns or {}
    head = [f"{task} ({t['metric']})" for task, t in summary.items()] + list(extra)
    lines = [f"| {first_column} | " + " | ".join(head) + " |", "|---|" + "---|" * len(head)]
    for m in models:
        cells = [_cell(t, m, best[task]) for task, t in summary.items()] + [col.get(m, "-") for col in extra.values()]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
