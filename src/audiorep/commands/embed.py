"""`audiorep embed`: a folder or a manifest CSV in, scene embeddings out:
`embeddings.npy` [N, D] + `index.csv` (row, path and the manifest's columns), or one
Parquet file (needs pyarrow). Unusable files are skipped and listed in `errors.csv`."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from audiorep.errors import ConfigError

NAME = "embed"
HELP = "embed a folder or manifest of audio files with a checkpoint or baseline"


def add_arguments(parser) -> None:
    parser.add_argument("input", help="a folder of audio files (recursive) or a manifest CSV with a 'path' column")
    parser.add_argument("--model", required=True, help="checkpoint path, or a baseline: logmel, random")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--format", choices=["npy", "parquet"], default="npy")
    parser.add_argument("--clip-seconds", type=float, default=None,
                        help="embed the first N seconds of each file (zero-padded); default: whole files")
    parser.add_argument("--chunk-seconds", type=float, default=10.0, help="longer audio is embedded in chunks")
    parser.add_argument("--batch-size", type=int, default=32)
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
    bad = {i for i, _ in errors}
    keep = [i for i in range(len(paths)) if i not in bad]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.format == "npy":
        np.save(out / "embeddings.npy", emb[keep])
        keys = sorted({k for m in meta for k in m})
        with open(out / "index.csv", "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["row", "path", *keys])
            for row, i in enumerate(keep):
                writer.writerow([row, paths[i], *(meta[i].get(k, "") for k in keys)])
        written = f"{out / 'embeddings.npy'} [{len(keep)}, {emb.shape[1]}] and {out / 'index.csv'}"
    else:
        write_parquet(out / "embeddings.parquet", [paths[i] for i in keep], [meta[i] for i in keep], emb[keep])
        written = f"{out / 'embeddings.parquet'} ({len(keep)} rows, {emb.shape[1]} dims)"
    if errors:
        with open(out / "errors.csv", "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["path", "error"])
            writer.writerows([paths[i], msg] for i, msg in errors)
        print(f"skipped {len(errors)} unusable file(s), listed in {out / 'errors.csv'}")
    print(f"wrote {written}")
    return 0
