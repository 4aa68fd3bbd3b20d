"""How fast audio-visual clips come off disk: 2 s of 16 kHz audio + frames at 32 px / 8 fps,
from random offsets of 10-s video files, through `VideoSource` + `ClipDataset` + a DataLoader.

    OMP_NUM_THREADS=1 python benchmarks/video_decode.py --json benchmarks/results/video_decode_cpu.json

The files are written once to a temporary folder: `--files` 10-s 128x128 25 fps H.264 (libx264
defaults: CABAC, B-frames) + AAC 48 kHz stereo videos of moving shapes on a noisy background,
with a keyframe every `--gop` frames (50 = every 2 s, common for web video; x264's own default
is 250, i.e. one keyframe per 10-s file here, so every crop decodes from the start: give
`--gop 250` to see that worst case). A manifest lists each file `--repeats` times so one
epoch draws that many different random windows per file.

Rows: audio + video with 0 and 2 DataLoader workers, and audio only (0 workers) to show what
the frames cost. `clips_per_s` is wall-clock after the first batch (worker start-up
excluded); `clips_per_cpu_s` divides the epoch's clips by the CPU time of this process and
its workers (start-up included), what one idle core gives on a busy machine. `load_average`
(1 min, before the runs) says how busy the machine was.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import torch
from torch.utils.data import DataLoader

from audiorep.data.dataset import ClipDataset
from audiorep.data.video_source import VideoSource


def write_video(path: Path, seconds: float, size: int, fps: int, rate: int, gop: int, seed: int) -> None:
    """Moving coloured squares over a noisy background (so P/B frames carry real residuals), and
    a chord with noise on two channels."""
    rng = np.random.default_rng(seed)
    background = rng.integers(0, 60, (size, size, 3), dtype=np.uint8)
    colours = rng.integers(80, 256, (3, 3))
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width = vs.height = size
        vs.pix_fmt = "yuv420p"
        vs.options = {"g": str(gop)}
        aus = out.add_stream("aac", rate=rate)
        aus.layout = "stereo"
        for k in range(round(seconds * fps)):
            img = background.copy()
            img += rng.integers(0, 12, img.shape, dtype=np.uint8)
            for s, colour in enumerate(colours):
                x = int((size - 24) * (0.5 + 0.5 * np.sin(0.7 * k / fps * (s + 1) + s)))
                y = int((size - 24) * (0.5 + 0.5 * np.cos(0.5 * k / fps * (s + 1))))
                img[y : y + 24, x : x + 24] = colour
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = k
            out.mux(vs.encode(frame))
        out.mux(vs.encode())
        t = np.arange(round(seconds * rate)) / rate
        freqs = 220.0 * (1 + rng.integers(0, 4, 3))
        mono = sum(np.sin(2 * np.pi * f * t) for f in freqs) / 6 + 0.02 * rng.standard_normal(len(t))
        stereo = np.stack([mono, 0.8 * mono]).astype(np.float32)
        for s in range(0, len(t), 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(stereo[:, s : s + 1024]), format="fltp",
                                               layout="stereo")
            frame.sample_rate, frame.pts = rate, s
            out.mux(aus.encode(frame))
        out.mux(aus.encode())


def _cpu_s() -> float:
    """CPU seconds of this process and of its reaped children (finished DataLoader workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def time_loader(dataset: ClipDataset, workers: int, batch_size: int) -> dict:
    """Clips/s over one epoch, timed from the first batch on (worker start-up excluded), and
    clips per CPU-second over the whole epoch (workers included once they have exited)."""
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=workers,
                        collate_fn=dataset.collate_fn, generator=torch.Generator().manual_seed(0))
    clips, total, errors, start = 0, 0, 0, None
    cpu = _cpu_s()
    for batch in loader:
        errors += len(batch["errors"])
        total += len(batch["index"])
        if start is None:
            start = time.perf_counter()
            continue
        clips += len(batch["index"])
    wall, cpu = time.perf_counter() - start, _cpu_s() - cpu
    return {"workers": workers, "clips_timed": clips, "bad_clips": errors, "clips_per_s": round(clips / wall, 1),
            "clips_per_cpu_s": round(total / cpu, 1)}


def markdown(rows: list[dict]) -> str:
    lines = ["| fields | gop | workers | clips/s | clips/CPU-s | CPU ms/clip |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['fields']} | {r['gop']} | {r['workers']} | {r['clips_per_s']} | {r['clips_per_cpu_s']} | "
                     f"{round(1000 / r['clips_per_cpu_s'], 1)} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", type=int, default=16)
    p.add_argument("--repeats", type=int, default=12, help="random windows per file per epoch")
    p.add_argument("--gop", type=int, nargs="+", default=[50], help="keyframe interval(s), in frames")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    p.add_argument("--json")
    args = p.parse_args()
    torch.set_num_threads(1)
    seconds, size, fps, clip_seconds, rate = 10.0, 128, 25, 2.0, 16000
    result = {"command": shlex.join(["python", *sys.argv]), "machine": platform.processor() or platform.machine(),
              "cpu_count": os.cpu_count(), "load_average": round(os.getloadavg()[0], 2), "pyav": av.__version__,
              "files": {"n": args.files, "seconds": seconds, "size": size, "fps": fps,
                        "codec": "H.264 (libx264 defaults) + AAC 48 kHz stereo, .mp4"},
              "clip": {"seconds": clip_seconds, "sample_rate": rate, "video_size": 32, "video_fps": 8},
              "batch_size": args.batch_size, "rows": []}
    with tempfile.TemporaryDirectory() as tmp:
        for gop in args.gop:
            folder = Path(tmp) / f"gop{gop}"
            folder.mkdir()
            for i in range(args.files):
                write_video(folder / f"v{i:02d}.mp4", seconds, size, fps, 48000, gop, seed=i)
            manifest = folder / "manifest.csv"
            manifest.write_text("path\n" + "".join(f"v{i:02d}.mp4\n" for i in range(args.files)
                                                   for _ in range(args.repeats)))
            source = VideoSource(manifest, sample_rate=rate, video_size=32, video_fps=8)
            for fields, workers in [(("audio", "video"), w) for w in args.workers] + [(("audio",), 0)]:
                dataset = ClipDataset(source, rate, clip_seconds, crop="random", fields=fields)
                row = {"fields": "+".join(fields), "gop": gop, **time_loader(dataset, workers, args.batch_size)}
                result["rows"].append(row)
                print(json.dumps(row), flush=True)
    print(markdown(result["rows"]), end="")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
