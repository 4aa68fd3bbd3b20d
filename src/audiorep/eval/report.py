"""Results tables: one row per (task, model, probe, metric) with mean ± std over folds and
the per-fold values, written as markdown (for docs), CSV (for spreadsheets), JSON (for code)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from audiorep.eval.metrics import format_mean_std

COLUMNS = ("task", "model", "probe", "metric", "mean", "std", "n_folds", "folds")
UNSCALED = {"dprime"}  # reported as is, not as a percentage


def format_value(row: dict) -> str:
    scale = 1.0 if row["metric"] in UNSCALED else 100.0
    digits = 2 if row["metric"] in UNSCALED else 1
    return format_mean_std(row["mean"], row["std"], scale=scale, digits=digits)


def markdown_table(rows: list[dict]) -> str:
    """| task | model | probe | metric | mean ± std | folds |; percentages except d'."""
    lines = ["| task | model | probe | metric | mean ± std | folds |", "|---|---|---|---|---|---|"]
    for r in rows:
        unit = "" if r["metric"] in UNSCALED else " (%)"
        lines.append(f"| {r['task']} | {r['model']} | {r['probe']} | {r['metric']}{unit} | {format_value(r)} | {r['n_folds']} |")
    return "\n".join(lines) + "\n"


def write_markdown(rows: list[dict], path) -> Path:
    path = Path(path)
    path.write_text(markdown_table(rows))
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


def write_all(rows: list[dict], out_dir, extra: dict | None = None) -> dict[str, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return {
        "markdown": write_markdown(rows, out_dir / "results.md"),
        "csv": write_csv(rows, out_dir / "results.csv"),
        "json": write_json(rows, out_dir / "results.json", extra),
    }
