"""Hear and see what an augmentation chain does to your own recordings.

`preview_views` runs a chain on copies of each file, so every copy draws its own
parameters, and writes the views as WAV files beside one picture per file: the log-mel of
the original above those of its views. It is how to check a recipe's views before
spending GPU hours on them (are the pitch shifts audible? does the reverb drown speech?).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import soundfile as sf
import torch

from audiorep.augment.compose import Compose
from audiorep.data.sources import DEFAULT_EXTENSIONS
from audiorep.errors import AudioFileError, ConfigError


def chain_from_config(config: str, key: str, overrides: Sequence[str] = ()) -> tuple[list, int]:
    """The augmentation list `method.<key>` of a recipe, and the recipe's sample rate."""
    from audiorep.config import load_config

    cfg = load_config(config, list(overrides))
    spec = cfg.method.get(key)
    if not spec:
        chains = sorted(k for k, v in cfg.method.items() if isinstance(v, list) and k.endswith("augment"))
        raise ConfigError(f"config {config!r} has no augmentation chain method.{key}; it has {chains or 'none'}")
    return spec, cfg.data.sample_rate


def chain_from_yaml(path: str | Path) -> list:
    """A YAML file holding a chain: a list of entries, or a mapping with an `augment` list."""
    import yaml

    try:
        tree = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"{path}: cannot read the chain ({err})") from err
    if isinstance(tree, dict) and isinstance(tree.get("augment"), list):
        tree = tree["augment"]
    if not isinstance(tree, list):
        raise ConfigError(f"{path}: expected a list of augmentation entries (or a mapping with an 'augment' list)")
    return tree


def audio_files(inputs: Iterable[str | Path]) -> list[Path]:
    """Files as given, and the audio files under folders (sorted)."""
    found: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found += sorted(q for q in p.rglob("*") if q.suffix.lower() in DEFAULT_EXTENSIONS and q.is_file())
        else:
            found.append(p)
    return found


def preview_views(
    files: Sequence[Path],
    chain: Compose,
    out_dir: str | Path,
    sample_rate: int,
    views: int = 4,
    seconds: float = 10.0,
    seed: int = 0,
    figure: bool = True,
    progress: bool = True,
) -> dict:
    """Write `views` augmented versions of the first `seconds` of each file (WAV, float) and a
    log-mel picture per file to `out_dir`. Unreadable files are skipped and listed."""
    from audiorep.io.audio import audio_info, load_audio

    if views < 1:
        raise ConfigError(f"views must be at least 1, got {views}")
    check_waveform_chain(chain)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(seed)
    written, skipped, stems = [], [], set()
    iterator = files
    if progress:
        from tqdm import tqdm

        iterator = tqdm(files, desc="augment", unit="file", disable=not sys.stderr.isatty())
    for path in iterator:
        try:
            length_s = audio_info(path).duration_s
            if length_s <= 0:
                raise AudioFileError(str(path), "no samples")
            audio = load_audio(path, sample_rate, duration_s=min(seconds, length_s))  # decodes only that much
        except AudioFileError as err:
            skipped.append(str(err))
            continue
        x = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
        with torch.no_grad():
            out = chain(x.expand(views, -1).clone(), generator)
        stem = path.stem
        while stem in stems:  # two inputs with one name (from different folders)
            stem = f"{stem}-{len(stems)}"
        stems.add(stem)
        for k, view in enumerate(out):
            sf.write(out_dir / f"{stem}_view{k}.wav", view.numpy(), sample_rate, subtype="FLOAT")
        row = {"file": str(path), "views": [str(out_dir / f"{stem}_view{k}.wav") for k in range(views)]}
        if figure:
            row["figure"] = str(draw_views(x, out, sample_rate, out_dir / f"{stem}_views.png", title=os.fspath(path)))
        written.append(row)
    return {"written": written, "skipped": skipped, "out_dir": str(out_dir)}


def check_waveform_chain(chain: Compose) -> None:
    """Previews run on waveforms: refuse a chain with log-mel ops, naming them."""
    spectral = [type(op).__name__ for op in chain.modules() if getattr(op, "input_dims", 2) == 3]
    if spectral:
        raise ConfigError(f"the chain has log-mel ops ({', '.join(spectral)}); preview a waveform chain (e.g. wave_augment)")


def draw_views(original: torch.Tensor, views: torch.Tensor, sample_rate: int, path: Path, title: str = "") -> Path:
    """Log-mel of the original (top) and of each view, on one colour scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from audiorep.frontend.log_mel import LogMel

    log_mel = LogMel(sample_rate, f_max=min(7800.0, sample_rate / 2 - 100))
    rows = [("original", original)] + [(f"view {k}", v) for k, v in enumerate(views)]
    mels = [log_mel(w.float()[None])[0] * (10 / np.log(10)) for _, w in rows]  # natural log -> dB
    top = max(float(m.max()) for m in mels)
    longest = max(w.shape[-1] for _, w in rows) / sample_rate
    fig, axes = plt.subplots(len(rows), 1, figsize=(8, 1.6 * len(rows) + 0.4), squeeze=False)
    for ax, (name, wave), mel in zip(axes[:, 0], rows, mels):
        ax.imshow(mel.numpy(), origin="lower", aspect="auto", cmap="magma", vmin=top - 80, vmax=top,
                  extent=(0, wave.shape[-1] / sample_rate, 0, mel.shape[0]))
        ax.set_xlim(0, longest)
        ax.set_ylabel(name, fontsize=8)
        ax.set_yticks([])
    axes[-1, 0].set_xlabel("seconds")
    if title:
        axes[0, 0].set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
