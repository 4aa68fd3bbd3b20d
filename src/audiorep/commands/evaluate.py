"""`audiorep evaluate`: checkpoints and/or baselines on downstream tasks -> results table
(markdown, CSV, JSON) and plots (confusion matrix, 2-D embedding map) as PNG."""

from __future__ import annotations

from pathlib import Path

from audiorep.commands._arguments import positive_float, positive_int
from audiorep.errors import ConfigError

NAME = "evaluate"
HELP = "score frozen embeddings on downstream tasks with shallow probes"
# every name of audiorep.eval.tasks.task_names() (a test keeps this list complete; importing the
# registry here would load scikit-learn for every `audiorep --help`)
DESCRIPTION = (
    "Embed every task's clips with each model (cached; tasks over the same clips share one embedding pass), "
    "train the probe(s) on every fold and report mean ± std over folds. Each task's protocol (clips, classes, "
    "label column, single- or multi-label, folds) is printed before the work starts. Tasks: NAME=PATH with "
    "NAME one of audioset, esc10, esc50, fsdd (= fsdd_digit + fsdd_speaker), fsdd_digit, fsdd_speaker, "
    "manifest, nsynth (= nsynth_instrument + nsynth_pitch), nsynth_instrument, nsynth_pitch, speech_commands, "
    "voxceleb1; or a path to a manifest CSV (a manifest with both 'label' and 'labels', as `audiorep synth` "
    "writes, gives two tasks; --label-column chooses; without a usable split column it is scored by 5-fold "
    "cross-validation); or synthetic[=SEED] (the built-in world's held-out scene and event tasks, in memory). "
    "Unusable clips (unreadable files, non-finite embeddings) are skipped and listed with their cause in "
    "OUT/skipped.csv; a task left without a usable fold is reported and not scored; the exit status is "
    "non-zero only when no task could be evaluated."
)


def add_arguments(parser) -> None:
    parser.add_argument("--model", action="append", default=[], metavar="[NAME=]CHECKPOINT",
                        help="a checkpoint to evaluate (repeatable); NAME defaults to the file's stem; "
                             "A.pt+B.pt probes two models as one (embeddings side by side)")
    parser.add_argument("--baseline", action="append", default=[], choices=["logmel", "random"],
                        help="a built-in baseline to evaluate (repeatable); 'random' is the first --model's "
                             "architecture at random initialisation (the default CNN without --model)")
    parser.add_argument("--task", action="append", default=[], required=True, metavar="NAME=PATH",
                        help="a task (repeatable), e.g. fsdd=../shared/data/fsdd or my_manifest.csv")
    parser.add_argument("--label-column", action="append", default=[], metavar="COLUMN",
                        help="for manifest tasks: the column whose labels to evaluate (repeatable: one task each); "
                             "default: 'label' and 'labels', each that the manifest has")
    parser.add_argument("--probe", nargs="+", default=["linear"], choices=["linear", "mlp"], help="probes to run")
    parser.add_argument("--out", default="eval_results", help="folder for results.{md,csv,json} and PNGs")
    parser.add_argument("--cache-dir", default=None, help="embedding cache (default: OUT/embedding_cache)")
    parser.add_argument("--no-cache", action="store_true", help="always recompute embeddings")
    parser.add_argument("--clip-seconds", type=positive_float, default=None,
                        help="trim / zero-pad every clip to this length (default: each task's own)")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="clips per forward pass when embedding")
    parser.add_argument("--device", default="cpu", help="where the models embed: cpu, cuda, cuda:N")
    parser.add_argument("--no-plots", action="store_true", help="skip the score and t-SNE figures")
    parser.add_argument("--map", default="pca", choices=["pca", "tsne"], help="2-D map method")
    parser.add_argument("--seed", type=int, default=0, help="probe seed, and the random-init baseline's")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _models(args) -> dict:
    from audiorep.api import load
    from audiorep.builders import build_baseline, random_init_like
    from audiorep.models.concat_embedder import ConcatEmbedder

    models = {}
    for spec in args.model:
        name, sep, path = spec.partition("=")
        if not sep:
            name, path = Path(spec).stem, spec
        if name in models:
            raise ConfigError(f"--model: two models are named {name!r}; give them names with NAME=CHECKPOINT")
        models[name] = load(path, device=args.device)
    first_checkpoint = next((spec.partition("=")[2] or spec for spec in args.model), None)
    for name in args.baseline:
        if name == "random" and first_checkpoint:
            # the floor a checkpoint must beat is its own architecture at random initialisation
            parts = [first_checkpoint] if Path(first_checkpoint).exists() else first_checkpoint.split("+")
            inits = [random_init_like(p, seed=args.seed) for p in parts]
            models.setdefault(name, (inits[0] if len(inits) == 1 else ConcatEmbedder(inits)).to(args.device))
        else:  # --seed also seeds the default CNN's random initialisation
            models.setdefault(name, build_baseline(name, seed=args.seed).to(args.device))
    if not models:
        raise ConfigError("give at least one --model CHECKPOINT or --baseline {logmel,random}")
    return models


def run(args) -> int:
    from audiorep.eval.evaluate import evaluate
    from audiorep.eval.report import left_out_markdown, markdown_table
    from audiorep.eval.tasks import load_tasks

    label_columns = args.label_column or None
    tasks = [t for spec in args.task for t in load_tasks(spec, progress=not args.quiet, label_columns=label_columns)]
    if label_columns and not any(t.meta.get("label_column") for t in tasks):
        raise ConfigError("--label-column applies to manifest tasks (a .csv, or manifest=PATH); no --task is one")
    if args.clip_seconds is not None:
        for t in tasks:
            t.clip_seconds = args.clip_seconds
    models = _models(args)
    out = Path(args.out)
    cache_dir = None if args.no_cache else Path(args.cache_dir) if args.cache_dir else out / "embedding_cache"
    rows = evaluate(models, tasks, probes=tuple(args.probe), out_dir=out, cache_dir=cache_dir,
                    batch_size=args.batch_size, device=args.device, plots=not args.no_plots, map_method=args.map,
                    seed=args.seed, progress=not args.quiet)
    print()
    print(markdown_table(rows), end="")
    print(left_out_markdown(rows.skipped_clips, rows.not_evaluated, str(out / "skipped.csv")), end="")
    print(f"\nwrote {out / 'results.md'}, results.csv, results.json" + (", skipped.csv" if rows.skipped_clips else "")
          + ("" if args.no_plots else " and PNG plots"))
    return 0
