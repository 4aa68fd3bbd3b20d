"""write_world: a synthetic world on disk, as FLAC files and a manifest.csv that
`ManifestSource` reads directly (`label` = scene, `labels` = events), so the same clips can
feed training, evaluation and separation scoring from files.

With `video=True` every clip is also an MP4 (H.264 frames from `render_video` + AAC audio,
`io/video_writer.py`) and the manifest's `path` names the MP4, as a manifest of a user's own
videos would; the FLAC is still written and named in the extra `audio_path` column (with
`video_fps` and `video_size`), for readers of lossless audio.

Clips are generated in chunks of `chunk` clips; chunk i uses a seed derived from
`(seed, i)`, so the files depend only on `(n, seed, chunk)` and the world settings.
Writing a split again replaces that split's manifest rows and keeps the other splits.
"""

from __future__ import annotations

import csv
import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import soundfile as sf

from audiorep.data.synthetic.video import render_video
from audiorep.data.synthetic.world import SceneBatch, SyntheticWorld
from audiorep.errors import ConfigError
from audiorep.io.atomic_file import atomic_open
from audiorep.io.video_writer import write_av_file

MANIFEST_COLUMNS = (
    "path", "label", "scene", "events", "labels", "split", "seed", "index",
    "source_classes", "pitch_hz", "onset_s", "duration_s", "sources", "background",
)  # fmt: skip
VIDEO_MANIFEST_COLUMNS = (*MANIFEST_COLUMNS, "audio_path", "video_fps", "video_size")


def chunk_seed(seed: int, chunk_index: int) -> int:
    """The seed of one chunk: independent streams for every (seed, chunk) pair."""
    return int(np.random.SeedSequence([int(seed), int(chunk_index)]).generate_state(1)[0])


def _join(values) -> str:
    return ";".join(values)


def _fmt(x: float) -> str:
    return "" if math.isnan(x) else f"{x:.3f}"


def _write_batch(batch: SceneBatch, out: Path, split: str, seed: int, first: int, with_sources: bool,
                 frames=None, fps: float = 8.0) -> list[dict]:
    rows = []
    sr = batch.sample_rate
    for i in range(len(batch)):  # one file per clip: file IO is per clip by nature
        index = first + i
        stem = f"{split}_{index:06d}"
        rel = Path("audio") / f"{stem}.flac"
        sf.write(out / rel, batch.audio[i].numpy(), sr, subtype="PCM_16")
        video = {}
        if frames is not None:
            video_rel = Path("video") / f"{stem}.mp4"
            write_av_file(out / video_rel, batch.audio[i], sr, frames[i], fps)
            video = {"path": video_rel.as_posix(), "audio_path": rel.as_posix(), "video_fps": f"{fps:g}",
                     "video_size": str(frames.shape[-1])}
        slots = (batch.source_class[i] >= 0).nonzero().flatten().tolist()
        names = [batch.class_names[int(batch.source_class[i, k])] for k in slots]
        source_paths, background_path = [], ""
        if with_sources:
            for k in slots:
                src_rel = Path("sources") / f"{stem}_s{k}.flac"
                sf.write(out / src_rel, batch.sources[i, k].numpy(), sr, subtype="PCM_16")
                source_paths.append(src_rel.as_posix())
            bg_rel = Path("sources") / f"{stem}_background.flac"
            sf.write(out / bg_rel, batch.background[i].numpy(), sr, subtype="PCM_16")
            background_path = bg_rel.as_posix()
        scene = batch.scene_names[int(batch.scene[i])]
        events = batch.event_names(i)
        rows.append(
            {
                "path": rel.as_posix(),
                "label": scene,
                "scene": scene,
                "events": _join(events),
                "labels": _join(events),
                "split": split,
                "seed": str(seed),
                "index": str(index),
                "source_classes": _join(names),
                "pitch_hz": _join(_fmt(float(batch.pitch_hz[i, k])) for k in slots),
                "onset_s": _join(_fmt(float(batch.onset_s[i, k])) for k in slots),
                "duration_s": _join(_fmt(float(batch.duration_s[i, k])) for k in slots),
                "sources": _join(source_paths),
                "background": background_path,
                **video,
            }
        )
    return rows


def write_world(
    out_dir,
    n: int,
    seed: int,
    *,
    sample_rate: int = 16000,
    clip_seconds: float = 4.0,
    split: str = "train",
    sources: bool = False,
    max_events: int = 4,
    background: bool = True,
    chunk: int = 64,
    progress: bool = False,
    video: bool = False,
    video_size: int = 32,
    video_fps: float = 8.0,
    video_distractors: int = 1,
) -> dict:
    """Generate n clips and write `out_dir/audio/<split>_<index>.flac` (and, with `sources`,
    `out_dir/sources/<split>_<index>_s<slot>.flac` + `_background.flac`) plus
    `out_dir/manifest.csv`. With `video`, also `out_dir/video/<split>_<index>.mp4`
    (`video_size` px square, even; `video_fps`), named by the manifest's `path`. Returns a
    summary: manifest path, clip count, hours, counts per scene and per event class."""
    if n < 1:
        raise ConfigError(f"n must be >= 1, got {n}")
    if video and (int(video_size) != video_size or video_size < 8 or video_size % 2):
        raise ConfigError(f"video_size must be an even number of pixels >= 8 (H.264 needs even sizes), "
                          f"got {video_size}")
    if video and not video_fps > 0:
        raise ConfigError(f"video_fps must be > 0, got {video_fps}")
    if not split or any(c in split for c in "/\\;,"):
        raise ConfigError(f"split must be a plain name (no '/', '\\', ';' or ','), got {split!r}")
    world = SyntheticWorld(sample_rate, clip_seconds, max_events, background)
    out = Path(out_dir)
    (out / "audio").mkdir(parents=True, exist_ok=True)
    if sources:
        (out / "sources").mkdir(parents=True, exist_ok=True)
    if video:
        (out / "video").mkdir(parents=True, exist_ok=True)
    columns = VIDEO_MANIFEST_COLUMNS if video else MANIFEST_COLUMNS
    manifest = out / "manifest.csv"
    kept = []
    if manifest.exists():
        with open(manifest, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if tuple(reader.fieldnames or ()) != columns:
                raise ConfigError(f"{manifest}: existing manifest has other columns (a world "
                                  f"{'without' if video else 'with'} video?); write to a new folder")
            kept = [row for row in reader if row["split"] != split]

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n, unit="clip", desc=f"synth {split}", disable=not sys.stderr.isatty())
    rows = []
    for c, first in enumerate(range(0, n, chunk)):
        batch = world.generate(min(chunk, n - first), chunk_seed(seed, c))
        frames = None
        if video:
            frames = render_video(batch, size=int(video_size), fps=video_fps, seed=chunk_seed(seed, c),
                                  distractors=video_distractors)
        rows += _write_batch(batch, out, split, seed, first, sources, frames, video_fps)
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()

    with atomic_open(manifest, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(kept + rows)
    return {
        "manifest": str(manifest),
        "n": n,
        "split": split,
        "hours": n * clip_seconds / 3600,
        "scenes": dict(Counter(r["scene"] for r in rows)),
        "events": dict(Counter(e for r in rows for e in r["events"].split(";") if e)),
    }
