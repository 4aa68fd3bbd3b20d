"""`audiorep separate` on long and bad inputs: chunked separation (bounded memory, channels
aligned across chunks, same result as one pass away from chunk edges), no NaN ever written,
no half-written file left behind, and bad files skipped and listed. Every file is written at
test time."""

import re

import numpy as np
import pytest
import soundfile as sf
import torch
from torch import nn

from audiorep.cli import main
from audiorep.errors import AudioFileError
from audiorep.io.audio import load_audio
from audiorep.io.checkpoint import save_separator
from audiorep.separation.chunked import (NonFiniteOutputError, align_channels, chunk_starts, separate_array,
                                         separate_file)
from audiorep.separation.tdcn import TDCNSeparator

RATE = 8000
TINY = dict(num_filters=32, kernel_size=16, bottleneck=16, hidden=32, blocks_per_repeat=2, repeats=1)


class LocalSeparator(nn.Module):
    """Deterministic and local: channel k is x through a fixed 41-tap filter (receptive field
    +-20 samples), the last channel the residual, so the channels sum to the input."""

    sample_rate = RATE
    num_channels = 3

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.register_buffer("taps", torch.randn(self.num_channels - 1, 1, 41, generator=g) / 8)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        filtered = nn.functional.conv1d(x.unsqueeze(1), self.taps, padding=20)  # [B, M-1, T]
        return torch.cat([filtered, (x - filtered.sum(1)).unsqueeze(1)], 1)


class PermutingSeparator(LocalSeparator):
    """The same channels, in a different order at every call (like a MixIT separator's)."""

    def forward(self, x):
        out = super().forward(x)
        return out[:, torch.roll(torch.arange(self.num_channels), self.calls)]


def _signal(seconds: float, rate: int = RATE, seed: int = 0) -> np.ndarray:
    """Sources that change over time (a chirp, bursts of noise), so channels are distinguishable."""
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(seed)
    bursts = (np.sin(2 * np.pi * 0.7 * t) > 0.3) * rng.standard_normal(t.size) * 0.2
    return (0.3 * np.sin(2 * np.pi * (200 + 40 * t) * t) + bursts).astype(np.float32)


def test_chunk_plan_covers_the_signal_with_the_overlap():
    assert chunk_starts(100, 200, 20) == [0]
    starts = chunk_starts(1000, 300, 60)
    assert starts == [0, 240, 480, 700]  # the last one moved back to end at 1000
    assert all(b - a <= 240 for a, b in zip(starts, starts[1:]))


def test_chunked_local_separator_equals_one_pass():
    x = _signal(7.3)
    sep = LocalSeparator().eval()
    chunked = separate_array(sep, x, chunk_seconds=1.0, overlap_seconds=0.2)  # 0.05 s guards > 20 samples
    assert sep.calls == len(chunk_starts(len(x), RATE, int(0.2 * RATE))) > 5
    with torch.no_grad():
        whole = sep(torch.from_numpy(x)[None])[0].numpy()
    assert chunked.shape == whole.shape == (3, len(x))
    np.testing.assert_allclose(chunked, whole, atol=1e-5, rtol=0)


def test_channels_that_permute_between_chunks_are_realigned():
    x = _signal(6.0, seed=1)
    chunked = separate_array(PermutingSeparator().eval(), x, chunk_seconds=1.0, overlap_seconds=0.2)
    sep = LocalSeparator()
    with torch.no_grad():
        whole = sep(torch.from_numpy(x)[None])[0].numpy()
    order = align_channels(whole[:, :RATE], chunked[:, :RATE])  # the first chunk's order is kept throughout
    np.testing.assert_allclose(chunked[order], whole, atol=1e-5, rtol=0)


def test_align_channels_finds_the_permutation_and_keeps_order_on_silence():
    rng = np.random.default_rng(0)
    prev = rng.standard_normal((4, 500)).astype(np.float32)
    cur = prev[[2, 0, 3, 1]] + 0.1 * rng.standard_normal((4, 500)).astype(np.float32)
    np.testing.assert_array_equal(cur[align_channels(prev, cur)], cur[[1, 3, 0, 2]])
    np.testing.assert_array_equal(align_channels(np.zeros((4, 50)), np.zeros((4, 50))), np.arange(4))


def test_chunked_tdcn_is_finite_sums_to_input_and_is_close_to_one_pass():
    torch.manual_seed(0)
    model = TDCNSeparator(num_channels=4, sample_rate=RATE, **TINY).eval()
    rng = np.random.default_rng(1)
    n = 5 * RATE
    x = (0.1 * rng.standard_normal(n) + 0.2 * np.sin(2 * np.pi * 440 * np.arange(n) / RATE)).astype(np.float32)
    chunked = separate_array(model, x, chunk_seconds=1.0, overlap_seconds=0.2)
    with torch.no_grad():
        whole = model(torch.from_numpy(x)[None])[0].numpy()
    assert chunked.shape == (4, n) and np.isfinite(chunked).all()
    np.testing.assert_allclose(chunked.sum(0), x, atol=1e-4, rtol=0)
    # a stationary signal: each chunk's normalisation statistics are close to the whole file's
    inner = slice(RATE // 10, n - RATE // 10)
    assert np.abs(chunked - whole)[:, inner].max() < 0.02 * np.abs(whole).max()


def test_separate_file_writes_the_separators_rate_and_length(tmp_path):
    x16 = _signal(4.6, rate=16000)
    sf.write(tmp_path / "long.wav", x16, 16000)
    outputs = [tmp_path / "out" / f"long_ch{k}.wav" for k in range(3)]
    outputs[0].parent.mkdir()
    result = separate_file(LocalSeparator().eval(), tmp_path / "long.wav", outputs, chunk_seconds=1.0,
                           overlap_seconds=0.25)
    assert result.report.chunks >= 5 and result.output_rate == RATE and result.input_rate == 16000
    waves = []
    for p in outputs:
        wave, rate = sf.read(p, dtype="float32")
        assert rate == RATE and len(wave) == round(len(x16) / 2) and np.isfinite(wave).all()
        waves.append(wave)
    assert sorted(p.name for p in outputs[0].parent.iterdir()) == [p.name for p in outputs]  # no temp files left
    x8 = load_audio(tmp_path / "long.wav", RATE)  # the whole file resampled in one pass
    np.testing.assert_allclose(np.sum(waves, 0), x8, atol=1e-4, rtol=0)  # the channels still sum to the input


class FailsAtChunk(LocalSeparator):
    def __init__(self, at: int, error=None):
        super().__init__()
        self.at, self.error = at, error

    def forward(self, x):
        out = super().forward(x)
        if self.calls == self.at:
            if self.error is not None:
                raise self.error
            out = out.clone()
            out[0, 1, 5] = float("nan")
        return out


@pytest.mark.parametrize("error", [None, KeyboardInterrupt()])
def test_a_failure_mid_file_leaves_no_partial_output_and_keeps_earlier_results(tmp_path, error):
    sf.write(tmp_path / "in.wav", _signal(5.0), RATE)
    out = tmp_path / "out"
    out.mkdir()
    outputs = [out / f"in_ch{k}.wav" for k in range(3)]
    outputs[0].write_bytes(b"an earlier complete result")
    with pytest.raises(NonFiniteOutputError if error is None else KeyboardInterrupt) as info:
        separate_file(FailsAtChunk(3, error), tmp_path / "in.wav", outputs, chunk_seconds=1.0, overlap_seconds=0.2)
    if error is None:
        assert "NaN/inf" in info.value.cause and isinstance(info.value, AudioFileError)
    assert sorted(p.name for p in out.iterdir()) == ["in_ch0.wav"]
    assert outputs[0].read_bytes() == b"an earlier complete result"


def _checkpoint(tmp_path, num_channels: int = 2):
    torch.manual_seed(0)
    path = tmp_path / "sep.pt"
    save_separator(path, TDCNSeparator(num_channels=num_channels, sample_rate=RATE, **TINY))
    return path


def _write_bad(folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.wav").write_bytes(b"")
    (folder / "corrupt.wav").write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    sf.write(folder / "all_nan.wav", np.full(RATE, np.nan, np.float32), RATE, subtype="FLOAT")
    return {"empty.wav": "empty", "corrupt.wav": "unreadable|corrupt", "all_nan.wav": "NaN"}


def test_a_folder_of_good_and_bad_files_separates_the_good_and_lists_the_bad(tmp_path, capsys):
    data = tmp_path / "mixed"
    bad = _write_bad(data)
    sf.write(data / "speech.wav", _signal(2.5, 16000), 16000)
    (data / "sub").mkdir()
    sf.write(data / "sub" / "music.flac", _signal(3.1, 8000, seed=2), 8000)
    out = tmp_path / "out"
    assert main(["separate", "--checkpoint", str(_checkpoint(tmp_path)), "--out", str(out), "--chunk-seconds", "1",
                 str(data)]) == 0
    printed = capsys.readouterr().out
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == ["mixed/speech_ch0.wav", "mixed/speech_ch1.wav", "mixed/sub/music_ch0.wav",
                       "mixed/sub/music_ch1.wav"]
    for p in out.rglob("*.wav"):
        wave, rate = sf.read(p, dtype="float32")
        assert rate == RATE and np.isfinite(wave).all()
    assert "separated 2 of 5 inputs" in printed and "at 8000 Hz (the separator's rate" in printed
    assert "16000 Hz were resampled" in printed
    summary = printed[printed.index("skipped 3 unusable inputs:"):]
    for name, cause in bad.items():
        line = next(line for line in summary.splitlines() if name in line)
        assert re.search(cause, line), line


def test_only_bad_inputs_fail_with_one_clear_message(tmp_path, capsys):
    bad = _write_bad(tmp_path / "bad")
    inputs = [str(tmp_path / "bad" / name) for name in bad]
    assert main(["separate", "--checkpoint", str(_checkpoint(tmp_path)), "--out", str(tmp_path / "out"), *inputs]) == 1
    captured = capsys.readouterr()
    assert captured.err.count("error") == 1 and "no usable input: all 3 inputs failed" in captured.err
    assert all(name in captured.out for name in bad)
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    # a path that does not exist is a mistyped argument: refused before anything is separated
    assert main(["separate", "--checkpoint", str(_checkpoint(tmp_path)), "--out", str(tmp_path / "out2"), *inputs,
                 str(tmp_path / "missing.wav")]) == 2
    assert "missing.wav' does not exist" in capsys.readouterr().err and not (tmp_path / "out2").exists()


def test_absurd_levels_never_reach_a_wav(tmp_path, capsys):
    """Finite but absurd samples (+-1e30) are refused by the loader or, failing that, caught as
    non-finite separator output: either way no NaN file, and the good file beside it is kept."""
    sf.write(tmp_path / "huge.wav", _signal(2.0) * 1e30, RATE, subtype="FLOAT")
    sf.write(tmp_path / "fine.wav", _signal(2.0), RATE)
    out = tmp_path / "out"
    assert main(["separate", "--checkpoint", str(_checkpoint(tmp_path)), "--out", str(out), "--chunk-seconds", "1",
                 str(tmp_path / "huge.wav"), str(tmp_path / "fine.wav")]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["fine_ch0.wav", "fine_ch1.wav"]
    assert "huge.wav" in capsys.readouterr().out.split("skipped 1 unusable input:")[1]


def test_two_inputs_with_one_output_name_do_not_overwrite_each_other(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    sf.write(tmp_path / "a" / "x.wav", _signal(1.0), RATE)
    sf.write(tmp_path / "b" / "x.flac", _signal(1.0, seed=3), RATE)
    out = tmp_path / "out"
    assert main(["separate", "--checkpoint", str(_checkpoint(tmp_path)), "--out", str(out),
                 str(tmp_path / "a" / "x.wav"), str(tmp_path / "b" / "x.flac")]) == 0
    assert "would overwrite those of" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["x_ch0.wav", "x_ch1.wav"]


def test_impossible_chunk_settings_are_refused_before_any_work(tmp_path, capsys):
    sf.write(tmp_path / "fine.wav", _signal(1.0), RATE)
    base = ["separate", "--checkpoint", str(_checkpoint(tmp_path)), "--out", str(tmp_path / "out"),
            str(tmp_path / "fine.wav")]
    with pytest.raises(SystemExit):
        main([*base, "--chunk-seconds", "nan"])
    assert "--chunk-seconds" in capsys.readouterr().err
    assert main([*base, "--chunk-seconds", "2", "--overlap-seconds", "1.5"]) == 2
    assert "at most half the chunk" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
