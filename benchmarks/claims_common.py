"""What the claim benchmarks share: pretrain a recipe for a budget, the real-audio probe
tasks (speakers / cats held out), and the linear probe of frozen embedders."""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def pretrain(recipe: str, steps: int, out: Path, overrides: list[str]):
    from audiorep.config import load_config
    from audiorep.train.trainer import Trainer

    cfg = load_config(recipe, ["train.minutes=null", f"train.steps={steps}", f"train.out_dir={out}", *overrides])
    t = time.time()
    summary = Trainer(cfg, progress=sys.stderr.isatty()).fit()
    run = {"recipe": recipe, "overrides": overrides, "steps": summary["steps"], "wall_s": round(time.time() - t, 1),
           "clips_per_second": summary["clips_per_second"]}
    return summary["checkpoint"], run, cfg


def real_tasks(out: Path) -> list:
    """FSDD digits and speech_commands_mini (speakers held out) and catmeows (cats held out)."""
    from audiorep.eval.tasks import load_task
    from audiorep.eval.tasks.manifest import manifest_task

    # catmeows names its cat in a `cat` column; the manifest task keeps a `group` together
    with open(SHARED / "catmeows" / "manifest.csv") as f:
        rows = list(csv.DictReader(f))
    meows = out / "catmeows_by_cat.csv"
    with open(meows, "w", newline="") as f:
        w = csv.DictWriter(f, ["path", "label", "group"])
        w.writeheader()
        w.writerows({"path": str(SHARED / "catmeows" / r["path"]), "label": r["label"], "group": r["cat"]}
                    for r in rows)
    return [load_task("fsdd_digit", str(SHARED / "fsdd")),
            manifest_task(SHARED / "speech_commands_mini" / "manifest.csv", name="speech_commands_mini"),
            manifest_task(meows, name="catmeows")]


def transductive_tasks(out: Path) -> list:
    """Tasks on audio the pool holds (heard, without labels, in pretraining): piano MIDI pitch with
    one velocity layer held out per fold (test one layer, validate the next, train on the other
    two), and the coffee-order drink (speech_intent, 5 stratified folds; no speaker ids)."""
    from audiorep.eval.tasks.manifest import manifest_task

    with open(SHARED / "piano" / "manifest.csv") as f:
        rows = list(csv.DictReader(f))
    layers = sorted({r["velocity"] for r in rows})
    piano = out / "piano_pitch_by_velocity.csv"
    with open(piano, "w", newline="") as f:
        w = csv.DictWriter(f, ["path", "label", "fold"])
        w.writeheader()
        w.writerows({"path": str(SHARED / "piano" / r["path"]), "label": r["midi"],
                     "fold": layers.index(r["velocity"]) + 1} for r in rows)
    with open(SHARED / "speech_intent" / "manifest.csv") as f:
        rows = list(csv.DictReader(f))
    intent = out / "speech_intent_drink.csv"
    with open(intent, "w", newline="") as f:
        w = csv.DictWriter(f, ["path", "label"])
        w.writeheader()
        w.writerows({"path": str(SHARED / "speech_intent" / r["path"]), "label": r["label"]} for r in rows)
    return [manifest_task(piano, name="piano_pitch"), manifest_task(intent, name="speech_intent")]


def probe(embedders: dict, tasks: list, seed: int = 0) -> dict:
    from audiorep.eval.evaluate import evaluate
    from audiorep.eval.report import summarise

    return summarise(evaluate(embedders, tasks, probes=("linear",), batch_size=64, plots=False, seed=seed))
