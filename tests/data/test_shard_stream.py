"""Tar shards: which shards a path names (`ShardSource`) and the endless stream of crops read from
them (`ShardStream`): each sample once per epoch, disjoint across ranks and workers, bad shards
and samples as error items, video aligned with the audio, and the resume bound."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import webdataset as wds
from torch.utils.data import DataLoader

from audiorep.data import shard_stream
from audiorep.data.dataset import collate_clips
from audiorep.data.shard_format import FORMAT, INDEX_NAME, encode_sample, sample_key
from audiorep.data.shard_source import ShardSource
from audiorep.data.shard_stream import ShardStream, items_before
from audiorep.errors import ConfigError

RATE = 8000


def _audio(key: int, seconds: float, tone: bool = True) -> np.ndarray:
    """A ramp from 0 to 0.9 (alone, its value says where a crop starts) plus a key-dependent tone."""
    n = int(round(seconds * RATE))
    ramp = 0.9 * np.arange(n) / n
    return (ramp + 0.05 * np.sin(np.arange(n) * (0.1 + key / 100)) if tone else ramp).astype(np.float32)


def write_shards(folder, n_shards=4, per_shard=3, *, seconds=0.5, video=None, index=True, complete=True,
                 first_key=0, samples=None):
    """`n_shards` tars of `per_shard` samples with keys first_key, first_key+1, ...; with `video`
    = {"size", "fps"} every pixel of frame f is f and the audio a pure ramp. `samples(key, sample)`
    may rewrite a sample's members before it is written."""
    folder.mkdir(parents=True, exist_ok=True)
    shards, key = [], first_key
    for s in range(n_shards):
        name = f"shard-{s:06d}.tar"
        with wds.TarWriter(str(folder / name)) as writer:
            for _ in range(per_shard):
                frames = None
                if video:
                    f = int(round(seconds * video["fps"]))
                    frames = np.broadcast_to(np.arange(f, dtype=np.uint8)[:, None, None, None],
                                             (f, 3, video["size"], video["size"])).copy()
                audio = _audio(key, seconds, tone=not video)
                sample = encode_sample(sample_key(key), audio, RATE, {"path": f"c{key}.wav"}, frames)
                writer.write(samples(key, sample) if samples else sample)
                key += 1
        shards.append({"name": name, "samples": per_shard, "seconds": per_shard * seconds})
    if index:
        (folder / INDEX_NAME).write_text(json.dumps({
            "format": FORMAT, "sample_rate": RATE, "video": video, "fields": ["audio", "video"] if video else ["audio"],
            "shards": shards, "samples": n_shards * per_shard, "seconds": n_shards * per_shard * seconds,
            "complete": complete}))
    return folder


def keys(items):
    return [it["index"] for it in items]


def take(stream, n):
    return list(itertools.islice(iter(stream), n))


def test_items_before_counts_the_batches_each_worker_made():
    assert items_before(0, 4, 0, 0) == 0
    assert items_before(5, 4, 0, 0) == 20  # no workers: the main process made every batch
    assert [items_before(5, 2, 2, w) for w in (0, 1)] == [6, 4]  # batches 0,2,4 and 1,3
    assert [items_before(7, 1, 3, w) for w in (0, 1, 2)] == [3, 2, 2]
    assert [items_before(1, 8, 4, w) for w in range(4)] == [8, 0, 0, 0]


def test_folder_brace_list_and_single_file_resolve_to_shards(tmp_path):
    folder = write_shards(tmp_path / "a")
    src = ShardSource(folder)
    assert [u.rsplit("/", 1)[1] for u in src.urls] == [f"shard-{i:06d}.tar" for i in range(4)]
    assert src.counts == [3] * 4 and len(src) == 12 and src.shard_rate == RATE and src.sample_rate == 16000
    brace = ShardSource(str(folder / "shard-{000001..000002}.tar"))
    assert brace.urls == src.urls[1:3] and len(brace) == 6  # the index beside them, restricted to them
    single = ShardSource(folder / "shard-000003.tar")
    assert single.urls == src.urls[3:] and len(single) == 3
    other = write_shards(tmp_path / "b", n_shards=2, first_key=100)
    both = ShardSource([str(folder), str(other / "shard-000000.tar")], epoch_samples=7)
    assert len(both.urls) == 5 and both.counts == [3] * 5 and len(both) == 7  # epoch_samples wins
    assert "5 shards" in repr(both)
    with pytest.raises(ConfigError, match="does not exist"):
        ShardSource(folder / "nope.tar")
    with pytest.raises(ConfigError, match="2 of which do not exist"):
        ShardSource(str(folder / "shard-{000003..000005}.tar"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no .tar files"):
        ShardSource(tmp_path / "empty")


def test_len_needs_an_index_or_epoch_samples(tmp_path):
    folder = write_shards(tmp_path / "s", index=False)
    url = "https://example.org/shards/shard-{000000..000009}.tar"
    for path in (url, folder):
        with pytest.raises(ConfigError, match="data.shards.epoch_samples"):
            ShardSource(path)
    src = ShardSource(url, epoch_samples=100)
    assert len(src.urls) == 10 and src.counts == [None] * 10 and len(src) == 100 and src.shard_rate is None


def test_index_checks_name_the_path_and_the_cause(tmp_path):
    folder = write_shards(tmp_path / "s", complete=False)
    with pytest.warns(UserWarning, match="not complete"):
        assert len(ShardSource(folder)) == 12
    (folder / "shard-000099.tar").write_bytes(b"half written")
    with pytest.warns(UserWarning) as warned:
        assert len(ShardSource(folder).urls) == 4
    assert any("1 .tar file(s) not in index.json are ignored" in str(w.message) for w in warned)
    index = json.loads((folder / INDEX_NAME).read_text())
    (folder / INDEX_NAME).write_text(json.dumps({**index, "format": "other/9", "complete": True}))
    with pytest.raises(ConfigError, match="other/9"):
        ShardSource(folder)
    audio_only = write_shards(tmp_path / "a")
    with pytest.raises(ConfigError, match="hold none"):
        ShardSource(audio_only, fields=("audio", "video"), video_size=16, video_fps=8)
    with pytest.raises(ConfigError, match="sources"):
        ShardSource(audio_only, fields=("audio", "sources"))
    av = write_shards(tmp_path / "v", n_shards=2, video={"size": 16, "fps": 8.0})
    with pytest.raises(ConfigError, match="16px.*data.video.size is 32"):
        ShardSource(av, fields=("audio", "video"), video_size=32, video_fps=8.0)
    with pytest.raises(ConfigError, match="8 fps.*data.video.fps is 4"):
        ShardSource(av, fields=("audio", "video"), video_size=16, video_fps=4.0)


@pytest.mark.parametrize("num_workers", [0, 2])
def test_each_sample_once_per_epoch_with_workers(tmp_path, num_workers):
    src = ShardSource(write_shards(tmp_path / "s", n_shards=4, per_shard=3))  # 16 kHz crops of 8 kHz shards
    stream = ShardStream(src, 0.25, seed=3, shuffle_buffer=2, batch_size=3)
    loader = DataLoader(stream, batch_size=3, num_workers=num_workers, collate_fn=collate_clips)
    batches = list(itertools.islice(loader, 8))  # two epochs: each worker's first 2 batches are its 2 shards
    assert all(b["audio"].shape == (3, 4000) and b["audio"].dtype == torch.float32 for b in batches)
    assert all(torch.isfinite(b["audio"]).all() and not b["errors"] for b in batches)
    first, second = (sorted(torch.cat([b["index"] for b in half]).tolist()) for half in (batches[:4], batches[4:]))
    assert first == second == list(range(12))


def test_ranks_read_disjoint_shards_that_cover_the_set(tmp_path):
    src = ShardSource(write_shards(tmp_path / "s", n_shards=6, per_shard=2))
    ranks = [keys(take(ShardStream(src, 0.25, rank=r, world_size=2, shuffle_buffer=3), 12)) for r in (0, 1)]
    for epoch in (slice(0, 6), slice(6, 12)):  # a new shard order each epoch, still disjoint
        a, b = set(ranks[0][epoch]), set(ranks[1][epoch])
        assert len(a) == len(b) == 6 and not a & b and a | b == set(range(12))


def test_broken_shards_and_samples_are_error_items(tmp_path):
    def spoil(key, sample):
        if key == 6:
            sample["json"] = b"[1, 2]"  # metadata that is not an object
        if key == 7:
            sample["flac"] = b"not a flac stream at all"
        if key == 8:
            sample["json"] = b'{"gain": 0}'  # would turn the audio infinite
        return sample

    folder = write_shards(tmp_path / "s", n_shards=3, per_shard=4, samples=spoil)
    cut = folder / "shard-000000.tar"
    data = cut.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    src = ShardSource([str(folder), "pipe:cat /nonexistent/shard.tar"], epoch_samples=12)
    items = take(ShardStream(src, 0.25, shuffle_buffer=2), 40)
    errors = [it["error"] for it in items if "error" in it]
    assert any(e.startswith(f"{cut}: unreadable shard after") for e in errors)
    assert any("/nonexistent/shard.tar" in e for e in errors)
    assert any(e.startswith(f"{folder / 'shard-000001.tar'}:000000007: undecodable FLAC") for e in errors)
    assert any(e.endswith("000000008: the metadata's gain 0 is not a positive number") for e in errors)
    assert any(e.startswith(f"{folder / 'shard-000001.tar'}:000000006: the metadata is a list") for e in errors)
    good = [it for it in items if "error" not in it]
    assert {it["index"] for it in good} >= {4, 5, 9, 10, 11}
    assert all(np.isfinite(it["audio"].numpy()).all() for it in good)
    assert all(it["index"] == -1 for it in items if "error" in it)


def test_video_frames_are_cropped_with_the_audio(tmp_path):
    def cut_frames(key, sample):
        if key == 3:
            sample["frames.npz"] = sample["frames.npz"][:40]  # a truncated .npz
        return sample

    folder = write_shards(tmp_path / "v", n_shards=2, per_shard=4, seconds=1.0, video={"size": 16, "fps": 8},
                          samples=cut_frames)
    src = ShardSource(folder, sample_rate=RATE, fields=("audio", "video"), video_size=16, video_fps=8)
    items = take(ShardStream(src, 0.5, seed=1, shuffle_buffer=0), 8)
    assert [it["error"] for it in items if "error" in it] == [
        f"{folder / 'shard-000000.tar'}:000000003: undecodable frames (File is not a zip file)"]
    starts = set()
    for it in (it for it in items if "error" not in it):
        assert it["video"].dtype == torch.uint8 and it["video"].shape == (4, 3, 16, 16)
        start = round(float(it["audio"][0]) / 0.9 * RATE)  # a pure ramp over 1 s: its value is the time
        first = round(start / RATE * 8)
        assert it["video"][:, 0, 0, 0].tolist() == list(range(first, first + 4))
        starts.add(first)
    assert len(starts) > 1  # random crops


@pytest.mark.parametrize("index", [True, False])
def test_resume_misses_and_repeats_at_most_the_shuffle_buffer(tmp_path, index):
    src = ShardSource(write_shards(tmp_path / "s", n_shards=4, per_shard=5, index=index), sample_rate=RATE,
                      epoch_samples=None if index else 20)

    def run(buffer, start_step=0, n=40, seed=0):
        stream = ShardStream(src, 0.25, seed=seed, shuffle_buffer=buffer, batch_size=2, start_step=start_step)
        return take(stream, n)

    exact = run(0)
    assert keys(run(0, start_step=6, n=28)) == keys(exact[12:])  # no buffer: the same stream from item 12
    for a, b in zip(run(0, start_step=6, n=28), exact[12:]):
        assert torch.equal(a["audio"], b["audio"])  # and the same crops
    buffer, missed_any = 4, False
    for seed in range(4):
        whole = run(buffer, seed=seed)
        resumed = whole[:12] + run(buffer, start_step=6, n=28, seed=seed)  # killed after 6 batches of 2
        assert sorted(keys(whole[:20])) == list(range(20)) and keys(whole[:20]) != keys(run(0, seed=seed, n=20))
        epoch = Counter(keys(resumed[:20]))  # the epoch of the kill
        missed, repeated = set(range(20)) - set(epoch), sum(c - 1 for c in epoch.values())
        assert len(missed) == repeated <= buffer
        missed_any |= bool(missed)
        assert Counter(keys(resumed[20:])) == Counter(keys(whole[20:])) == Counter(range(20))  # later epochs: same
        crops = {it["index"]: it["audio"] for it in whole[20:]}
        assert all(torch.equal(crops[it["index"]], it["audio"]) for it in resumed[20:])  # and the same crops
    assert missed_any


def test_resume_through_a_dataloader_with_workers(tmp_path):
    src = ShardSource(write_shards(tmp_path / "s", n_shards=4, per_shard=3), sample_rate=RATE)

    def batches(start_step, n):
        stream = ShardStream(src, 0.25, seed=2, shuffle_buffer=0, batch_size=2, start_step=start_step)
        loader = DataLoader(stream, batch_size=2, num_workers=2, collate_fn=collate_clips)
        return [b["index"].tolist() for b in itertools.islice(loader, n)]

    assert batches(3, 5) == batches(0, 8)[3:]


def test_fewer_shards_than_readers_is_a_config_error(tmp_path, monkeypatch):
    src = ShardSource(write_shards(tmp_path / "s", n_shards=2, per_shard=2))
    with pytest.raises(ConfigError, match="2 shard.*3 rank"):
        ShardStream(src, 0.25, rank=0, world_size=3)
    stream = ShardStream(src, 0.25)  # as worker 0 of 3 sees it (a failing DataLoader takes 10 s to stop)
    monkeypatch.setattr(shard_stream, "get_worker_info", lambda: SimpleNamespace(id=0, num_workers=3))
    with pytest.raises(ConfigError, match="3 DataLoader worker.*--max-samples"):
        next(iter(stream))


def test_a_pipe_url_is_read(tmp_path):
    folder = write_shards(tmp_path / "s", n_shards=1, per_shard=4)
    src = ShardSource(f"pipe:cat {folder / 'shard-000000.tar'}", epoch_samples=4)
    assert src.urls == [f"pipe:cat {folder / 'shard-000000.tar'}"]
    assert sorted(keys(take(ShardStream(src, 0.25, shuffle_buffer=0), 4))) == [0, 1, 2, 3]
