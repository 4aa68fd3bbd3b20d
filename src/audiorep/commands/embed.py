"""`audiorep embed`: audio files, folders and manifest CSVs in (any mix), scene embeddings out:
`embeddings.npy` [N, D] + `index.csv` (row, path and the manifest's columns), or one
Parquet file (needs pyarrow).

Unusable files (unreadable, empty, or breaking the sample policy of `audiorep.io.audio`: any
NaN/inf sample, a peak over `MAX_ABS_AMPLITUDE`) are skipped and listed in `errors.csv` (path,
cause; written on every run, header only when nothing failed), as is a file whose embedding
comes out non-finite: no NaN row is ever written. The command succeeds (exit 0) while at
least one file was embedded; when none was, it writes `errors.csv`, says so in one line on
stderr and exits 1 (a bad argument or an empty input stays exit 2). --clip-seconds and
--chunk-seconds must be finite and >= `MIN_SECONDS`, --batch-size >= 1: argparse refuses
anything else with the argument's name before any work starts. So are, before any file is
embedded, a missing input, a --model that is neither a checkpoint file nor a baseline, and
--format parquet without pyarrow installed."""

from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

import numpy as np

from audiorep.commands._arguments import positive_int
from audiorep.errors import ConfigError

NAME = "embed"
HELP = "embed audio files, folders or manifests with a checkpoint or baseline"
DESCRIPTION = """Embed audio with a trained checkpoint or a baseline (logmel, random): one scene embedding per
file, written as OUT/embeddings.npy [N, D] with OUT/index.csv (row, path and the manifest's columns), or
as one OUT/embeddings.parquet (--format parquet, needs pyarrow). Inputs are audio files, folders
(searched recursively) and manifest CSVs (a 'path' column), in any mix. Unusable files are skipped and
listed in OUT/errors.csv. Example:
  audiorep embed recordings/ extra.wav more.csv --model runs/simclr/checkpoint.pt --out emb"""


MIN_SECONDS = 0.1
"""The shortest --clip-seconds / --chunk-seconds: less is no scene (and the HEAR API's floor too)."""


def _seconds(text: str) -> float:
    """argparse type: a finite number of seconds >= MIN_SECONDS."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value < MIN_SECONDS:
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds >= {MIN_SECONDS:g}, got {text!r}")
    return value


def add_arguments(parser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="audio files, folders (recursive) and manifest CSVs with a 'path' column, in any mix")
    parser.add_argument("--model", required=True,
                        help="checkpoint path, or a baseline: logmel, random; A.pt+B.pt embeds with both, side by side")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--format", choices=["npy", "parquet"], default="npy",
                        help="embeddings.npy + index.csv, or one embeddings.parquet (needs pyarrow)")
    parser.add_argument("--clip-seconds", type=_seconds, default=None,
                        help=f"embed the first N seconds of each file (zero-padded; >= {MIN_SECONDS:g}); "
                             "default: whole files")
    parser.add_argument("--chunk-seconds", type=_seconds, default=10.0,
                        help=f"longer audio is embedded in chunks of this many seconds (>= {MIN_SECONDS:g})")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="files per forward pass (>= 1)")
    parser.add_argument("--device", default="cpu", help="where to embed: cpu, cuda, cuda:1, mps, auto")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def read_inputs(items: list[str]) -> tuple[list[str], list[dict]]:
    """(paths, per-file metadata rows) of files, folders and manifests (`audio_inputs`): a
    folder's file has its `relpath`, a manifest's row its columns (lists joined by ';')."""
    from audiorep.data.input_files import FOLDER, MANIFEST, audio_inputs

    paths, meta = [], []
    for rec in audio_inputs(items):
        paths.append(rec.path)
        if rec.kind == FOLDER:
            meta.append({"relpath": rec.meta["relpath"]})
        elif rec.kind == MANIFEST:
            meta.append({k: (";".join(v) if isinstance(v, list) else v) for k, v in rec.meta.items()})
        else:
            meta.append({})
    return paths, meta


def check_model(model: str) -> None:
    """A --model whose every part (A.pt+B.pt joins models) is neither a baseline nor a file is
    refused by name (with the baseline it is probably a typo of) before any input is read."""
    from audiorep.builders import BASELINES
    from audiorep.errors import did_you_mean

    parts = [model] if "+" not in model or Path(model).exists() else model.split("+")
    for part in parts:
        if part in BASELINES or Path(part).is_file():
            continue
        what = "a folder" if Path(part).is_dir() else "not a file"
        raise ConfigError(f"--model {part!r} is {what}: give a checkpoint file or a baseline "
                          f"({', '.join(BASELINES)}), or several joined by '+'{did_you_mean(part, BASELINES)}")


def require_parquet() -> None:
    """--format parquet needs pyarrow: say so before any file is embedded, not after."""
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError as err:
        raise ConfigError("--format parquet needs the pyarrow package, which is not installed: "
                          "pip install pyarrow (or use --format npy)") from err


def write_parquet(path: Path, paths: list[str], meta: list[dict], emb: np.ndarray) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as err:
        raise ConfigError("--format parquet needs the pyarrow package, which is not installed: "
                          "pip install pyarrow (or use --format npy)") from err
    columns = {"path": paths}
    for key in sorted({k for m in meta for k in m}):
        columns[key] = [m.get(key, "") for m in meta]
    columns["embedding"] = pa.array(list(emb), type=pa.list_(pa.float32(), emb.shape[1]))
    pq.write_table(pa.table(columns), path)


def run(args) -> int:
    from audiorep.api import load
    from audiorep.eval.embedding_cache import embed_files

    if args.format == "parquet":
        require_parquet()
    check_model(args.model)
    paths, meta = read_inputs(args.inputs)
    model = load(args.model, device=args.device)
    errors: list = []
    emb = embed_files(model, paths, args.clip_seconds, args.batch_size, args.device, args.chunk_seconds,
                      progress=not args.quiet, desc="embed", errors=errors)
    causes = {i: msg.removeprefix(f"{paths[i]}: ") for i, msg in errors}  # AudioFileError: "path: cause"
    for i in np.flatnonzero(~np.isfinite(emb).all(axis=1)):  # a skipped file's row is NaN; a model may add more
        causes.setdefault(int(i), "the model's embedding is not finite (NaN/inf)")
    keep = [i for i in range(len(paths)) if i not in causes]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "errors.csv", "w", newline="") as fh:  # always: a rerun never leaves a stale list
        writer = csv.writer(fh)
        writer.writerow(["path", "error"])
        writer.writerows([paths[i], causes[i]] for i in sorted(causes))
    if not keep:
        print(f"audiorep embed: error: none of the {len(paths)} file(s) could be embedded; "
              f"the cause of each is in {out / 'errors.csv'}", file=sys.stderr)
        return 1
    emb = emb[keep]
    if args.format == "npy":
        np.save(out / "embeddings.npy", emb)
        keys = sorted({k for m in meta for k in m})
        with open(out / "index.csv", "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["row", "path", *keys])
            for row, i in enumerate(keep):
                writer.writerow([row, paths[i], *(meta[i].get(k, "") for k in keys)])
        written = f"{out / 'embeddings.npy'} [{len(keep)}, {emb.shape[1]}] and {out / 'index.csv'}"
    else:
        write_parquet(out / "embeddings.parquet", [paths[i] for i in keep], [meta[i] for i in keep], emb)
        written = f"{out / 'embeddings.parquet'} ({len(keep)} rows, {emb.shape[1]} dims)"
    if causes:
        print(f"skipped {len(causes)} unusable file(s), listed in {out / 'errors.csv'}")
    print(f"wrote {written}")
    return 0
