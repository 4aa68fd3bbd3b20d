"""`audiorep synth`: write the built-in synthetic sound world to disk (FLAC + manifest.csv;
with `--video`, also MP4 files with a sprite per sounding source, named by the manifest)."""

from __future__ import annotations

import argparse

from audiorep.commands._arguments import nonnegative_int, positive_float, positive_int

NAME = "synth"
HELP = "generate labelled synthetic sound scenes (FLAC, optionally MP4 video, + manifest.csv)"
DESCRIPTION = (
    "Generate procedural sound scenes with ground truth (scene type, event classes, pitch, "
    "onsets; optionally the isolated sources) and write them as FLAC files plus a "
    "manifest.csv that `ManifestSource` reads. Writing a split again replaces that split. "
    "With --video each clip is also an MP4 (H.264 + AAC) in which every sounding source is "
    "a sprite of its class, sized by its loudness; the manifest's `path` then names the MP4 "
    "and `audio_path` the FLAC."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--n", type=positive_int, required=True, help="number of clips")
    parser.add_argument("--seed", type=int, default=0, help="random seed; same seed, same clips")
    parser.add_argument("--seconds", type=positive_float, default=4.0, help="clip length in seconds")
    parser.add_argument("--sample-rate", type=positive_int, default=16000, help="sample rate in Hz")
    parser.add_argument("--max-events", type=nonnegative_int, default=4, help="most events per clip")
    parser.add_argument("--split", default="train", help="split name written to the manifest and file names")
    parser.add_argument("--sources", action="store_true", help="also write each isolated event and the background")
    parser.add_argument("--no-background", action="store_true", help="leave out the scene background")
    parser.add_argument("--video", action="store_true",
                        help="also write each clip as an MP4 (H.264 + AAC); the manifest's path names it")
    parser.add_argument("--video-size", type=positive_int, default=32, help="frame width and height in pixels (even, >= 8)")
    parser.add_argument("--video-fps", type=positive_float, default=8.0, help="video frames per second")
    parser.add_argument("--video-distractors", type=nonnegative_int, default=1,
                        help="grey blobs that move with no sound, per clip")


def run(args: argparse.Namespace) -> int:
    from audiorep.data.synthetic import write_world

    summary = write_world(
        args.out,
        args.n,
        args.seed,
        sample_rate=args.sample_rate,
        clip_seconds=args.seconds,
        split=args.split,
        sources=args.sources,
        max_events=args.max_events,
        background=not args.no_background,
        progress=True,
        video=args.video,
        video_size=args.video_size,
        video_fps=args.video_fps,
        video_distractors=args.video_distractors,
    )
    scenes = ", ".join(f"{k} {v}" for k, v in sorted(summary["scenes"].items()))
    events = ", ".join(f"{k} {v}" for k, v in sorted(summary["events"].items(), key=lambda kv: -kv[1]))
    media = f"MP4 {args.video_size}px {args.video_fps:g} fps + FLAC" if args.video else "FLAC"
    print(f"wrote {summary['n']} clips as {media} ({summary['hours'] * 60:.1f} min) of split '{summary['split']}' -> {summary['manifest']}")
    print(f"scenes: {scenes}")
    print(f"events: {events}")
    return 0
