"""How fast does the synthetic world generate clips, and how hard is it?

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/synth_rate.py --json rate.json
    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/synth_rate.py --baseline --json calib.json
    OMP_NUM_THREADS=1 python benchmarks/synth_rate.py --n 64 --seconds 2 --video-sizes 8 32 64 --json video.json

The rate is clips per second of `SyntheticWorld.generate` (in memory, all ground truth),
at the given clip length and sample rate, on `--threads` CPU threads: wall-clock
(`clips_per_second`, best of the repeats) and per CPU-second of this process
(`clips_per_cpu_second`, what an idle core gives; it does not count time lost to other
processes on a busy machine). With `--video-sizes` it also times `render_video` (the video
track) on one generated batch at each size, at `--video-fps`. With `--baseline` it
also scores the log-mel statistics + linear probe baseline (scene accuracy, event mAP) that
docs/synthetic_world.md reports as the world's calibration.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=256, help="clips per timed batch")
    parser.add_argument("--repeats", type=int, default=3, help="timed batches (best is reported)")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--sample-rate", type=int, default=16000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--baseline", action="store_true", help="also run the log-mel statistics baseline")
    parser.add_argument("--n-train", type=int, default=1500)
    parser.add_argument("--n-test", type=int, default=500)
    parser.add_argument("--video-sizes", type=int, nargs="*", default=[], help="also time render_video at these sizes")
    parser.add_argument("--video-fps", type=float, default=8.0)
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from audiorep.data.synthetic import SyntheticWorld

    world = SyntheticWorld(sample_rate=args.sample_rate, clip_seconds=args.seconds)
    world.generate(8, seed=12345)  # warm-up (imports, allocator)
    times, cpu_times = [], []
    for r in range(args.repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        world.generate(args.n, seed=r)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    best = min(times)
    result = {
        "clips_per_second": args.n / best,
        "audio_seconds_per_second": args.n * args.seconds / best,
        # CPU time of this process: the rate on an idle core, robust to a busy shared machine
        "clips_per_cpu_second": args.n / min(cpu_times),
        "n": args.n,
        "repeats": args.repeats,
        "seconds_per_batch": times,
        "cpu_seconds_per_batch": cpu_times,
        "clip_seconds": args.seconds,
        "sample_rate": args.sample_rate,
        "threads": args.threads,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }
    if args.video_sizes:
        from audiorep.data.synthetic.video import render_video

        batch = world.generate(args.n, seed=0)
        render_video(batch[:4], size=8, fps=args.video_fps)  # warm-up
        result["render_video"] = {"fps": args.video_fps, "clips": args.n, "seconds_per_batch": {}}
        for size in args.video_sizes:
            best_render = min(_timed(render_video, batch, size=size, fps=args.video_fps) for _ in range(args.repeats))
            result["render_video"]["seconds_per_batch"][f"{size}px"] = round(best_render, 3)
    if args.baseline:
        from audiorep.data.synthetic.calibration import log_mel_baseline

        start = time.perf_counter()
        result["baseline"] = log_mel_baseline(world, args.n_train, args.n_test, seed=0)
        result["baseline"]["wall_seconds"] = time.perf_counter() - start
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return 0


def _timed(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


if __name__ == "__main__":
    raise SystemExit(main())
