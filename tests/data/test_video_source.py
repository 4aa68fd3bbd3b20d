"""Video files as a source: aligned audio and frames, seeking, and bad files skipped and counted.

Every video is written here with PyAV: a tone that switches from 440 to 880 Hz at 1.5 s, a white
square moving right at 16 px/s, and the frame's own index written as 8 binary blocks along the
top, so a test can read which source frame a decoded frame came from."""

from __future__ import annotations

import av
import numpy as np
import pytest
from torch.utils.data import DataLoader

from audiorep.data.dataset import ClipDataset, collate_clips
from audiorep.data.video_source import VideoSource
from audiorep.errors import AudioFileError, ConfigError
from audiorep.io import video as video_io
from audiorep.io.audio import crop_window
from audiorep.io.video import load_av_clip, load_av_crop, probe_av

SWITCH_S = 1.5


def square_x(t: float) -> float:
    """Left edge of the 8-px square (64-px frame) at time t."""
    return 4.0 + 16.0 * t


def draw(k: int, fps: float, width: int, height: int) -> np.ndarray:
    img = np.zeros((height, width, 3), np.uint8)
    for bit in range(8):  # frame index k in binary: block `bit` lit when that bit is set
        if k >> bit & 1:
            img[:8, 8 * bit : 8 * bit + 8] = 255
    x = round(square_x(k / fps))
    img[28:36, x : x + 8] = 255
    return img


def tone(n: int, rate: int) -> np.ndarray:
    t = np.arange(n) / rate
    return (0.5 * np.where(t < SWITCH_S, np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 880 * t))).astype(np.float32)


def write_video(path, seconds=3.0, *, fps=25, width=64, height=64, rate=44100, audio=True, video=True,
                gop=None, frames=draw, vcodec="libx264", acodec="aac", layout="mono"):
    """A video file (H.264 + AAC unless told; container from the suffix); `gop`: keyframe interval."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        if video:
            vs = out.add_stream(vcodec, rate=fps)
            vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
            if vcodec == "libx264":
                vs.options = {"crf": "12", "preset": "ultrafast", **({"g": str(gop)} if gop else {})}
            else:
                vs.bit_rate = 2_000_000
        if audio:
            aus = out.add_stream(acodec, rate=rate)
            aus.layout = layout
        if video:
            for k in range(round(seconds * fps)):
                frame = av.VideoFrame.from_ndarray(frames(k, fps, width, height), format="rgb24")
                frame.pts = k
                out.mux(vs.encode(frame))
            out.mux(vs.encode())
        if audio:
            x = tone(round(seconds * rate), rate)
            x = np.stack([x] * (2 if layout == "stereo" else 1))
            for s in range(0, x.shape[1], 1024):
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(x[:, s : s + 1024]), format="fltp", layout=layout)
                frame.sample_rate, frame.pts = rate, s
                out.mux(aus.encode(frame))
            out.mux(aus.encode())
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """One good 3-s clip and the bad files, in a folder (and a 3-s Matroska copy for truncation)."""
    root = tmp_path_factory.mktemp("videos")
    good = write_video(root / "good.mp4")
    write_video(root / "no_audio.mp4", 1.0, audio=False)
    data = good.read_bytes()
    (root / "truncated.mp4").write_bytes(data[: int(0.4 * len(data))])
    (root / "text.mp4").write_text("this is not a video\n" * 20)
    mkv = write_video(tmp_path_factory.mktemp("mkv") / "good.mkv")
    return {"root": root, "good": good, "mkv": mkv}


def read_index(frame: np.ndarray) -> int:
    """The source frame index written in the top blocks of a [3, 32, 32] frame."""
    gray = frame.mean(axis=0)
    return sum(1 << bit for bit in range(8) if gray[1, 4 * bit + 2] > 128)


def square_centre(frame: np.ndarray) -> float:
    """Column of the square's centre in a [3, 32, 32] frame (below the index blocks)."""
    cols = frame[:, 6:, :].mean(axis=(0, 1))
    return float((cols * np.arange(len(cols))).sum() / cols.sum())


def switch_time(x: np.ndarray, rate: int) -> float:
    """Centre of the first 25-ms window where 880 Hz outweighs 440 Hz."""
    t = np.arange(int(0.025 * rate)) / rate
    for start in range(0, len(x) - len(t), int(0.0025 * rate)):
        w = x[start : start + len(t)]
        if abs(w @ np.exp(-2j * np.pi * 880 * t)) > abs(w @ np.exp(-2j * np.pi * 440 * t)):
            return (start + len(t) / 2) / rate
    raise AssertionError("no switch to 880 Hz found")


def test_probe_reads_the_header(videos):
    assert probe_av(videos["good"]) == pytest.approx((3.0, True, True), abs=0.03)
    duration, has_audio, has_video = probe_av(videos["root"] / "no_audio.mp4")
    assert (has_audio, has_video) == (False, True) and duration == pytest.approx(1.0, abs=0.05)
    for name in ("truncated.mp4", "text.mp4"):
        with pytest.raises(AudioFileError, match="not a media file, or truncated"):
            probe_av(videos["root"] / name)


def test_audio_and_frames_are_aligned_in_time(videos):
    """A window from 1.0 s: the tone switches 0.5 s in, and frame j shows the source frame at or
    before 1.0 + (j + 0.5) / 8 s, with the square where it was then."""
    for path in (videos["good"], videos["mkv"]):
        audio, frames = load_av_clip(path, 16000, offset_s=1.0, duration_s=1.0, size=32, fps=8)
        assert audio.dtype == np.float32 and audio.shape == (16000,)
        assert frames.dtype == np.uint8 and frames.shape == (8, 3, 32, 32)
        assert switch_time(audio, 16000) == pytest.approx(SWITCH_S - 1.0, abs=0.01)
        assert np.sqrt(np.mean(audio**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.1)  # level survives AAC + soxr
        for j, frame in enumerate(frames):
            t = 1.0 + (j + 0.5) / 8
            assert read_index(frame) == int(np.floor(t * 25)), j
            # the square's centre, scaled from 64 to 32 px: within a pixel of where it was at t
            assert square_centre(frame) == pytest.approx((square_x(t) + 4) / 2 - 0.5, abs=1.0), j


@pytest.mark.parametrize("name,vcodec,acodec,rate,layout", [
    ("clip.webm", "libvpx", "libopus", 48000, "stereo"),  # float samples, Matroska timing
    ("clip.avi", "mpeg4", "pcm_s16le", 22050, "stereo"),  # packed int16 samples, no per-frame pts in AVI
    ("clip.mov", "libx264", "aac", 32000, "mono"),
])
def test_other_containers_and_sample_formats(tmp_path, name, vcodec, acodec, rate, layout):
    path = write_video(tmp_path / name, 2.0, rate=rate, vcodec=vcodec, acodec=acodec, layout=layout)
    audio, frames = load_av_clip(path, 16000, offset_s=1.0, duration_s=0.75, size=32, fps=8)
    assert audio.shape == (12000,) and frames.shape == (6, 3, 32, 32)
    assert switch_time(audio, 16000) == pytest.approx(SWITCH_S - 1.0, abs=0.01)
    assert np.sqrt(np.mean(audio**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.15)
    assert [read_index(f) for f in frames] == [int(np.floor((1.0 + (j + 0.5) / 8) * 25)) for j in range(6)]


def test_source_crops_audio_and_video_at_one_place(videos):
    src = VideoSource(videos["root"], sample_rate=16000, video_size=32, video_fps=8)
    good = [r.meta["relpath"] for r in src.records].index("good.mp4")
    centre = src.load_fields(good, 1.0, crop="center")  # (3 s - 1 s) / 2: the window starts at 1.0 s
    audio, frames = load_av_clip(videos["good"], 16000, 1.0, 1.0, 32, 8)
    np.testing.assert_array_equal(centre["video"], frames)
    np.testing.assert_allclose(centre["audio"], audio, atol=1e-6)
    total = int(np.floor(probe_av(videos["good"]).duration_s * 16000))
    for seed in range(4):  # random crops: frames and audio from the window crop_window drew
        start = crop_window(total, 16000, "random", np.random.default_rng(seed))[0] / 16000
        fields = src.load_fields(good, 1.0, np.random.default_rng(seed))
        assert [read_index(f) for f in fields["video"]] == [int(np.floor((start + (j + 0.5) / 8) * 25)) for j in range(8)]
        if 0.05 < SWITCH_S - start < 0.95:
            assert switch_time(fields["audio"], 16000) == pytest.approx(SWITCH_S - start, abs=0.01)
        np.testing.assert_allclose(src.load(good, 1.0, np.random.default_rng(seed)), fields["audio"], atol=1e-6)
    at_8k = src.load(good, 0.5, crop="start", sample_rate=8000)
    assert at_8k.shape == (4000,)


def test_short_file_is_padded_with_silence_and_black(videos):
    audio, frames = load_av_crop(videos["good"], 16000, 4.0, 32, 8, position="start")
    assert audio.shape == (64000,) and frames.shape == (32, 3, 32, 32)
    assert np.abs(audio[49000:]).max() == 0 and frames[25:].max() == 0  # past the 3.0-s end
    assert frames[23].max() > 240 and np.abs(audio[:47000]).max() > 0.3
    audio, frames = load_av_clip(videos["good"], 16000, offset_s=-0.5, duration_s=1.0, size=32, fps=8)
    assert np.abs(audio[:7900]).max() == 0 and np.abs(audio[8200:]).max() > 0.3
    assert frames[:4].max() == 0 and read_index(frames[4]) == 1  # slot 4 is at 0.0625 s: frame 1


def test_wide_frames_are_centre_cropped(tmp_path):
    """A 144x48 video, red | green | blue in thirds: the centred 48x48 square is the green third."""
    def thirds(k, fps, width, height):
        img = np.zeros((height, width, 3), np.uint8)
        for c in range(3):
            img[:, c * width // 3 : (c + 1) * width // 3, c] = 255
        return img

    path = write_video(tmp_path / "wide.mkv", 0.5, fps=10, width=144, height=48, frames=thirds)
    _, frames = load_av_clip(path, 16000, 0.0, 0.5, size=16, fps=4)
    assert frames.shape == (2, 3, 16, 16)
    centre = frames[:, :, 2:-2, 2:-2].astype(int)
    assert (centre[:, 1] > 200).all() and (centre[:, 0] < 50).all() and (centre[:, 2] < 50).all()


def test_bad_files_are_skipped_counted_and_named(videos):
    src = VideoSource(videos["root"])
    assert [r.meta["relpath"] for r in src.records] == ["good.mp4", "no_audio.mp4", "text.mp4", "truncated.mp4"]
    dataset = ClipDataset(src, 16000, clip_seconds=1.0, fields=("audio", "video"))
    batch = collate_clips([dataset[i] for i in range(len(dataset))])
    assert batch["audio"].shape == (1, 16000) and batch["video"].shape == (1, 8, 3, 32, 32)
    assert batch["video"].dtype.is_floating_point is False and batch["index"].tolist() == [0]
    errors = sorted(batch["errors"])
    assert len(errors) == 3
    assert "no_audio.mp4: no audio stream" in errors[0]
    assert "text.mp4: cannot open as a video: not a media file, or truncated" in errors[1]
    assert "truncated.mp4: cannot open as a video: not a media file, or truncated" in errors[2]
    audio_only = collate_clips([ClipDataset(src, 16000, 1.0)[i] for i in range(len(src))])
    assert audio_only["audio"].shape == (1, 16000) and len(audio_only["errors"]) == 3  # same files


def test_dataloader_workers_decode_after_the_parent_did(videos):
    """Workers fork from a parent that already decoded and scaled frames (its scaler is reused)."""
    src = VideoSource(videos["root"], video_size=16, video_fps=4)
    src.load_fields(0, 0.5)
    dataset = ClipDataset(src, 16000, clip_seconds=0.5, fields=("audio", "video"))
    loader = DataLoader(dataset, batch_size=2, num_workers=2, collate_fn=dataset.collate_fn, timeout=60)
    batches = list(loader)
    assert sum(len(b["index"]) for b in batches) == 1 and sum(len(b["errors"]) for b in batches) == 3
    assert [b["video"].shape for b in batches if len(b["index"])] == [(1, 2, 3, 16, 16)]


def test_truncated_file_with_a_readable_header_fails_where_data_is_missing(videos, tmp_path):
    """Matroska keeps its header at the front: the start of a cut file still plays, the rest is an error."""
    data = videos["mkv"].read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: int(0.4 * len(data))])
    assert probe_av(cut).duration_s == pytest.approx(3.0, abs=0.1)
    audio, frames = load_av_clip(cut, 16000, 0.0, 0.5)
    assert audio.shape == (8000,) and frames.shape == (4, 3, 32, 32)
    with pytest.raises(AudioFileError, match="truncated"):
        load_av_clip(cut, 16000, 2.0, 0.5)


def test_long_file_crop_seeks_instead_of_decoding_everything(tmp_path, monkeypatch):
    """A 1-s crop at 17 s of a 20-s file (a keyframe every second) decodes about 2 s of video."""
    path = write_video(tmp_path / "long.mp4", 20.0, fps=10, width=32, height=32, rate=8000, gop=10,
                       frames=lambda k, fps, w, h: np.full((h, w, 3), k % 256, np.uint8))
    decoded = {"audio": [], "video": []}
    real = video_io._decoded

    def counting(f, stream, from_s):
        for frame in real(f, stream, from_s):
            decoded[stream.type].append(frame.time)
            yield frame

    monkeypatch.setattr(video_io, "_decoded", counting)
    audio, frames = load_av_clip(path, 16000, offset_s=17.0, duration_s=1.0, size=8, fps=4)
    assert audio.shape == (16000,) and frames.shape == (4, 3, 8, 8)
    assert 16.0 <= min(decoded["video"]) and len(decoded["video"]) <= 22
    assert 16.5 <= min(decoded["audio"]) and len(decoded["audio"]) <= 15  # 1024-sample AAC frames
    # the content is the asked window: frame at 17.125 s is source frame 171 (gray level 171)
    assert abs(int(frames[0].mean()) - 171) <= 3


def test_source_is_lazy_and_reads_manifests(tmp_path, videos):
    manifest = tmp_path / "clips" / "manifest.csv"
    manifest.parent.mkdir()
    rows = [f"v{i}.mp4,{i % 2}" for i in range(1000)] + [f"{videos['good']},cat"]
    manifest.write_text("path,label\n" + "\n".join(rows) + "\n")
    src = VideoSource(manifest, video_size=16, video_fps=4)  # 1000 missing files: nothing is opened
    assert len(src) == 1001 and src.records[0].path == str(tmp_path / "clips" / "v0.mp4")
    assert src.records[-1].label == "cat" and src.fields == ("audio", "video")
    assert src.load_fields(1000, 0.5)["video"].shape == (2, 3, 16, 16)
    with pytest.raises(AudioFileError, match="does not exist"):
        src.load_fields(0, 0.5)
    assert len(VideoSource(videos["root"], extensions=(".mkv",))) == 0
    with pytest.raises(ConfigError, match="neither a folder"):
        VideoSource(tmp_path / "missing")
    with pytest.raises(ConfigError, match="video_size"):
        VideoSource(videos["root"], video_size=0)
