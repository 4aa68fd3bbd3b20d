"""`audiorep shard`: a folder or manifest of audio (or video) files in, WebDataset tar shards
plus `index.json` out, each clip decoded once at the model rate. Unusable files are skipped and
listed; a killed run resumes where it stopped when run again."""

from __future__ import annotations

import json
from pathlib import Path

from audiorep.commands._arguments import nonnegative_int, positive_float, positive_int
from audiorep.errors import ConfigError

NAME = "shard"
HELP = "pack a folder or manifest of audio (or video) files into WebDataset tar shards"
DESCRIPTION = (
    "Decode every file whole at --sample-rate and write it as one sample (16-bit FLAC + JSON "
    "metadata, + frames with --video) of PREFIX-NNNNNN.tar shards in --out, with an index.json "
    "that `data.source=shards` reads (data.path=OUT). Files that cannot be decoded are skipped and listed. "
    "Running the same command again resumes after the last finished shard; other input or "
    "settings into the same folder need --restart. E.g. `audiorep shard data/clips --out "
    "shards/clips --workers 4`, or `audiorep shard world/manifest.csv --video --out shards/world`."
)


def add_arguments(parser) -> None:
    parser.add_argument("input", help="a folder of files (recursive) or a manifest CSV with a 'path' column")
    parser.add_argument("--out", required=True, help="output folder for the shards and index.json")
    parser.add_argument("--sample-rate", type=positive_int, default=16000, help="the rate the audio is stored at (Hz)")
    parser.add_argument("--video", action="store_true", help="the inputs are videos: store frames too")
    parser.add_argument("--video-size", type=positive_int, default=32, help="frame width and height in pixels")
    parser.add_argument("--video-fps", type=positive_float, default=8.0, help="frames per second stored")
    parser.add_argument("--max-samples", type=positive_int, default=1000, help="most samples per shard")
    parser.add_argument("--max-megabytes", type=positive_float, default=256.0, help="a shard closes at about this size (MB)")
    parser.add_argument("--prefix", default="shard", help="shard file names: PREFIX-000000.tar, ...")
    parser.add_argument("--workers", type=nonnegative_int, default=0, help="decoding processes (0: in this process)")
    parser.add_argument("--restart", action="store_true", help="replace the shards already in --out")
    parser.add_argument("--max-seconds", type=positive_float, default=600.0, help="longer files are skipped")
    parser.add_argument("--json", default=None, metavar="PATH", help="also write the summary as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def read_source(path: Path, args):
    """The clip source INPUT names: a folder or a manifest, of audio files or (--video) videos."""
    from audiorep.data.sources import FolderSource, ManifestSource
    from audiorep.data.video_source import VideoSource

    is_csv = path.is_file() and path.suffix.lower() == ".csv"
    if not (path.is_dir() or is_csv):
        raise ConfigError(f"shard input {str(path)!r} is neither a folder nor a .csv manifest")
    if args.video:
        return VideoSource(path, sample_rate=args.sample_rate, video_size=args.video_size,
                           video_fps=args.video_fps, max_seconds=args.max_seconds)
    kind = FolderSource if path.is_dir() else ManifestSource
    return kind(path, sample_rate=args.sample_rate, max_seconds=args.max_seconds)


def _size(n: float) -> str:
    if n < 1000:
        return f"{n:.0f} B"
    for unit in ("kB", "MB", "GB"):
        n /= 1000
        if n < 1000 or unit == "GB":
            return f"{n:.1f} {unit}"


def run(args) -> int:
    from audiorep.data.shard_writer import write_shards

    source = read_source(Path(args.input), args)
    if len(source) == 0:
        raise ConfigError(f"no {'video' if args.video else 'audio'} files found in {args.input}")
    summary = write_shards(
        source, args.out, sample_rate=args.sample_rate,
        video=(args.video_size, args.video_fps) if args.video else None,
        max_samples=args.max_samples, max_megabytes=args.max_megabytes, prefix=args.prefix,
        num_workers=args.workers, restart=args.restart, progress=not args.quiet,
    )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    note = {"already complete": " (already complete: nothing to do)", "resumed": " (resumed)"}
    note = note.get(summary["status"], "")
    print(f"{summary['shards']} shards, {summary['samples']} samples, {summary['seconds'] / 3600:.3g} h, "
          f"{_size(summary['bytes'])} in {summary['out_dir']}{note}")
    rates = f"audio {_size(summary['audio_bytes_per_second'])}/s"
    if "frame_bytes_per_second" in summary:
        rates += f", frames {_size(summary['frame_bytes_per_second'])}/s"
    print(f"stored per second of clip: {rates}")
    skipped = summary["skipped_files"]
    if skipped:
        print(f"skipped {len(skipped)} unusable file(s):")
        width = min(60, max(len(s["path"]) for s in skipped[:20]))
        for s in skipped[:20]:
            print(f"  {s['path']:<{width}}  {s['cause']}")
        if len(skipped) > 20:
            print(f"  ... and {len(skipped) - 20} more (all are listed in {Path(args.out) / 'index.json'})")
    return 0
