"""How fast clips come off disk: seeking crops of a long file, the same file read whole, and
`ClipDataset` random crops of real recordings (what a DataLoader worker does per clip).

    OMP_NUM_THREADS=1 python benchmarks/loading.py --json benchmarks/results/loading_cpu.json

The long file is written once to a temporary folder: one hour of 44.1 kHz noise as FLAC.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from audiorep.data.dataset import ClipDataset
from audiorep.data.sources import ManifestSource
from audiorep.io.audio import load_audio, load_random_crop

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def long_file(folder: Path, seconds: int = 3600, rate: int = 44100) -> Path:
    path = folder / "hour.flac"
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", rate, 1, subtype="PCM_16") as out:
        for _ in range(seconds // 60):  # a minute at a time
            out.write((0.1 * rng.standard_normal(60 * rate)).astype(np.float32))
    return path


def per_call(fn, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - start) / n


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--crops", type=int, default=200)
    p.add_argument("--clips", type=int, default=500, help="ClipDataset items per dataset")
    p.add_argument("--json")
    args = p.parse_args()
    result = {"command": shlex.join(["python", *sys.argv]), "sample_rate": 16000}
    with tempfile.TemporaryDirectory() as tmp:
        path = long_file(Path(tmp))
        rng = np.random.default_rng(0)
        result["long_file_crop_ms"] = round(1000 * per_call(lambda i: load_random_crop(path, 16000, 1.0, rng), args.crops), 2)
        result["long_file_whole_s"] = round(per_call(lambda i: load_audio(path, 16000, max_seconds=None), 1), 2)
    for name in ("fsdd", "wakewords"):
        dataset = ClipDataset(ManifestSource(SHARED / name / "manifest.csv"), 16000, 1.0, crop="random")
        n = min(args.clips, len(dataset))
        result[f"clipdataset_{name}_clips_per_s"] = round(1.0 / per_call(lambda i: dataset[i], n), 1)
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
