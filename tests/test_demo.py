"""The demo end to end on a tiny budget: it writes the results files in the promised shape, and
its scores are the ones a direct linear probe of the same checkpoint gives on the same clips."""

import json

import torch

from audiorep.builders import load_embedder
from audiorep.config import DEFAULT_RECIPE, load_config
from audiorep.eval.probe import linear_probe
from audiorep.workflows.demo import held_out_tasks, run_demo

OVERRIDES = ["data.synthetic.n_clips=48", "train.batch_size=8", "encoder.width=4", "encoder.embedding_dim=16",
             "method.projection_hidden=32", "train.steps=3", "train.warmup_steps=1", "train.log_every=1"]


def test_tiny_demo_writes_results_in_the_documented_schema(tmp_path):
    results = run_demo(tmp_path, minutes=1.0, overrides=OVERRIDES, probe_train=40, probe_test=30, progress=False)
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert on_disk["tasks"].keys() == {"scene", "events"}
    assert on_disk["tasks"]["scene"]["metric"] == "accuracy" and on_disk["tasks"]["events"]["metric"] == "mAP"
    for task in on_disk["tasks"].values():
        assert task["models"].keys() == {"ssl", "random_init", "logmel"}
    assert {"method", "steps", "seconds", "clips_per_second"} <= on_disk["pretrain"].keys()
    assert on_disk["pretrain"]["steps"] == 3 and results["pretrain"]["method"] == "simclr"
    assert on_disk["command"] and {r["task"] for r in on_disk["results"]} == {"scene", "events"}
    assert "| scene | accuracy |" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "results.png").read_bytes()[:4] == b"\x89PNG"

    # an independent route: embed the same held-out clips with the checkpoint and probe directly
    cfg = load_config(DEFAULT_RECIPE, OVERRIDES)
    scene, events = held_out_tasks(cfg, 40, 30, progress=False)
    with torch.no_grad():
        x = load_embedder(on_disk["checkpoint"])(scene.audio).numpy()
    direct_scene = linear_probe(x[:40], scene.targets[:40], x[40:], scene.targets[40:], multilabel=False)["accuracy"]
    direct_events = linear_probe(x[:40], events.targets[:40], x[40:], events.targets[40:], multilabel=True)["mAP"]
    assert on_disk["tasks"]["scene"]["models"]["ssl"] == round(direct_scene, 4)
    assert abs(on_disk["tasks"]["events"]["models"]["ssl"] - direct_events) < 1e-4
