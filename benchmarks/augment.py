"""Speed of audiorep's batched augmentations against the per-example route (audiomentations).

Both run on the same batch of real recordings (wake-word clips, 16 kHz): audiorep as one
batched call on --device, audiomentations one clip at a time on the CPU, as a data-loader
worker would (`--workers N`: N such processes, each taking a share of the clips, as N
data-loader workers would). Prints clips/s for each and the ratio; --json PATH writes the figures.

    OMP_NUM_THREADS=1 python benchmarks/augment.py --threads 1 --json augment.json
    OMP_NUM_THREADS=1 python benchmarks/augment.py --threads 2 --workers 2 --json augment.json   # both cores each
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from audiorep.augment import build_chain
from audiorep.frontend.log_mel import LogMel

SR = 16000
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wakewords"

#: name -> audiorep chain spec (all p = 1 so both routes do the same work)
OPS = {
    "random_crop": [{"name": "random_crop", "seconds": None}],
    "gain": [{"name": "gain", "db": [-12, 12]}],
    "polarity": [{"name": "polarity", "p": 1.0}],
    "fade": [{"name": "fade"}],
    "noise": [{"name": "noise", "snr_db": [5, 40]}],
    "background": [{"name": "background", "snr_db": [3, 30]}],
    "pitch_shift": [{"name": "pitch_shift", "semitones": [-4, 4]}],
    "time_stretch": [{"name": "time_stretch", "rate": [0.8, 1.25]}],
    "eq": [{"name": "eq", "bands": 5, "gain_db": [-12, 12]}],
    "lowpass": [{"name": "lowpass"}],
    "highpass": [{"name": "highpass"}],
    "bandpass": [{"name": "bandpass"}],
    "reverb": [{"name": "reverb", "rt60": [0.2, 1.0]}],
    "mixup": [{"name": "mixup"}],
    "time_mask": [{"name": "time_mask"}],
    "freq_mask": [{"name": "freq_mask"}],
    "resized_crop": [{"name": "resized_crop"}],
    "log_mixup_exp": [{"name": "log_mixup_exp"}],
}
LOG_MEL = {"time_mask", "freq_mask", "resized_crop", "log_mixup_exp"}
FULL_CHAIN = ["random_crop", "gain", "pitch_shift", "time_stretch", "eq", "noise", "reverb"]


def load_batch(batch: int, seconds: float) -> torch.Tensor:
    """`batch` real clips, each cut or zero-padded to `seconds`."""
    with open(DATA / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    rows = rows[:: max(1, len(rows) // batch)][:batch]
    length = int(seconds * SR)
    clips = []
    for row in rows:
        audio, rate = sf.read(DATA / row["path"], dtype="float32", always_2d=True)
        assert rate == SR, f"{row['path']}: expected {SR} Hz, got {rate}"
        audio = audio.mean(1)[:length]
        clips.append(np.pad(audio, (0, length - len(audio))))
    return torch.from_numpy(np.stack(clips))


def per_example_route(name: str, crop_length: int, ir_dir: Path, bank_dir: Path):
    """The audiomentations transform a user would run per clip for op `name` (None if it has none)."""
    import audiomentations as A

    rng = np.random.default_rng(0)

    def crop(x, sample_rate):
        start = rng.integers(0, len(x) - crop_length + 1)
        return x[start : start + crop_length]

    table = {
        "random_crop": lambda: crop,
        "gain": lambda: A.Gain(-12, 12, p=1.0),
        "polarity": lambda: A.PolarityInversion(p=1.0),
        "noise": lambda: A.AddColorNoise(5, 40, p=1.0),
        "background": lambda: A.AddBackgroundNoise(bank_dir, 3, 30, p=1.0),
        "pitch_shift": lambda: A.PitchShift(-4, 4, p=1.0),
        "time_stretch": lambda: A.TimeStretch(0.8, 1.25, leave_length_unchanged=True, p=1.0),
        "eq": lambda: A.SevenBandParametricEQ(-12, 12, p=1.0),
        "lowpass": lambda: A.LowPassFilter(1500, 7500, p=1.0),
        "highpass": lambda: A.HighPassFilter(40, 800, p=1.0),
        "bandpass": lambda: A.BandPassFilter(p=1.0),
        "reverb": lambda: A.ApplyImpulseResponse(ir_dir, p=1.0),
    }
    if name == "full_chain":
        steps = [table[n]() for n in FULL_CHAIN]
        return lambda x, sample_rate: _chain(steps, x, sample_rate)
    return table[name]() if name in table else None


_WORKER_ROUTE = None


def _start_worker(name: str, crop_length: int, ir_dir: Path, bank_dir: Path, threads: int) -> None:
    global _WORKER_ROUTE
    torch.set_num_threads(threads)
    _WORKER_ROUTE = per_example_route(name, crop_length, ir_dir, bank_dir)


def _run_in_worker(clip: np.ndarray) -> np.ndarray:
    return _WORKER_ROUTE(clip, sample_rate=SR)


def _chain(steps, x, sample_rate):
    for step in steps:
        x = step(x, sample_rate=sample_rate)
    return x


def write_synthetic_files(folder: Path, batch: torch.Tensor) -> tuple[Path, Path]:
    """Impulse responses and background clips as files, since audiomentations reads them from disk."""
    from audiorep.augment.reverb import synthetic_rir

    ir_dir, bank_dir = folder / "ir", folder / "bank"
    ir_dir.mkdir()
    bank_dir.mkdir()
    g = torch.Generator().manual_seed(0)
    rt60 = torch.linspace(0.2, 1.0, 8, dtype=torch.float64)
    rirs = synthetic_rir(rt60, torch.zeros(8, dtype=torch.float64), torch.zeros(8, dtype=torch.float64), SR, SR, g)
    for i, rir in enumerate(rirs):
        sf.write(ir_dir / f"rir{i}.wav", rir.numpy(), SR)
    for i, clip in enumerate(batch[:8]):
        sf.write(bank_dir / f"bg{i}.wav", clip.numpy(), SR)
    return ir_dir, bank_dir


def timed(fn, repeats: int, device: torch.device) -> float:
    """Median seconds of `repeats` calls after one warm-up call."""
    return timed_interleaved([fn], repeats, device)[0]


def timed_interleaved(fns, repeats: int, device: torch.device) -> list[float]:
    """Median seconds per function, calls interleaved (a, b, a, b, ...) after one warm-up each,
    so a change in machine load during the run hits every route alike."""
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, kept in zip(fns, times):
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            fn()
            if device.type == "cuda":
                torch.cuda.synchronize()
            kept.append(time.perf_counter() - start)
    return [statistics.median(kept) for kept in times]


def simclr_share(device: torch.device, repeats: int) -> dict:
    """Share of a SimCLR training step (default demo recipe, batch 128, forward + backward)
    taken by waveform augmentation: the recipe's own chain, and the full chain of this benchmark."""
    from audiorep.builders import build_method
    from audiorep.config import load_config

    cfg = load_config("simclr_demo")
    torch.manual_seed(0)
    method = build_method(cfg).to(device)
    batch = cfg.train.batch_size
    audio = load_batch(batch, cfg.data.clip_seconds).to(device)
    views = torch.cat([audio, audio])  # SimCLR augments both views of each clip in one call
    crop = next(e["seconds"] for e in cfg.method["wave_augment"] if e["name"] == "random_crop")
    full = [dict(OPS[n][0]) for n in FULL_CHAIN]
    full[0]["seconds"] = crop
    full_chain = build_chain(full, sample_rate=SR).to(device)
    generator = torch.Generator().manual_seed(0)

    def step():
        method.zero_grad(set_to_none=True)
        method({"audio": audio}, generator)["loss"].backward()

    def recipe_chain():
        with torch.no_grad():
            method.views.waves(views, generator)

    def whole_chain():
        with torch.no_grad():
            full_chain(views, generator)

    step_s, recipe_s, full_s = timed_interleaved([step, recipe_chain, whole_chain], repeats, device)
    return {
        "batch": batch,
        "clip_seconds": cfg.data.clip_seconds,
        "step_s": step_s,
        "recipe_chain_s": recipe_s,
        "recipe_chain_share_of_step": recipe_s / step_s,
        "full_chain_s": full_s,
        "full_chain_vs_step_without_augmentation": full_s / (step_s - recipe_s),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=2.0, help="clip length after the crop")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (both routes)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved timed calls per route (median kept)")
    parser.add_argument("--ops", nargs="*", default=None, help=f"subset of {list(OPS) + ['full_chain']}")
    parser.add_argument("--no-baseline", action="store_true", help="time audiorep only")
    parser.add_argument(
        "--workers", type=int, default=1, help="processes for the per-example route, as data-loader workers would be (1: in this process)"
    )
    parser.add_argument("--simclr", action="store_true", help="also time a SimCLR step (simclr_demo recipe) against the chain")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)  # numpy/scipy in the per-example route follow OMP_NUM_THREADS
    device = torch.device(args.device)
    names = args.ops or list(OPS) + ["full_chain"]
    crop_length = int(args.seconds * SR)
    source = load_batch(args.batch, args.seconds * 1.5)  # the crop takes 2/3 of each clip
    cropped = source[:, :crop_length].contiguous()
    log_mel = LogMel(SR)(cropped)
    generator = torch.Generator().manual_seed(0)
    results = []
    print(f"batch {args.batch} x {args.seconds:g} s at {SR} Hz, device {device}, torch threads {args.threads}, per-example workers {args.workers}")
    print(f"{'op':<14}{'audiorep clips/s':>18}{'per-example clips/s':>22}{'ratio':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        ir_dir, bank_dir = write_synthetic_files(Path(tmp), source)
        for name in names:
            if name == "full_chain":
                spec = [dict(OPS[n][0]) for n in FULL_CHAIN]
            else:
                spec = [dict(OPS[name][0])]
            for entry in spec:
                if entry["name"] == "random_crop":
                    entry["seconds"] = args.seconds
            chain = build_chain(spec, sample_rate=SR).to(device)
            if name == "background":
                chain[0].set_bank(source[:8])
            uses_source = name in ("random_crop", "full_chain")
            x = (log_mel if name in LOG_MEL else source if uses_source else cropped).to(device)
            route = None if args.no_baseline else per_example_route(name, crop_length, ir_dir, bank_dir)
            batched = lambda: chain(x, generator)  # noqa: E731
            if route is None:
                ours = timed(batched, args.repeats, device)
            else:
                clips = list((source if uses_source else cropped).numpy())
                if args.workers > 1:
                    pool = multiprocessing.get_context("fork").Pool(
                        args.workers, _start_worker, (name, crop_length, ir_dir, bank_dir, 1)
                    )
                    per_clip = lambda: pool.map(_run_in_worker, clips, chunksize=-(-len(clips) // args.workers))  # noqa: E731
                else:
                    per_clip = lambda: [route(c, sample_rate=SR) for c in clips]  # noqa: E731
                ours, theirs = timed_interleaved([batched, per_clip], args.repeats, device)
                if args.workers > 1:
                    pool.close()
            row = {"op": name, "audiorep_clips_per_s": args.batch / ours}
            if route is not None:
                row["per_example_clips_per_s"] = args.batch / theirs
                row["ratio"] = theirs / ours
            results.append(row)
            other = f"{row['per_example_clips_per_s']:>22.1f}{row['ratio']:>8.1f}x" if "ratio" in row else f"{'-':>22}{'-':>9}"
            print(f"{name:<14}{row['audiorep_clips_per_s']:>18.1f}{other}", flush=True)
    simclr = None
    if args.simclr:
        simclr = simclr_share(device, args.repeats)
        print(
            f"SimCLR step (simclr_demo, batch {simclr['batch']} x {simclr['clip_seconds']:g} s, forward + backward): "
            f"{simclr['step_s'] * 1e3:.0f} ms; its wave chain {simclr['recipe_chain_s'] * 1e3:.0f} ms "
            f"({100 * simclr['recipe_chain_share_of_step']:.1f}% of the step); the full chain on the same "
            f"{2 * simclr['batch']} views {simclr['full_chain_s'] * 1e3:.0f} ms "
            f"({simclr['full_chain_vs_step_without_augmentation']:.2f}x the step without augmentation)"
        )
    if args.json:
        meta = {
            "batch": args.batch,
            "seconds": args.seconds,
            "sample_rate": SR,
            "device": str(device),
            "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine(),
            "torch_threads": args.threads,
            "per_example_workers": args.workers,
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            "load_average_1min": os.getloadavg()[0],
            "torch": torch.__version__,
            "cpu_count": os.cpu_count(),
            "command": " ".join(sys.argv),
        }
        args.json.write_text(json.dumps({"meta": meta, "results": results, "simclr": simclr}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
