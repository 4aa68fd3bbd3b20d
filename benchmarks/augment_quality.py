"""How faithful audiorep's pitch shift and time stretch are, against audiomentations.

Harmonic test tones (12 partials, 1/k amplitudes, 3 Hz amplitude modulation, f0 110-240 Hz,
2 s at 16 kHz) are shifted or stretched, and each result is compared with the same tone
synthesised at the target pitch or tempo: the log-spectral distance (dB, RMS over bins,
mean over frames; STFT 2048/512, floor 60 dB below the peak). Lower is better; 0 is exact.
Each case runs twice: as is, and after 0.25 s of digital silence (as in zero-padded clips).

    python benchmarks/augment_quality.py --json benchmarks/results/augment_quality.json --figure docs/img/pitch_time.png

`--figure` also draws log spectrograms of one real recording (a wake-word clip from
../shared/data) as is, shifted, stretched and both, beside audiomentations' shift.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

from audiorep.augment.pitch_shift import pitch_shift
from audiorep.augment.time_stretch import time_stretch

SR = 16000
SECONDS = 2.0
F0S = (110.0, 150.0, 196.0, 240.0)
SEMITONES = (-4.0, -2.0, -0.5, 0.5, 2.0, 4.0)
RATES = (0.8, 0.9, 1.1, 1.25)


def harmonic_tone(f0: float, pitch: float = 1.0, rate: float = 1.0, seed: int = 0, silence: float = 0.0) -> torch.Tensor:
    """The test tone with its partials times `pitch` and played `rate` times faster."""
    n = int(round(SECONDS * SR / rate))
    t = torch.arange(n, dtype=torch.float64) / SR
    envelope = 0.6 + 0.4 * torch.sin(2 * math.pi * 3 * rate * t)
    phases = torch.rand(12, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 2 * math.pi
    partials = [torch.sin(2 * math.pi * k * f0 * pitch * t + phases[k - 1]) / k for k in range(1, 13) if k * f0 * pitch < 7500]
    x = 0.3 * envelope * sum(partials)
    gap = torch.zeros(int(round(silence * SR / rate)), dtype=torch.float64)
    return torch.cat([gap, x]).float()


def log_spectrum(x: torch.Tensor) -> torch.Tensor:
    window = torch.hann_window(2048, dtype=torch.float64)
    spec = torch.stft(x.double(), 2048, 512, window=window, return_complex=True).abs()
    db = 20 * torch.log10(spec.clamp_min(1e-9))
    return db.clamp_min(db.max() - 60)


def log_spectral_distance(y: torch.Tensor, reference: torch.Tensor, skip_frames: int) -> float:
    """dB distance over the frames both have, leaving out `skip_frames` at each end (the edges)."""
    a, b = log_spectrum(y), log_spectrum(reference)
    n = min(a.shape[-1], b.shape[-1])
    a, b = a[:, skip_frames : n - 5], b[:, skip_frames : n - 5]
    return float(((a - b) ** 2).mean(0).sqrt().mean())


def per_example_route(kind: str, value: float):
    import audiomentations as A

    if kind == "pitch":
        return A.PitchShift(value, value, p=1.0)
    return A.TimeStretch(value, value, leave_length_unchanged=False, p=1.0)


def measure(kind: str, value: float, silence: float, baseline: bool) -> dict:
    ours, theirs = [], []
    skip = 5 + int(silence * SR / 512 / (value if kind == "stretch" else 1.0))
    for seed, f0 in enumerate(F0S):
        x = harmonic_tone(f0, seed=seed, silence=silence)
        if kind == "pitch":
            reference = harmonic_tone(f0, pitch=2 ** (value / 12), seed=seed, silence=silence)
            y = pitch_shift(x[None], torch.tensor([value]))[0]
        else:
            reference = harmonic_tone(f0, rate=value, seed=seed, silence=silence)
            y, lengths = time_stretch(x[None], torch.tensor([value]))
            y = y[0, : int(lengths[0])]
        ours.append(log_spectral_distance(y, reference, skip))
        if baseline:
            z = per_example_route(kind, value)(x.numpy(), sample_rate=SR)
            theirs.append(log_spectral_distance(torch.from_numpy(np.ascontiguousarray(z)), reference, skip))
    row = {"op": kind, "value": value, "silence_s": silence, "audiorep_lsd_db": float(np.mean(ours))}
    if baseline:
        row["audiomentations_lsd_db"] = float(np.mean(theirs))
    return row


def draw_figure(path: Path) -> None:
    """Spectrograms of a real clip through each op (ours) and through audiomentations' pitch shift."""
    import csv

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import soundfile as sf

    from audiorep.augment.pitch_time import shift_pitch_and_time

    data = Path(__file__).resolve().parents[2] / "shared" / "data" / "wakewords"
    with open(data / "manifest.csv", newline="") as f:
        row = next(csv.DictReader(f))
    audio, rate = sf.read(data / row["path"], dtype="float32", always_2d=True)
    x = torch.from_numpy(audio.mean(1))[None, : int(1.5 * rate)]
    panels = [
        ("original", x[0]),
        ("audiorep: +4 semitones", pitch_shift(x, torch.tensor([4.0]))[0]),
        ("audiomentations: +4 semitones", torch.from_numpy(per_example_route("pitch", 4.0)(x[0].numpy(), sample_rate=rate))),
        ("audiorep: tempo x 0.8", time_stretch(x, torch.tensor([0.8]))[0][0]),
        ("audiorep: -3 semitones and tempo x 1.2, one pass", shift_pitch_and_time(x, torch.tensor([-3.0]), torch.tensor([1.2]))[0][0]),
    ]
    longest = max(y.shape[-1] for _, y in panels) / rate
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 2.1 * len(panels)))
    for ax, (title, y) in zip(axes, panels):
        window = torch.hann_window(512, dtype=torch.float64)
        spec = torch.stft(y.double(), 512, 128, window=window, return_complex=True).abs()
        db = 20 * torch.log10(spec.clamp_min(1e-8))
        seconds = y.shape[-1] / rate
        ax.imshow(db.numpy(), origin="lower", aspect="auto", cmap="magma", vmin=float(db.max()) - 80,
                  extent=(0, seconds, 0, rate / 2000))
        ax.set_ylim(0, 4)
        ax.set_xlim(0, longest)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel("kHz")
    axes[-1].set_xlabel("seconds")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=72)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-baseline", action="store_true", help="audiorep only")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--figure", type=Path, default=None, help="also draw spectrograms of a real clip (PNG)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    print(f"{'op':<8}{'value':>7}{'silence':>9}{'audiorep dB':>13}{'audiomentations dB':>20}")
    for silence in (0.0, 0.25):
        for kind, values in (("pitch", SEMITONES), ("stretch", RATES)):
            for value in values:
                row = measure(kind, value, silence, not args.no_baseline)
                rows.append(row)
                other = f"{row['audiomentations_lsd_db']:>20.2f}" if "audiomentations_lsd_db" in row else f"{'-':>20}"
                print(f"{kind:<8}{value:>7g}{silence:>9g}{row['audiorep_lsd_db']:>13.2f}{other}", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"meta": {"command": " ".join(sys.argv), "torch": torch.__version__}, "results": rows}, indent=2))
    if args.figure:
        draw_figure(args.figure)
    return 0


if __name__ == "__main__":
    sys.exit(main())
