"""`audiorep shard`: audio (or video) files, folders and manifests in (any mix), WebDataset tar
shards plus `index.json` out, each clip decoded once at the model rate. Unusable files are skipped and
listed; a killed run resumes where it stopped when run again."""

from __future__ import annotations

import json
from pathlib import Path

from audiorep.commands._arguments import nonnegative_int, positive_float, positive_int
from audiorep.errors import ConfigError

NAME = "shard"
HELP = "pack audio (or video) files, folders or manifests into WebDataset tar shards"
DESCRIPTION = (
    "Decode every file whole at --sample-rate and write it as one sample (16-bit FLAC + JSON "
    "metadata, + frames with --video) of PREFIX-NNNNNN.tar shards in --out, with an index.json "
    "that `data.source=shards` reads (data.path=OUT). Inputs are files, folders (searched recursively) and "
    "manifest CSVs (a 'path' column), in any mix. Files that cannot be decoded are skipped and listed. "
    "Running the same command again resumes after the last finished shard; other input or "
    "settings into the same folder need --restart. E.g. `audiorep shard data/clips --out "
    "shards/clips --workers 4`, or `audiorep shard world/manifest.csv --video --out shards/world`."
)


def add_arguments(parser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="audio (or --video video) files, folders (recursive) and manifest CSVs with a 'path' "
                             "column, in any mix")
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


def read_source(items: list[str], args):
    """(the clip source the inputs name, the folder sample paths are stored relative to; None:
    the source's own). One folder or one manifest is read by its own source, as it always was
    (so a resume sees the same input); any other mix by a source over the listed files."""
    from audiorep.data.input_files import ListedSource, audio_inputs, common_folder, listed_video_source, single_root
    from audiorep.data.sources import DEFAULT_EXTENSIONS, FolderSource, ManifestSource
    from audiorep.data.video_source import VIDEO_EXTENSIONS, VideoSource

    what = "video" if args.video else "audio"
    inputs = audio_inputs(items, VIDEO_EXTENSIONS if args.video else DEFAULT_EXTENSIONS, what=what)
    root = single_root(inputs, items)
    if root is not None and args.video:
        return VideoSource(root, sample_rate=args.sample_rate, video_size=args.video_size, video_fps=args.video_fps,
                           max_seconds=args.max_seconds), None
    if root is not None:
        kind = FolderSource if Path(root).is_dir() else ManifestSource
        return kind(root, sample_rate=args.sample_rate, max_seconds=args.max_seconds), None
    if args.video:
        source = listed_video_source(inputs, sample_rate=args.sample_rate, video_size=args.video_size,
                                     video_fps=args.video_fps, max_seconds=args.max_seconds)
    else:
        source = ListedSource(inputs, sample_rate=args.sample_rate, max_seconds=args.max_seconds)
    return source, common_folder(inputs)


def _size(n: float) -> str:
    if n < 1000:
        return f"{n:.0f} B"
    for unit in ("kB", "MB", "GB"):
        n /= 1000
        if n < 1000 or unit == "GB":
            return f"{n:.1f} {unit}"


def run(args) -> int:
    from audiorep.data.shard_writer import write_shards

    if args.json and Path(args.json).is_dir():
        raise ConfigError(f"--json {args.json} is a folder; give a file name for the summary")
    source, input_root = read_source(args.inputs, args)
    summary = write_shards(
        source, args.out, sample_rate=args.sample_rate,
        video=(args.video_size, args.video_fps) if args.video else None,
        max_samples=args.max_samples, max_megabytes=args.max_megabytes, prefix=args.prefix,
        num_workers=args.workers, restart=args.restart, progress=not args.quiet, input_root=input_root,
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
