"""The most representation per CPU-minute: pretrain on the real unlabelled pool for a wall-clock
budget, then probe the frozen embeddings on real tasks the pool never heard (issue 15).

    python benchmarks/real_audio.py --minutes 20 --runs simclr_cpu simclr_demo --json PATH
    python benchmarks/real_audio.py --minutes 4 --study width --json PATH   # one variable at a time
    python benchmarks/real_audio.py --profile simclr_demo simclr_cpu --json PATH  # where a step goes
    python benchmarks/real_audio.py --seeds A.json B.json ... --run simclr_cpu --json PATH  # over seeds

Pretraining reads `../shared/data/pool_manifest.csv` (4.1 h of wake words, coffee orders, infant
cries and piano; no labels). Every run is one process on one thread with the loader in that
process (`data.num_workers=0`), so N wall-minutes are N CPU-minutes; `--parallel` runs that many
such processes side by side (the 2-core machine: 2). Probes (linear, frozen embeddings):
FSDD digits (leave one speaker out), speech_commands_mini (speakers kept together) and catmeows
(cats kept together), none of them in the pool; and, marked transductive, piano MIDI pitch (one
velocity layer held out) and speech_intent drinks, both in the pool. Every table carries the
floors: each run's architecture at random initialisation, log-mel statistics, and a wide random
CNN (width 80, 2048-d). Each run also reports steps, clips/s, parameters, embedding dimension and
embedding speed (seconds of 10 s clips embedded per second on one thread).

Runs are named `NAME=RECIPE[:key=value,...]` or just `RECIPE`; a run's result is kept in
`--out/<name>-<hash>/result.json` and reused by later invocations with the same recipe, overrides,
budget and seed, so a study can be stopped and continued. `--seeds` reads records of the same
comparison made with different `--seed`s and puts one run beside its floors seed by seed: the
mean and spread over seeds, and on how many seeds it beats each floor on each task.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

from claims_common import SHARED, real_tasks, transductive_tasks
from throughput import embed_speed

POOL = SHARED / "pool_manifest.csv"
INDUCTIVE = ("fsdd_digit", "speech_commands_mini", "catmeows")
TRANSDUCTIVE = ("piano_pitch", "speech_intent")
WIDE_RANDOM = {"name": "cnn", "width": 80, "embedding_dim": 2048}

# The demo's chains, and the families the study adds to them one at a time.
CROP = {"name": "random_crop", "seconds": 1.0}
BASE_WAVE = [CROP, {"name": "gain", "db": [-10, 6]}, {"name": "noise", "snr_db": [5, 40], "p": 0.5}]
BASE_SPEC = [{"name": "freq_mask", "max_width": 8, "count": 1}, {"name": "time_mask", "max_width": 10, "count": 1}]
PITCH_TEMPO = [{"name": "pitch_shift", "semitones": [-3, 3], "p": 0.5}, {"name": "time_stretch", "rate": [0.85, 1.2],
                                                                          "p": 0.3}]
LOG_MIXUP = {"name": "log_mixup_exp", "ratio": [0.0, 0.4], "queue_size": 2048}
RESIZED_CROP = {"name": "resized_crop", "time_scale": [0.6, 1.5], "freq_scale": [0.6, 1.5]}


def chain(key: str, ops: list) -> str:
    return f"{key}={json.dumps(ops, separators=(',', ':'))}"


def crop(seconds: float) -> list[str]:
    return [chain("method.wave_augment", [{**CROP, "seconds": seconds}, *BASE_WAVE[1:]]),
            f"data.clip_seconds={max(2.0, 2 * seconds)}"]


# One variable at a time, from simclr_demo on the pool; the first entry of each is the base itself.
STUDY = {
    "width": [("width16", []), ("width32", ["encoder.width=32"]), ("width48", ["encoder.width=48"])],
    "embedding": [("mean512", []), ("mean2048", ["encoder.embedding_dim=2048"]),
                  ("flatten512", ["encoder.freq_pool=flatten"]),
                  ("flatten2048", ["encoder.freq_pool=flatten", "encoder.embedding_dim=2048"])],
    "batch": [("batch64", []), ("batch32", ["train.batch_size=32"]), ("batch128", ["train.batch_size=128"])],
    "crop": [("crop1s", []), ("crop0.5s", crop(0.5)), ("crop2s", crop(2.0))],
    "augment": [("demo_chain", []),
                ("+pitch_tempo", [chain("method.wave_augment", [*BASE_WAVE, *PITCH_TEMPO])]),
                ("+log_mixup", [chain("method.spec_augment", [LOG_MIXUP, *BASE_SPEC])]),
                ("+resized_crop", [chain("method.spec_augment", [RESIZED_CROP, *BASE_SPEC])]),
                ("-noise", [chain("method.wave_augment", BASE_WAVE[:2])])],
    "temperature": [("temp0.2", []), ("temp0.1", ["method.temperature=0.1"]), ("temp0.5", ["method.temperature=0.5"])],
}
BASE_NAMES = {variants[0][0] for variants in STUDY.values()}

# Stage two: the single changes that helped, added one by one to the best of them.
FLAT = ["encoder.freq_pool=flatten"]
PITCH = [chain("method.wave_augment", [*BASE_WAVE, *PITCH_TEMPO])]
RRC = [chain("method.spec_augment", [RESIZED_CROP, *BASE_SPEC])]
STUDY["combined"] = [("flatten512", FLAT), ("f512+pitch_tempo", FLAT + PITCH),
                     ("f512+pitch+rrc", FLAT + PITCH + RRC),
                     ("f512+pitch+rrc+temp0.5", FLAT + PITCH + RRC + ["method.temperature=0.5"]),
                     ("f2048+pitch+rrc", FLAT + ["encoder.embedding_dim=2048"] + PITCH + RRC)]


def top_level_split(text: str) -> list[str]:
    """Split at the commas outside brackets, so an override may be a JSON list or mapping."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch in "[{") - (ch in "]}")
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [part for part in [*parts, text[start:]] if part]


def parse_run(spec: str) -> dict:
    name, _, rest = spec.partition("=") if "=" in spec.split(":")[0] else ("", "", spec)
    recipe, _, overrides = rest.partition(":")
    return {"name": name or recipe, "recipe": recipe, "overrides": top_level_split(overrides)}


def run_key(run: dict, minutes: float, seed: int) -> str:
    text = json.dumps([run["recipe"], run["overrides"], minutes, seed])
    return f"{run['name']}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


# ---- one run, in its own one-thread process ---------------------------------------------------
def describe(embedder) -> dict:
    return {"parameters": sum(p.numel() for p in embedder.parameters()), "embedding_dim": embedder.embedding_size,
            "embed_audio_s_per_s": embed_speed(embedder)}


def probe_all(embedders: dict, work: Path, seed: int) -> dict:
    from claims_common import probe

    return probe(embedders, real_tasks(work) + transductive_tasks(work), seed=seed)


def one_run(run: dict, minutes: float, seed: int, folder: Path) -> dict:
    from audiorep.builders import load_embedder, random_init_like
    from audiorep.config import load_config
    from audiorep.train.trainer import Trainer

    overrides = ["data.source=manifest", f"data.path={POOL}", "data.num_workers=0", f"train.minutes={minutes}",
                 "train.steps=100000000", f"train.out_dir={folder / 'run'}", "train.checkpoint_every=100000000",
                 "train.log_every=50", f"seed={seed}", *run["overrides"]]
    cfg = load_config(run["recipe"], overrides)
    t = time.time()
    summary = Trainer(cfg, progress=False).fit()
    wall = time.time() - t
    trained, random = load_embedder(summary["checkpoint"]), random_init_like(summary["checkpoint"], seed=seed)
    scores = probe_all({"trained": trained, "random_init": random}, folder, seed)
    return {**run, "minutes": minutes, "seed": seed, "steps": summary["steps"], "wall_s": round(wall, 1),
            "clips_per_second": summary["clips_per_second"], "batch_size": cfg.train.batch_size,
            "encoder": dict(cfg.encoder), **describe(trained),
            "scores": {task: {"trained": s["models"]["trained"], "trained_std": s["std"]["trained"],
                              "random_init": s["models"]["random_init"], "random_init_std": s["std"]["random_init"],
                              "metric": s["metric"], "n_folds": s["n_folds"]} for task, s in scores.items()}}


def floors(seed: int, folder: Path) -> dict:
    from audiorep.builders import build_baseline, random_init_embedder
    from audiorep.config import Config

    wide = random_init_embedder(cfg=Config(encoder=dict(WIDE_RANDOM)), seed=seed)
    models = {"logmel": build_baseline("logmel"), "wide_random_cnn": wide}
    scores = probe_all(models, folder, seed)
    info = {"logmel": {"parameters": 0, "embedding_dim": models["logmel"].embedding_size,
                       "embed_audio_s_per_s": embed_speed(models["logmel"])},
            "wide_random_cnn": {**describe(wide), "encoder": WIDE_RANDOM}}
    return {name: {**info[name], "scores": {t: {"score": s["models"][name], "std": s["std"][name], "metric": s["metric"]}
                                            for t, s in scores.items()}} for name in models}


def child(args) -> int:
    import torch

    torch.set_num_threads(1)
    folder = Path(args.child_folder)
    spec = json.loads((folder / "spec.json").read_text())
    result = floors(spec["seed"], folder) if spec["run"] is None else one_run(spec["run"], spec["minutes"],
                                                                              spec["seed"], folder)
    tmp = folder / "result.json.tmp"
    tmp.write_text(json.dumps(result, indent=1))
    os.replace(tmp, folder / "result.json")
    return 0


def run_all(jobs: list[tuple[Path, dict]], parallel: int) -> None:
    """Each job in its own one-thread process, `parallel` at a time; finished ones are reused."""
    todo = [(folder, spec) for folder, spec in jobs if not (folder / "result.json").exists()]
    running: list[tuple[subprocess.Popen, Path, object]] = []
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    while todo or running:
        while todo and len(running) < parallel:
            folder, spec = todo.pop(0)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "spec.json").write_text(json.dumps(spec))
            log = open(folder / "log.txt", "w")
            cmd = [sys.executable, __file__, "--child-folder", str(folder)]
            running.append((subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env), folder, log))
            print(f"started {folder.name}", flush=True)
        time.sleep(2)
        for proc, folder, log in list(running):
            if proc.poll() is not None:
                running.remove((proc, folder, log))
                log.close()
                state = "done" if proc.returncode == 0 else f"FAILED (exit {proc.returncode}; see {folder / 'log.txt'})"
                print(f"{folder.name}: {state}", flush=True)


# ---- where a step's time goes -----------------------------------------------------------------
def profile(recipe_spec: str, steps: int, warmup: int, seed: int) -> dict:
    """Per-step seconds in the loader, the augmentations (waveform chain, log-mel, masking),
    the forward pass (encoder, projector, loss) and backward + optimiser, through the real
    trainer on the pool, one thread."""
    import tempfile

    import torch

    from audiorep.config import load_config
    from audiorep.train.trainer import Trainer

    torch.set_num_threads(1)
    run = parse_run(recipe_spec)
    phases = {"loader": [], "augment": [], "forward": [], "backward_step": []}
    marks = {}

    class Timed(Trainer):
        def _optimise(self, batch, elapsed):
            start = time.perf_counter()
            if "end" in marks:
                phases["loader"].append(start - marks["end"])
            views, method = self.method.views, self.method
            aug = [0.0]

            def timed(fn):
                def wrapper(*a, **k):
                    t = time.perf_counter()
                    out = fn(*a, **k)
                    aug[0] += time.perf_counter() - t
                    return out
                return wrapper

            waves, features, forward = views.waves, views.features, method.forward
            fwd = [0.0]

            def timed_forward(*a, **k):
                t = time.perf_counter()
                out = forward(*a, **k)
                fwd[0] += time.perf_counter() - t
                return out

            views.waves, views.features, method.forward = timed(waves), timed(features), timed_forward
            try:
                out = super()._optimise(batch, elapsed)
            finally:
                del views.waves, views.features, method.forward
            end = time.perf_counter()
            phases["augment"].append(aug[0])
            phases["forward"].append(fwd[0] - aug[0])
            phases["backward_step"].append(end - start - fwd[0])
            marks["end"] = end
            return out

    with tempfile.TemporaryDirectory() as out:
        cfg = load_config(run["recipe"], ["data.source=manifest", f"data.path={POOL}", "data.num_workers=0",
                                          "train.minutes=null", f"train.steps={warmup + steps}", f"train.out_dir={out}",
                                          "train.checkpoint_every=100000000", f"seed={seed}", *run["overrides"]])
        Timed(cfg, progress=False).fit()
    from audiorep.builders import random_init_embedder

    embedder = random_init_embedder(cfg=cfg)
    per_step = {k: round(sum(v[warmup:]) / len(v[warmup:]), 4) for k, v in phases.items()}
    total = sum(per_step.values())
    return {**run, "batch_size": cfg.train.batch_size, "steps_timed": steps, "seconds_per_step": per_step,
            "total_s_per_step": round(total, 4), "share": {k: round(v / total, 3) for k, v in per_step.items()},
            "steps_per_minute": round(60 / total, 1), "clips_per_second": round(cfg.train.batch_size / total, 1),
            **describe(embedder)}


# ---- tables and plots -------------------------------------------------------------------------
def mean_of(scores: dict, tasks=INDUCTIVE, key: str = "trained") -> float:
    return round(sum(scores[t][key] for t in tasks) / len(tasks), 4)


def table(runs: list[dict], floor: dict) -> tuple[str, dict]:
    """The markdown table, and each row's mean over the tasks not in the pool."""
    tasks = [*INDUCTIVE, *TRANSDUCTIVE]
    head = ("| representation | " + " | ".join(tasks) + " | mean (not transductive) | steps | clips/s | parameters "
            "| dim | embed (audio-s/s) |")
    lines = [head, "|---" * (len(tasks) + 7) + "|"]

    def cell(v, s):
        return f"{v:.3f} ± {s:.3f}"

    rows = []
    for r in runs:
        sc = r["scores"]
        rows.append((r["name"], [cell(sc[t]["trained"], sc[t]["trained_std"]) for t in tasks],
                     mean_of(sc), r["steps"], r["clips_per_second"], r["parameters"], r["embedding_dim"],
                     r["embed_audio_s_per_s"]))
    seen = set()
    for r in runs:  # each architecture's random initialisation once
        arch = json.dumps(r["encoder"], sort_keys=True)
        if arch in seen:
            continue
        seen.add(arch)
        sc = r["scores"]
        rows.append((f"{r['name']} at random init", [cell(sc[t]["random_init"], sc[t]["random_init_std"]) for t in tasks],
                     mean_of(sc, key="random_init"), "-", "-", r["parameters"], r["embedding_dim"],
                     r["embed_audio_s_per_s"]))
    for name, f in floor.items():
        sc = {t: {"trained": v["score"]} for t, v in f["scores"].items()}
        rows.append((name, [cell(f["scores"][t]["score"], f["scores"][t]["std"]) for t in tasks], mean_of(sc), "-", "-",
                     f["parameters"], f["embedding_dim"], f["embed_audio_s_per_s"]))
    for name, cells, mean, steps, cps, params, dim, speed in rows:
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {mean:.3f} | {steps} | {cps} | {params:,} | {dim} | "
                     f"{speed:,.0f} |")
    return "\n".join(lines) + "\n", {row[0]: row[2] for row in rows}


def plot(runs: list[dict], floor: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    tasks = [*INDUCTIVE, *TRANSDUCTIVE]
    bars = [(r["name"], [r["scores"][t]["trained"] for t in tasks]) for r in runs]
    bars.append((f"{runs[0]['name']} random init", [runs[0]["scores"][t]["random_init"] for t in tasks]))
    bars += [(name, [f["scores"][t]["score"] for t in tasks]) for name, f in floor.items()]
    fig, ax = plt.subplots(figsize=(max(8, 1.6 * len(tasks) + 0.3 * len(bars) * len(tasks) / 2), 4.2))
    width = 0.8 / len(bars)
    x = np.arange(len(tasks))
    for i, (name, values) in enumerate(bars):
        ax.bar(x + (i - (len(bars) - 1) / 2) * width, values, width, label=name)
    ax.set_xticks(x, [t + (" (transductive)" if t in TRANSDUCTIVE else "") for t in tasks], fontsize=8)
    ax.set_ylabel("linear-probe accuracy")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_study(variable: str, runs: list[dict], floor: dict, path: Path, minutes: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["name"] for r in runs]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for task in INDUCTIVE:
        left.plot(names, [r["scores"][task]["trained"] for r in runs], "o-", label=task)
    left.plot(names, [mean_of(r["scores"]) for r in runs], "ks-", lw=2, label="mean")
    for name, f in floor.items():
        left.axhline(sum(f["scores"][t]["score"] for t in INDUCTIVE) / len(INDUCTIVE), ls="--", lw=1,
                     color="grey" if name == "logmel" else "tab:red", label=f"{name} (mean)")
    left.set_ylabel("linear-probe accuracy (tasks not in the pool)")
    left.set_title(f"{variable}: {minutes:g} CPU-minutes on the pool", fontsize=10)
    left.legend(fontsize=7)
    left.tick_params(axis="x", labelsize=8, rotation=20)
    right.bar(names, [r["steps"] for r in runs], color="tab:blue")
    right.set_ylabel("steps in the budget")
    right.tick_params(axis="x", labelsize=8, rotation=20)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def mean_std(values) -> dict:
    """Mean and sample standard deviation over seeds (0 for one seed)."""
    return {"mean": round(float(values.mean()), 4),
            "std": round(float(values.std(ddof=1)), 4) if len(values) > 1 else 0.0}


def over_seeds(records: list[dict], name: str) -> dict:
    """One run of several same-budget records (one per seed) beside its floors, task by task."""
    import numpy as np

    by_seed = {}
    for rec in records:
        run = next((r for r in rec["runs"]["runs"] if r["name"] == name), None)
        if run is None:
            raise SystemExit(f"no run named {name!r} in the record of seed {rec['seed']}")
        floor = rec["floors"]
        by_seed[rec["seed"]] = {t: {"trained": run["scores"][t]["trained"], "random_init": run["scores"][t]["random_init"],
                                    **{f: floor[f]["scores"][t]["score"] for f in floor}}
                                for t in (*INDUCTIVE, *TRANSDUCTIVE)}
    seeds = sorted(by_seed)
    if len(seeds) != len(records):
        raise SystemExit(f"two records have the same seed: {[rec['seed'] for rec in records]}")
    models = list(by_seed[seeds[0]][INDUCTIVE[0]])
    summary = {}
    for t in (*INDUCTIVE, *TRANSDUCTIVE):
        values = {m: np.array([by_seed[s][t][m] for s in seeds]) for m in models}
        summary[t] = {m: {**mean_std(v), "per_seed": [float(x) for x in v]} for m, v in values.items()}
        summary[t]["seeds_trained_beats"] = {m: int((values["trained"] > values[m]).sum()) for m in models
                                             if m != "trained"}
        gain = values["trained"] - values["random_init"]  # paired: the same seed's network before and after
        summary[t]["gain_over_random_init"] = mean_std(gain)
    head = ("| task | " + " | ".join(models) + " | trained - random_init, paired | seeds where trained beats "
            + ", ".join(models[1:]) + " |")
    lines = [head, "|---" * (len(models) + 3) + "|"]
    for t, row in summary.items():
        beats = " / ".join(str(row["seeds_trained_beats"][m]) for m in models[1:])
        lines.append(f"| {t}{' (transductive)' if t in TRANSDUCTIVE else ''} | "
                     + " | ".join(f"{row[m]['mean']:.3f} ± {row[m]['std']:.3f}" for m in models)
                     + f" | {row['gain_over_random_init']['mean']:+.3f} ± {row['gain_over_random_init']['std']:.3f}"
                     + f" | {beats} of {len(seeds)} |")
    return {"run": name, "seeds": seeds, "models": models, "tasks": summary, "table": "\n".join(lines) + "\n"}


def plot_seeds(summary: dict, path: Path, minutes: float) -> None:
    """Each seed's trained and random-init scores joined by a line, floors as dashes, per task."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(summary["tasks"])
    fig, axes = plt.subplots(1, len(tasks), figsize=(2.6 * len(tasks), 3.6))
    for ax, t in zip(axes, tasks):
        row = summary["tasks"][t]
        for a, b in zip(row["random_init"]["per_seed"], row["trained"]["per_seed"]):
            ax.plot([0, 1], [a, b], "o-", color="tab:green" if b > a else "tab:red", alpha=0.8)
        for m, colour in (("logmel", "grey"), ("wide_random_cnn", "tab:purple")):
            if m in row:
                ax.axhline(row[m]["mean"], ls="--", lw=1, color=colour, label=m)
        ax.set_xticks([0, 1], ["random init", "trained"], fontsize=8)
        ax.set_title(t + ("\n(transductive)" if t in TRANSDUCTIVE else ""), fontsize=9)
    axes[0].set_ylabel("linear-probe accuracy")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{summary['run']}, {minutes:g} CPU-minutes on the pool, one line per seed "
                 "(green: training helped)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", nargs="*", default=[],
                   help="NAME=RECIPE[:key=value,...] or RECIPE; a value may be a JSON list or mapping")
    p.add_argument("--study", nargs="*", choices=list(STUDY), default=[], help="variables to vary one at a time")
    p.add_argument("--profile", nargs="*", default=[], help="runs to time phase by phase instead")
    p.add_argument("--minutes", type=float, default=20.0, help="pretraining wall-clock budget per run (one thread)")
    p.add_argument("--parallel", type=int, default=2, help="one-thread runs side by side")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=30, help="--profile: steps timed (after 5 warm-up steps)")
    p.add_argument("--out", default="runs/real_audio", help="work folder (kept; results are reused from it)")
    p.add_argument("--json", help="where the results go (required)")
    p.add_argument("--note", default="")
    p.add_argument("--only", nargs="*", default=None,
                   help="run just these runs of the study (e.g. in two invocations) and write no record")
    p.add_argument("--seeds", nargs="*", default=[], metavar="RECORD",
                   help="records of the same --runs with different --seed: one run beside its floors over seeds")
    p.add_argument("--run", default="simclr_cpu", help="--seeds: the run to summarise")
    p.add_argument("--child-folder", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child_folder:
        return child(args)
    if not args.json:
        p.error("--json PATH is required")
    record = {"command": "OMP_NUM_THREADS=1 python " + " ".join(shlex.quote(a) for a in sys.argv),
              "date": datetime.date.today().isoformat(), "machine": f"{os.cpu_count()}-core CPU, {platform.machine()}",
              "note": args.note}
    if args.seeds:
        records = [json.loads(Path(f).read_text()) for f in args.seeds]
        minutes = {rec["minutes"] for rec in records}
        if len(minutes) != 1:
            p.error(f"--seeds: the records have different budgets ({sorted(minutes)} minutes)")
        record["command"] = "python " + " ".join(shlex.quote(a) for a in sys.argv)
        record.update(minutes=minutes.pop(), records=args.seeds, **over_seeds(records, args.run))
        picture = Path(args.json).with_suffix(".png")
        plot_seeds(record, picture, record["minutes"])
        record["plot"] = str(picture)
        print(record["table"])
        Path(args.json).write_text(json.dumps(record, indent=1))
        return 0
    if args.profile:
        record["profile"] = [profile(spec, args.steps, 5, args.seed) for spec in args.profile]
        lines = ["| run | loader | augment | forward | backward + step | s/step | steps/min | embed (audio-s/s) |",
                 "|---|---|---|---|---|---|---|---|"]
        for r in record["profile"]:
            s, sh = r["seconds_per_step"], r["share"]
            lines.append(f"| {r['name']} | " + " | ".join(f"{s[k]:.3f} ({100 * sh[k]:.0f}%)" for k in s)
                         + f" | {r['total_s_per_step']:.3f} | {r['steps_per_minute']} | {r['embed_audio_s_per_s']:,.0f} |")
        record["table"] = "\n".join(lines) + "\n"
        print(record["table"])
        Path(args.json).write_text(json.dumps(record, indent=1))
        return 0
    work = Path(args.out)
    groups = {"runs": [parse_run(s) for s in args.runs]}
    for variable in args.study:
        groups[variable] = [{"name": n, "recipe": "simclr_demo", "overrides": o} for n, o in STUDY[variable]]
    for variants in groups.values():  # the study's base is one run, whichever variable names it
        for r in variants:
            if r["name"] in BASE_NAMES and not r["overrides"]:
                r["name"] = "simclr_demo"
    floor_folder = work / f"floors-seed{args.seed}"
    jobs = {floor_folder: {"run": None, "seed": args.seed}}
    for variants in groups.values():
        for r in variants:
            jobs[work / run_key(r, args.minutes, args.seed)] = {"run": r, "minutes": args.minutes, "seed": args.seed}
    if args.only is not None:
        jobs = {f: spec for f, spec in jobs.items() if spec["run"] and spec["run"]["name"] in args.only}
    run_all(list(jobs.items()), args.parallel)
    if args.only is not None:
        return 0
    failed = [folder.name for folder in jobs if not (folder / "result.json").exists()]
    if failed:
        print(f"not finished: {', '.join(failed)}; rerun the same command to retry them", file=sys.stderr)
        return 1
    floor = json.loads((floor_folder / "result.json").read_text())
    record.update(minutes=args.minutes, seed=args.seed, floors=floor, pool=str(POOL.relative_to(SHARED.parent.parent)))
    json_path = Path(args.json)
    for group, variants in groups.items():
        if not variants:
            continue
        runs = [json.loads((work / run_key(r, args.minutes, args.seed) / "result.json").read_text()) for r in variants]
        text, means = table(runs, floor)
        print(f"\n## {group} ({args.minutes:g} CPU-minutes each)\n\n{text}")
        picture = json_path.with_name(f"{json_path.stem}_{group}.png")
        if group == "runs":
            plot(runs, floor, picture, f"{args.minutes:g} CPU-minutes on the pool: linear probes of frozen embeddings")
        else:
            plot_study(group, runs, floor, picture, args.minutes)
        record[group] = {"runs": runs, "table": text, "plot": str(picture),
                         "mean_not_transductive": means}
    json_path.write_text(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
