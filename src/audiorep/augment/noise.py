"""Additive noise at a target signal-to-noise ratio: coloured noise, and background clips."""

from __future__ import annotations

from pathlib import Path

import torch

from audiorep.augment.base import BatchAugmentation, device_generator, signal_power
from audiorep.augment.random_draws import as_range, randint, uniform
from audiorep.data.sources import FolderSource, ManifestSource
from audiorep.errors import AudioFileError, ConfigError

#: power spectral density slope: PSD ~ 1 / f^alpha
NOISE_COLORS = {"white": 0.0, "pink": 1.0, "brown": 2.0}


def scale_to_snr(signal: torch.Tensor, noise: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
    """Scale `noise` [B, T] so that 10 log10(P_signal / P_noise) equals `snr_db` [B] exactly."""
    ratio = signal_power(signal) / (signal_power(noise) * torch.pow(10.0, snr_db[:, None] / 10.0))
    return noise * ratio.sqrt().to(noise.dtype)


def colored_noise(alpha: torch.Tensor, length: int, generator: torch.Generator) -> torch.Tensor:
    """[B, length] noise with PSD ~ 1/f^alpha per example (alpha [B] on the target device).

    White noise is shaped in the frequency domain; DC is removed so brown noise does not
    drift. Unit scale is irrelevant: callers rescale to an SNR.
    """
    device = alpha.device
    white = torch.randn(alpha.shape[0], length, generator=generator, device=device)
    if bool((alpha == 0).all()):
        return white
    spectrum = torch.fft.rfft(white, dim=-1)
    freqs = torch.arange(spectrum.shape[-1], device=device, dtype=torch.float32).clamp_min(1.0)
    shape = torch.pow(freqs[None, :], -alpha[:, None] / 2.0)
    shape[:, 0] = 0.0
    return torch.fft.irfft(spectrum * shape, n=length, dim=-1)


class ColoredNoise(BatchAugmentation):
    """Add white, pink or brown noise at an SNR drawn uniformly from `snr_db` = [low, high].

    Each example draws its own colour from `colors` and its own SNR; the SNR is exact
    (measured on the clip itself, not an estimate).
    """

    def __init__(self, snr_db=(5.0, 30.0), colors=("white", "pink", "brown"), p: float = 1.0):
        super().__init__(p)
        self.snr_db = as_range(snr_db, "snr_db")
        colors = [colors] if isinstance(colors, str) else list(colors)
        unknown = [c for c in colors if c not in NOISE_COLORS]
        if unknown or not colors:
            raise ValueError(f"colors must be a non-empty list from {sorted(NOISE_COLORS)}, got {colors!r}")
        self.colors = colors
        self.register_buffer("alphas", torch.tensor([NOISE_COLORS[c] for c in colors]), persistent=False)

    def transform(self, x, generator):
        batch, length = x.shape
        snr = uniform(batch, self.snr_db, generator).to(x.device, torch.float32)
        color = randint(batch, len(self.colors), generator)
        alpha = self.alphas.to(x.device)[color.to(x.device)]
        noise = colored_noise(alpha, length, device_generator(generator, x.device))
        return x + scale_to_snr(x, noise, snr).to(x.dtype)

    def extra_repr(self) -> str:
        return f"snr_db={list(self.snr_db)}, colors={self.colors}, p={self.p}"


def wrapped_windows(bank: torch.Tensor, length: int) -> torch.Tensor:
    """View [N, T_bank, length] of every `length`-sample excerpt of each bank clip, wrapping
    around its end: window [n, o] is bank[n, (o + t) % T_bank].

    The clips are tiled once to T_bank + length - 1 samples and unfolded (a view, no copy),
    so picking B excerpts copies B x length samples; indexing with (offset + t) % T_bank
    built and gathered a [B, length] int64 index, 3x slower than audiomentations per clip.
    """
    bank_length = bank.shape[-1]
    repeats = -(-(bank_length + length - 1) // bank_length)
    tiled = bank.repeat(1, repeats)[:, : bank_length + length - 1]
    return tiled.unfold(-1, length, 1)


class BackgroundMix(BatchAugmentation):
    """Mix a random excerpt of a background clip into each example at an SNR in `snr_db`.

    The clips come from `path` in a recipe (a folder of audio files or a manifest CSV: the
    first `seconds` of up to `max_clips` files, read once when the chain is built, unusable
    files skipped), or from a bank tensor [N, T_bank] given at construction or with
    `set_bank`. Excerpts start at a random offset and wrap around clips shorter than the
    batch's clips.
    """

    def __init__(self, snr_db=(0.0, 20.0), bank: torch.Tensor | None = None, p: float = 1.0, path: str | None = None,
                 seconds: float = 5.0, max_clips: int = 256, sample_rate: int = 16000):
        super().__init__(p)
        self.snr_db = as_range(snr_db, "snr_db")
        self.register_buffer("bank", None, persistent=False)
        if path is not None:
            bank = load_bank(path, sample_rate, seconds, max_clips)
        if bank is not None:
            self.set_bank(bank)

    def set_bank(self, bank: torch.Tensor) -> "BackgroundMix":
        bank = torch.as_tensor(bank, dtype=torch.float32)
        if bank.dim() != 2 or bank.shape[0] == 0 or bank.shape[1] == 0:
            raise ValueError(f"background bank must be a non-empty [clips, samples] tensor, got {tuple(bank.shape)}")
        self.bank = bank
        return self

    def transform(self, x, generator):
        if self.bank is None:
            raise ConfigError("background: no background clips; give `path` (a folder or manifest) in the recipe, "
                              "or call set_bank(tensor[clips, samples]) before use")
        batch, length = x.shape
        n_clips, bank_length = self.bank.shape
        snr = uniform(batch, self.snr_db, generator).to(x.device, torch.float32)
        clip = randint(batch, n_clips, generator).to(x.device)
        offset = randint(batch, bank_length, generator).to(x.device)
        noise = wrapped_windows(self.bank.to(x.device), length)[clip, offset]  # one copy of B x T samples
        return x + scale_to_snr(x, noise, snr).to(x.dtype)

    def extra_repr(self) -> str:
        size = None if self.bank is None else tuple(self.bank.shape)
        return f"snr_db={list(self.snr_db)}, bank={size}, p={self.p}"


def load_bank(path, sample_rate: int, seconds: float, max_clips: int) -> torch.Tensor:
    """[clips, seconds * rate]: the first `seconds` of each file (zero-padded) of a folder or manifest."""
    where = Path(path)
    if not where.exists():
        raise ConfigError(f"background: {path} does not exist (give a folder of audio files or a manifest .csv)")
    source = FolderSource(where, sample_rate=sample_rate) if where.is_dir() else ManifestSource(where, sample_rate=sample_rate)
    clips, skipped = [], []
    for i in range(min(len(source), max_clips)):
        try:
            clips.append(torch.from_numpy(source.load(i, seconds, crop="start")))
        except AudioFileError as err:
            skipped.append(str(err))
    if not clips:
        raise ConfigError(f"background: no usable audio in {path}" + (f" ({skipped[0]})" if skipped else ""))
    return torch.stack(clips)
