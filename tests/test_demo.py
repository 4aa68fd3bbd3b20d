"""The demo end to end on a tiny budget: it runs and writes the results files in the promised shape."""

import json

from audiorep.workflows.demo import run_demo


def test_tiny_demo_writes_results_in_the_documented_schema(tmp_path):
    overrides = ["data.synthetic.n_clips=48", "train.batch_size=8", "encoder.width=4", "encoder.embedding_dim=16",
                 "method.projection_hidden=32", "train.steps=3", "train.warmup_steps=1", "train.log_every=1"]
    results = run_demo(tmp_path, minutes=1.0, overrides=overrides, probe_train=40, probe_test=30, progress=False)
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert on_disk["tasks"].keys() == {"scene", "events"}
    assert on_disk["tasks"]["scene"]["metric"] == "accuracy" and on_disk["tasks"]["events"]["metric"] == "mAP"
    for task in on_disk["tasks"].values():
        assert task["models"].keys() == {"ssl", "random_init", "logmel"}
        assert all(0.0 <= v <= 1.0 for v in task["models"].values())
    assert {"method", "steps", "seconds", "clips_per_second"} <= on_disk["pretrain"].keys()
    assert on_disk["pretrain"]["steps"] == 3 and results["pretrain"]["method"] == "simclr"
    assert "| scene | accuracy |" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "results.png").read_bytes()[:4] == b"\x89PNG"
