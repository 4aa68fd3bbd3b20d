"""ClipDataset: fixed-length clips, reproducible random crops, bad files reported not raised."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from audiorep.data.dataset import ClipDataset, collate_clips
from audiorep.data.sources import ArraySource, FolderSource, ManifestSource
from audiorep.errors import ConfigError


def ramp_source(n=6, seconds=2.0, rate=1000):
    audio = torch.arange(n * int(seconds * rate), dtype=torch.float32).reshape(n, -1)
    return ArraySource(audio, rate)


def test_items_have_clip_length_and_index():
    ds = ClipDataset(ramp_source(), 1000, 0.5)
    item = ds[3]
    assert item["index"] == 3 and item["audio"].dtype == torch.float32 and item["audio"].shape == (500,)


def test_random_crops_reproducible_per_seed_and_change_with_epoch():
    ds = ClipDataset(ramp_source(), 1000, 0.5, seed=7)
    first = [ds[i]["audio"][0].item() for i in range(6)]
    assert first == [ClipDataset(ramp_source(), 1000, 0.5, seed=7)[i]["audio"][0].item() for i in range(6)]
    ds.set_epoch(1)
    assert first != [ds[i]["audio"][0].item() for i in range(6)]
    other_seed = ClipDataset(ramp_source(), 1000, 0.5, seed=8)
    assert first != [other_seed[i]["audio"][0].item() for i in range(6)]


def test_crops_do_not_depend_on_worker_count():
    ds = ClipDataset(ramp_source(), 1000, 0.5, seed=3)
    one = next(iter(DataLoader(ds, batch_size=6, collate_fn=ds.collate_fn)))
    two = torch.cat([b["audio"] for b in DataLoader(ds, batch_size=2, num_workers=2, collate_fn=ds.collate_fn)])
    torch.testing.assert_close(one["audio"], two)


def test_start_and_center_crops_are_fixed():
    ds = ClipDataset(ramp_source(), 1000, 0.5, crop="center")
    assert ds[0]["audio"][0].item() == 750.0
    assert ClipDataset(ramp_source(), 1000, 0.5, crop="start")[1]["audio"][0].item() == 2000.0
    with pytest.raises(ConfigError, match="crop"):
        ClipDataset(ramp_source(), 1000, 0.5, crop="middle")


def test_corrupt_file_becomes_error_item_and_collate_drops_it(audio_folder):
    (audio_folder / "dog" / "broken.wav").write_bytes(b"not really a wav file at all")
    ds = ClipDataset(FolderSource(audio_folder), 16000, 0.25, seed=0)
    items = [ds[i] for i in range(len(ds))]
    bad = [it for it in items if "error" in it]
    assert len(bad) == 1 and "broken.wav" in bad[0]["error"] and "corrupt" in bad[0]["error"]
    assert bad[0]["index"] == 3  # cat/a, cat/deep/b, dog/a, dog/broken, dog/deep/b
    batch = collate_clips(items)
    assert batch["audio"].shape == (4, 4000) and batch["index"].tolist() == [0, 1, 2, 4]
    assert batch["errors"] == [bad[0]["error"]]


def test_all_bad_batch_is_empty_with_clip_length(tmp_path):
    (tmp_path / "m.csv").write_text("path\nx.wav\ny.wav\n")
    ds = ClipDataset(ManifestSource(tmp_path / "m.csv"), 16000, 1.0)
    batch = next(iter(DataLoader(ds, batch_size=2, collate_fn=ds.collate_fn)))
    assert batch["audio"].shape == (0, 16000) and batch["index"].shape == (0,) and len(batch["errors"]) == 2


def test_whole_clips_are_padded_with_lengths():
    src = ArraySource([np.ones(3), np.ones(5)], 1000)
    batch = collate_clips([ClipDataset(src, 1000, None)[i] for i in range(2)])
    assert batch["audio"].shape == (2, 5) and batch["lengths"].tolist() == [3, 5]
    assert batch["audio"][0, 3:].abs().sum() == 0


def test_real_fsdd_clips_resampled_and_padded(shared_data):
    src = ManifestSource(shared_data / "fsdd" / "manifest.csv").subset(range(0, 3000, 600))
    ds = ClipDataset(src, 16000, 1.0, seed=0)
    batch = collate_clips([ds[i] for i in range(len(ds))])
    assert batch["audio"].shape == (5, 16000) and not batch["errors"]
    assert torch.isfinite(batch["audio"]).all() and (batch["audio"].abs().amax(1) > 0.01).all()


def scene_source(n=6, k=3, seconds=2.0, rate=1000):
    """Clips whose time-aligned `sources` field sums to the audio, sample for sample."""
    sources = torch.randn(n, k, int(seconds * rate), generator=torch.Generator().manual_seed(0))
    return ArraySource(sources.sum(1), rate, fields={"sources": sources})


def test_a_batch_is_a_mapping_of_named_fields_cropped_at_one_place():
    source = scene_source()
    assert source.fields == ("audio", "sources")
    ds = ClipDataset(source, 1000, 0.5, seed=3, fields=("audio", "sources"))
    batch = next(iter(DataLoader(ds, batch_size=4, collate_fn=ds.collate_fn)))
    assert batch["audio"].shape == (4, 500) and batch["sources"].shape == (4, 3, 500)
    torch.testing.assert_close(batch["sources"].sum(1), batch["audio"])
    plain = ClipDataset(source, 1000, 0.5, seed=3)  # only what is asked for travels
    assert set(plain[0]) == {"audio", "index"} and torch.equal(plain[0]["audio"], ds[0]["audio"])


def test_fields_are_resampled_with_the_audio():
    fields = scene_source().load_fields(0, seconds=0.5, rng=np.random.default_rng(0), sample_rate=2000)
    assert fields["audio"].shape == (1000,) and fields["sources"].shape == (3, 1000)
    np.testing.assert_allclose(fields["sources"].sum(0), fields["audio"], atol=1e-4)


def test_asking_a_source_for_a_field_it_lacks_names_it():
    with pytest.raises(ConfigError, match="has no sources .*holds audio"):
        ClipDataset(ramp_source(), 1000, 0.5, fields=("audio", "sources"))
    with pytest.raises(ConfigError, match="field 'sources' must be"):
        ArraySource(torch.zeros(4, 100), 1000, fields={"sources": torch.zeros(4, 2, 99)})


@pytest.mark.parametrize("labels,shape,dtype", [(np.array([3, 1, 0, 2, 1, 0]), (4,), torch.int64),
                                                (np.eye(6, 5, dtype=np.float32), (4, 5), torch.float32)])
def test_labels_are_a_per_clip_field_of_the_batch(labels, shape, dtype):
    """Class indices collate to label [B] int64, multi-hot to [B, C] float: stacked, not padded,
    whatever the crop and rate, with clips of any length."""
    source = ArraySource(torch.randn(6, 2000), 1000, fields={"label": labels}, field_rates={"label": 0})
    for clip_seconds, rate in ((0.5, 1000), (0.5, 2000), (None, 1000)):
        ds = ClipDataset(source, rate, clip_seconds, seed=1, fields=("audio", "label"))
        batch = next(iter(DataLoader(ds, batch_size=4, collate_fn=ds.collate_fn)))
        assert batch["label"].shape == shape and batch["label"].dtype == dtype
        torch.testing.assert_close(batch["label"], torch.as_tensor(labels[batch["index"].numpy()]))
        assert batch["audio"].shape == (4, int(rate * (clip_seconds or 2.0)))
    one_class = collate_clips([{"audio": torch.ones(5), "label": torch.tensor(c), "index": c} for c in (1, 2)])
    assert one_class["label"].tolist() == [1, 2]  # 0-d items stack even without being named
