"""`audiorep embed`: a folder or a manifest CSV in, scene embeddings out:
`embeddings.npy` [N, D] + `index.csv` (row, path and the manifest's columns), or one
Parquet file (needs pyarrow).

Unusable files (unreadable, empty, or breaking the sample policy of `audiorep.io.audio`: any
NaN/inf sample, a peak over `MAX_ABS_AMPLITUDE`) are skipped and listed in `errors.csv` (path,
cause; written on every run, header only when nothing failed), as is a file whose embedding
comes out non-finite: no NaN row is ever written. The command succeeds (exit 0) while at
least one file was embedded; when none was, it writes `errors.csv`, says so in one line on
stderr and exits 1 (a bad argument or an empty input stays exit 2). --clip-seconds and
--chunk-seconds must be finite and >= `MIN_SECONDS`, --batch-size >= 1: argparse refuses
anything else with the argument's name before any work starts."""

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
HELP = "embed a folder or manifest of audio files with a checkpoint or baseline"


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
    parser.add_argument("input", help="a folder of audio files (recursive) or a manifest CSV with a 'path' column")
    parser.add_argument("--model", required=True, help="checkpoint path, or a baseline: logmel, random")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--format", choices=["npy", "parquet"], default="npy")
    parser.add_argument("--clip-seconds", type=_seconds, default=None,
                        help=f"embed the first N seconds of each file (zero-padded; >= {MIN_SECONDS:g}); "
                             "default: whole files")
    parser.add_argument("--chunk-seconds", type=_seconds, default=10.0,
                        help=f"longer audio is embedded in chunks of this many seconds (>= {MIN_SECONDS:g})")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="files per forward pass (>= 1)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def read_input(path: Path) -> tuple[list[str], list[dict]]:
    """(absolute paths, per-file metadata rows) from a folder or a manifest CSV."""
    from audiorep.data.sources import FolderSource, ManifestSource

    if path.is_dir():
        source = FolderSource(path)
        return [r.path for r in source.records], [{"relpath": r.meta["relpath"]} for r in source.records]
    if path.is_file() and path.suffix.lower() == ".csv":
        source = ManifestSource(path)
        rows = [{k: (";".join(v) if isinstance(v, list) else v) for k, v in r.meta.items()} for r in source.records]
        return [r.path for r in source.records], rows
    raise ConfigError(f"embed input {str(path)!r} is neither a folder nor a .csv manifest")


def write_parquet(path: Path, paths: list[str], meta: list[dict], emb: np.ndarray) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as err:
        raise ConfigError("--format parquet needs pyarrow (pip install pyarrow); or use --format npy") from err
    columns = {"path": paths}
    for key in sorted({k for m in meta for k in m}):
        columns[key] = [m.get(key, "") for m in meta]
    columns["embedding"] = pa.array(list(emb), type=pa.list_(pa.float32(), emb.shape[1]))
    pq.write_table(pa.table(columns), path)


def run(args) -> int:
    from audiorep.api import load
    from audiorep.eval.embedding_cache import embed_files

    paths, meta = read_input(Path(args.input))
    if not paths:
        raise ConfigError(f"no audio files found in {args.input}")
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
