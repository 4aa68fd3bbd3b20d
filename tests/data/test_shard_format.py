"""One sample of a tar shard: what is written comes back, and a crop decoded from the FLAC's own
frames is the crop `ArraySource` cuts from the whole decoded clip (an independent route)."""

import numpy as np
import pytest

from audiorep.data.shard_format import ShardSampleError, decode_crop, decode_sample, encode_sample
from audiorep.data.sources import ArraySource


def sample(seconds=3.0, rate=16000, fps=None, peak=0.5, seed=0):
    rng = np.random.default_rng(seed)
    audio = (peak * np.sin(np.arange(int(seconds * rate)) * 0.05) * rng.uniform(0.5, 1, int(seconds * rate)))
    frames = None if fps is None else rng.integers(0, 255, (round(seconds * fps), 3, 8, 8), dtype=np.uint8)
    return audio.astype(np.float32), frames, encode_sample("000000001", audio, rate, {"label": "x"}, frames)


def test_a_sample_decodes_to_what_was_written_and_a_loud_float_clip_keeps_its_level():
    audio, frames, members = sample(fps=4.0, peak=2.5)
    out = decode_sample(members, "s.tar:1", video=True)
    assert out["sample_rate"] == 16000 and out["meta"]["label"] == "x"
    np.testing.assert_allclose(out["audio"], audio, atol=2.5 / 2 ** 15 * 2)
    assert np.array_equal(out["video"], frames)


@pytest.mark.parametrize("seconds,crop", [(1.0, "random"), (1.0, "center"), (5.0, "random"), (5.0, "start")])
def test_a_crop_decoded_from_its_own_frames_equals_the_crop_of_the_whole_clip(seconds, crop):
    _, _, members = sample(fps=4.0)
    whole = decode_sample(members, "s.tar:1", video=True)
    clip = ArraySource(whole["audio"][None], 16000, fields={"video": whole["video"][None]}, field_rates={"video": 4.0})
    for seed in range(5):
        expected = clip.load_fields(0, seconds, np.random.default_rng(seed), crop=crop)
        got = decode_crop(members, "s.tar:1", 16000, seconds, crop, np.random.default_rng(seed), video_fps=4.0)
        np.testing.assert_array_equal(got["audio"], expected["audio"])
        np.testing.assert_array_equal(got["video"], expected["video"])


def test_a_crop_of_shards_at_another_rate_is_resampled_like_the_whole_clip():
    _, _, members = sample(rate=8000)
    whole = decode_sample(members, "s.tar:1")
    expected = ArraySource(whole["audio"][None], 8000).load(0, 1.0, np.random.default_rng(3), sample_rate=16000)
    got = decode_crop(members, "s.tar:1", 16000, 1.0, "random", np.random.default_rng(3))["audio"]
    assert got.shape == expected.shape == (16000,)
    np.testing.assert_allclose(got[400:-400], expected[400:-400], atol=2e-3)  # soxr edges differ by the context


def test_broken_members_are_sample_errors_naming_the_place():
    _, _, members = sample(fps=4.0)
    for spoil, cause in [({"flac": b"nope"}, "undecodable FLAC"), ({"json": b"[1]"}, "not a JSON object"),
                         ({"frames.npz": b"PK"}, "undecodable frames"), ({"json": b'{"gain": -1}'}, "gain -1")]:
        with pytest.raises(ShardSampleError, match=f"s.tar:1: .*{cause}"):
            decode_crop({**members, **spoil}, "s.tar:1", 16000, 1.0, video_fps=4.0)
    with pytest.raises(ShardSampleError, match="no 'frames.npz' member"):
        decode_crop({k: v for k, v in members.items() if k != "frames.npz"}, "s.tar:1", 16000, 1.0, video_fps=4.0)
