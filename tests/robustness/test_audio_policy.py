"""One sample policy for every reader: each kind of bad file in the hostile corpus raises
`AudioFileError` naming the file, with a cause that says what is wrong, from a whole-file load
and from a crop alike; every good file beside them loads finite. The audio track of a video
follows the same policy."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from audiorep.errors import AudioFileError
from audiorep.io.audio import MAX_ABS_AMPLITUDE, check_samples, load_audio, load_crop

sys.path.insert(0, str(Path(__file__).parent))
from corpus import write_bad_audio, write_good_audio  # noqa: E402


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    return write_bad_audio(root / "bad"), write_good_audio(root / "good", 4)


def _check(err: AudioFileError, path: Path, cause: str) -> None:
    assert err.path == str(path) and str(path) in str(err), str(err)
    assert re.search(cause, err.cause, re.IGNORECASE), f"{path.name}: {err.cause!r} does not match {cause!r}"


def test_every_bad_kind_raises_a_named_error_from_load_audio_and_load_crop(corpus):
    bad, _ = corpus
    for kind, (path, cause) in bad.items():
        # crops that read the damaged samples (the corpus damages the first 0.1 s, or all of it)
        for load in (lambda p: load_audio(p, 16000), lambda p: load_crop(p, 16000, 0.5, "start"),
                     lambda p: load_crop(p, 16000, 3.0, "random", np.random.default_rng(0))):
            with pytest.raises(AudioFileError) as caught:
                load(path)
            _check(caught.value, path, cause)
    # the policy applies to what a crop read: one far from the single -inf sample is usable
    path, _ = bad["one -inf sample"]
    assert np.isfinite(load_crop(path, 16000, 0.5, "center")).all()


def test_every_good_file_loads_finite_whole_and_cropped(corpus):
    _, good = corpus
    for path in good:
        whole = load_audio(path, 16000)
        crop = load_crop(path, 16000, 0.5, "random", np.random.default_rng(1))
        for x in (whole, crop):
            assert x.dtype == np.float32 and len(x) and np.isfinite(x).all() and np.abs(x).max() <= 1.0


def test_the_policy_names_counts_and_keeps_usable_samples():
    x = np.zeros(100, np.float32)
    assert check_samples(x, "a.wav") is x
    x[[3, 50]] = np.nan
    with pytest.raises(AudioFileError, match=r"a\.wav: holds 2 NaN samples \(non-finite\) of 100"):
        check_samples(x, "a.wav")
    y = np.full(10, MAX_ABS_AMPLITUDE * 1.01, np.float32)
    with pytest.raises(AudioFileError, match=r"peak amplitude 101, which exceeds MAX_ABS_AMPLITUDE=100"):
        check_samples(y, "b.wav")


def _write_video_with_float_audio(path: Path, audio: np.ndarray, rate: int = 16000, fps: int = 10) -> Path:
    av = pytest.importorskip("av")
    seconds = len(audio) / rate
    with av.open(str(path), "w") as out:
        vs = out.add_stream("mpeg4", rate=fps)
        vs.width, vs.height, vs.pix_fmt = 32, 32, "yuv420p"
        aus = out.add_stream("pcm_f32le", rate=rate)
        aus.layout = "mono"
        for k in range(round(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 100, np.uint8), format="rgb24")
            frame.pts = k
            out.mux(vs.encode(frame))
        out.mux(vs.encode())
        for s in range(0, len(audio), 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio[None, s : s + 1024]), format="flt",
                                               layout="mono")
            frame.sample_rate, frame.pts = rate, s
            out.mux(aus.encode(frame))
        out.mux(aus.encode())
    return path


@pytest.mark.parametrize("name,damage,cause", [("nan.mkv", np.nan, "NaN"), ("inf.mkv", -np.inf, "infinite"),
                                                ("huge.mkv", 1e6, "amplitude")])
def test_a_video_audio_track_follows_the_same_policy(tmp_path, name, damage, cause):
    from audiorep.io.video import load_av_clip

    t = np.arange(16000) / 16000
    audio = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    good = _write_video_with_float_audio(tmp_path / "good.mkv", audio)
    x, _ = load_av_clip(good, 16000, video=False)
    assert np.isfinite(x).all() and np.abs(x).max() < 0.5
    audio[8000:8010] = damage
    bad = _write_video_with_float_audio(tmp_path / name, audio)
    with pytest.raises(AudioFileError, match=cause) as caught:
        load_av_clip(bad, 16000, video=False)
    assert caught.value.path == str(bad)
    # a window that does not reach the damage reads clean
    x, _ = load_av_clip(bad, 16000, 0.0, 0.25, video=False)
    assert np.isfinite(x).all()
