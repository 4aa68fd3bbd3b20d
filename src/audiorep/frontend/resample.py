"""Batched band-limited resampling on the training device (rfft, trim or zero-pad the
spectrum, irfft), for moving a batch between the encoder's rate and a separator's rate
without leaving the device. Per-clip loading uses soxr instead (`audiorep.io.audio`)."""

from __future__ import annotations

import torch


def fft_resample(x: torch.Tensor, orig_rate: int, new_rate: int) -> torch.Tensor:
    """[..., T] at orig_rate -> [..., round(T * new / orig)] at new_rate."""
    if orig_rate == new_rate:
        return x
    n_in = x.shape[-1]
    n_out = int(round(n_in * new_rate / orig_rate))
    spectrum = torch.fft.rfft(x.float(), dim=-1)
    bins_out = n_out // 2 + 1
    if bins_out <= spectrum.shape[-1]:
        spectrum = spectrum[..., :bins_out]
        if n_out % 2 == 0:  # +/- components fold onto the new Nyquist bin, which must be real
            spectrum = spectrum.clone()
            spectrum[..., -1] = 2 * spectrum[..., -1].real
    else:
        pad = spectrum.new_zeros(spectrum.shape[:-1] + (bins_out - spectrum.shape[-1],))
        if n_in % 2 == 0:  # the old Nyquist bin is shared by +/- frequencies: split it
            spectrum = spectrum.clone()
            spectrum[..., -1] = spectrum[..., -1] / 2
        spectrum = torch.cat([spectrum, pad], dim=-1)
    return torch.fft.irfft(spectrum, n=n_out, dim=-1) * (n_out / n_in)
