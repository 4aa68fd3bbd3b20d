"""Peak memory and time of `audiorep separate` on a long file, chunked, against the old whole-file path.

    OMP_NUM_THREADS=1 python benchmarks/separate_memory.py --json benchmarks/results/separate_memory_cpu.json
    OMP_NUM_THREADS=1 python benchmarks/separate_memory.py --minutes 5 --old-minutes 1   # smoke run

Data (written at run time to a temporary folder, or `--work DIR`): a synthetic `--minutes`-long
16 kHz mono 16-bit WAV (noise bursts, a slow chirp and a tone; written in one-minute blocks) and
a `--old-minutes`-long one. Separator: the `separator_mixit` recipe's architecture (M = 8,
8 kHz, 256 filters of 8 ms, 2 repeats x 6 blocks, ~0.5 M parameters) at random initialisation
(seed 0), saved as a standalone separator checkpoint; the compute per sample is the same as a
trained one's.

Each row runs in its own subprocess (one torch thread), so peaks do not mix:
- `chunked`: `audiorep separate` (`audiorep.cli.main`) with its defaults (10 s chunks, 2 s
  overlap), reading, separating and writing one chunk at a time;
- `old_whole_file`: what the command did before: load the whole file at 8 kHz
  (`load_audio(..., max_seconds=None)`), separate it in back-to-back 10 s chunks kept in memory
  and concatenated (`torch.cat`), then write each channel with `soundfile.write`;
- `baseline`: Python + torch + the loaded separator, nothing separated (the fixed part of every peak).

Peak = the process's peak resident set (VmHWM from /proc/self/status, ru_maxrss where absent).
The chunked outputs are then checked (length, rate, every sample finite) by reading them back
in blocks.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import shlex  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RATE_IN = 16000


def peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def write_long_wav(path: Path, minutes: float, seed: int = 0) -> None:
    """A `minutes`-long 16 kHz PCM_16 file, written one minute at a time."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    total = int(minutes * 60 * RATE_IN)
    block = 60 * RATE_IN
    with sf.SoundFile(path, "w", samplerate=RATE_IN, channels=1, subtype="PCM_16", format="WAV") as f:
        for start in range(0, total, block):
            t = (start + np.arange(min(block, total - start))) / RATE_IN
            bursts = (np.sin(2 * np.pi * 0.3 * t) > 0.2) * rng.standard_normal(t.size) * 0.1
            chirp = 0.2 * np.sin(2 * np.pi * (300 + 200 * np.sin(2 * np.pi * t / 17)) * t)
            tone = 0.1 * np.sin(2 * np.pi * 1000 * t) * (np.sin(2 * np.pi * t / 5) > 0)
            f.write((bursts + chirp + tone).astype(np.float32))


def write_checkpoint(path: Path) -> dict:
    import torch
    import yaml

    from audiorep.builders import build_separator
    from audiorep.io.checkpoint import save_separator
    from audiorep.separation.tdcn import count_parameters

    recipe = yaml.safe_load((ROOT / "src/audiorep/configs/separator_mixit.yaml").read_text())
    torch.manual_seed(0)
    model = build_separator(recipe["method"]["model"], recipe["data"]["sample_rate"])
    save_separator(path, model)
    return {"recipe": "separator_mixit", "init": "random, seed 0", "num_channels": model.num_channels,
            "sample_rate": model.sample_rate, "parameters": count_parameters(model)}


# ---- measured in a subprocess ---------------------------------------------------------
def _measure(mode: str, checkpoint: str, audio: str, out: str) -> dict:
    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    if mode == "chunked":
        from audiorep.cli import main

        rc = main(["separate", "--checkpoint", checkpoint, "--out", out, "--quiet", audio])
        assert rc == 0, rc
    elif mode == "old_whole_file":
        import soundfile as sf

        from audiorep.builders import load_separator
        from audiorep.io.audio import load_audio

        model = load_separator(checkpoint)
        audio_np = load_audio(audio, model.sample_rate, max_seconds=None)
        x = torch.from_numpy(audio_np).unsqueeze(0)
        chunk = int(10.0 * model.sample_rate)
        with torch.no_grad():
            channels = torch.cat([model(x[:, s: s + chunk]) for s in range(0, x.shape[-1], chunk)], -1)[0].numpy()
        Path(out).mkdir(parents=True, exist_ok=True)
        for m, wave in enumerate(channels):
            sf.write(Path(out) / f"{Path(audio).stem}_ch{m}.wav", wave, model.sample_rate, subtype="FLOAT")
    elif mode == "baseline":
        from audiorep.builders import load_separator

        load_separator(checkpoint)
    else:
        raise SystemExit(f"unknown mode {mode}")
    return {"seconds": round(time.perf_counter() - t0, 1), "peak_rss_mb": round(peak_rss_mb(), 1)}


def run_measurement(mode: str, checkpoint: Path, audio: Path, out: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, __file__, "--_measure", mode, str(checkpoint), str(audio), str(out)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["process_seconds"] = round(time.perf_counter() - t0, 1)
    return row


def check_outputs(folder: Path, stem: str, channels: int, rate: int, samples: int) -> dict:
    import soundfile as sf

    files = sorted(folder.glob(f"{stem}_ch*.wav"))
    finite, lengths, rates, peak = True, set(), set(), 0.0
    for p in files:
        info = sf.info(p)
        lengths.add(info.frames)
        rates.add(info.samplerate)
        for block in sf.blocks(p, blocksize=1 << 20, dtype="float32"):
            finite &= bool(np.isfinite(block).all())
            peak = max(peak, float(np.abs(block).max()))
    leftovers = sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))
    return {"files": len(files), "expected_files": channels, "lengths": sorted(lengths), "expected_length": samples,
            "rates": sorted(rates), "expected_rate": rate, "all_finite": finite, "peak_abs": round(peak, 3),
            "temp_files_left": leftovers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the long file, chunked path")
    parser.add_argument("--old-minutes", type=float, default=10.0,
                        help="length of the file run through both paths (0: skip the old path)")
    parser.add_argument("--work", type=Path, help="keep the data here (default: a temporary folder)")
    parser.add_argument("--_measure", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._measure:
        print(json.dumps(_measure(*args._measure)))
        return

    sys.path.insert(0, str(ROOT / "src"))
    start = time.perf_counter()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        work = Path(tmp)
        ckpt = work / "separator.pt"
        separator = write_checkpoint(ckpt)
        rows = {}
        rows["baseline"] = run_measurement("baseline", ckpt, ckpt, work / "none")
        files = {"long": (args.minutes, work / "long.wav")}
        if args.old_minutes > 0:
            files["short"] = (args.old_minutes, work / "short.wav")
        for minutes, path in files.values():
            t0 = time.perf_counter()
            write_long_wav(path, minutes)
            print(f"wrote {path.name}: {minutes:g} min, {path.stat().st_size / 1e6:.0f} MB in "
                  f"{time.perf_counter() - t0:.1f} s", flush=True)
        if args.old_minutes > 0:
            minutes, path = files["short"]
            for mode in ("old_whole_file", "chunked"):
                out = work / f"out_{mode}"
                row = run_measurement(mode, ckpt, path, out)
                rows[f"{mode}_{minutes:g}min"] = {"minutes": minutes, **row,
                                                  "rtf": round(row["seconds"] / (minutes * 60), 4)}
                print(mode, f"{minutes:g} min:", row, flush=True)
                for p in out.iterdir():
                    p.unlink()
        minutes, path = files["long"]
        out = work / "out_chunked_long"
        row = run_measurement("chunked", ckpt, path, out)
        samples = int(round(minutes * 60 * separator["sample_rate"]))
        check = check_outputs(out, path.stem, separator["num_channels"], separator["sample_rate"], samples)
        rows[f"chunked_{minutes:g}min"] = {"minutes": minutes, **row, "rtf": round(row["seconds"] / (minutes * 60), 4),
                                           "output_check": check}
        print(f"chunked {minutes:g} min:", rows[f"chunked_{minutes:g}min"], flush=True)

    import torch

    long_row = rows[f"chunked_{args.minutes:g}min"]
    result = {
        "command": "OMP_NUM_THREADS=1 python benchmarks/separate_memory.py "
                   + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "torch": torch.__version__,
        "torch_threads": 1,
        "device": "cpu",
        "load_average_at_start": round(load, 2),
        "input": {"sample_rate": RATE_IN, "format": "WAV PCM_16 mono", "minutes": args.minutes,
                  "old_path_minutes": args.old_minutes, "content": "noise bursts + chirp + gated tone"},
        "separator": separator,
        "settings": {"chunk_seconds": 10.0, "overlap_seconds": 2.0, "output": "32-bit float WAV per channel at the "
                     f"separator's {separator['sample_rate']} Hz"},
        "rows": rows,
        "target": {"peak_rss_mb_below": 1024, "met": long_row["peak_rss_mb"] < 1024},
        "total_seconds": round(time.perf_counter() - start, 1),
        "note": "Peak RSS per subprocess (VmHWM), one torch thread, a 2-core machine shared with other jobs "
                "(times are therefore upper bounds). 'baseline' is the fixed cost (Python, torch, the separator). "
                "The old path holds the whole input, its resampled copy and all M output channels twice "
                "(chunk list + torch.cat), so its peak grows with the file; the chunked path holds one 10 s "
                "chunk, its activations and its M output chunks, so its peak does not. The chunked path "
                "also computes the 2 s overlaps (about 25 % more separator work per second of audio).",
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
