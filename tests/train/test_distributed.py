"""The DDP path on CPU: two processes (gloo) train through the real Trainer, as torchrun would
launch them. Every method and every separation-SSL ablation variant steps with the ranks'
parameters equal afterwards, and a killed two-process run resumes to the weights of an
uninterrupted one (each rank's augmentation stream and random states are in the checkpoint)."""

import json
import os
import socket

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from audiorep.data.sources import ArraySource
from audiorep.methods.simclr import SimCLR
from audiorep.train.distributed import cleanup_distributed
from audiorep.train.trainer import Trainer

SEPARATOR = ("method.model={num_channels: 3, num_filters: 16, kernel_size: 16, bottleneck: 8, hidden: 8, "
             "blocks_per_repeat: 1, repeats: 1}")
SSL = ["encoder.width=4", "encoder.embedding_dim=16", "method.projection_hidden=32", "method.projection_dim=16",
       "method.view_seconds=0.5", "data.clip_seconds=1.0"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def join_group(rank, world, port):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)


def run_recipes(recipe_file: str, tmp: str):
    """Every rank: 3 steps of each recipe (name -> [recipe, overrides, source kind]); its weights saved."""
    from audiorep.config import load_config

    recipes = json.loads(open(recipe_file).read())
    for name, (recipe, overrides, kind) in recipes.items():
        cfg = load_config(recipe, overrides + ["train.steps=3", "train.minutes=null", "train.batch_size=4",
                                               "train.device=cpu", f"train.out_dir={tmp}/{name}"])
        rng = np.random.default_rng(0)
        if kind == "sources":  # two sources per clip, for PIT
            src = (0.1 * rng.standard_normal((16, 2, 4000))).astype(np.float32)
            source = ArraySource(src.sum(1), 8000, fields={"sources": src})
        elif kind == "video":  # 1 s clips with 4 frames of 8 x 8 pixels
            source = ArraySource((0.1 * rng.standard_normal((16, 16000))).astype(np.float32), 16000,
                                 fields={"video": rng.integers(0, 255, (16, 4, 3, 8, 8), dtype=np.uint8)},
                                 field_rates={"video": 4})
        else:
            rate = 8000 if kind == "8k" else 16000
            source = ArraySource((0.1 * rng.standard_normal((16, rate))).astype(np.float32), rate)
        trainer = Trainer(cfg, progress=False, source=source)
        summary = trainer.fit()
        # parameters; buffers (BatchNorm statistics) are each rank's own, and rank 0's are saved
        weights = {k: p.detach() for k, p in trainer.method.named_parameters()}
        torch.save({"steps": summary["steps"], "weights": weights},
                   f"{tmp}/{name}.rank{os.environ['RANK']}.pt")


def _every_recipe(rank, world, tmp, port, recipe_file):
    join_group(rank, world, port)
    run_recipes(recipe_file, tmp)


@pytest.fixture(scope="module")
def separator_file(tmp_path_factory):
    from audiorep.builders import build_method
    from audiorep.config import load_config
    from audiorep.io.checkpoint import save_separator

    path = tmp_path_factory.mktemp("sep") / "sep.pt"
    return str(save_separator(path, build_method(load_config("separator_mixit", [SEPARATOR])).separator))


def test_every_method_and_ablation_variant_steps_in_two_processes_with_equal_weights(tmp_path, separator_file):
    from audiorep.workflows.ablation import variants

    recipes = {"simclr": ["simclr_demo", SSL[:4] + ["data.clip_seconds=1.0"], "16k"],
               "byol": ["byol_demo", SSL[:4] + ["data.clip_seconds=1.0"], "16k"],
               "audiovisual": ["audiovisual_demo", SSL[:4] + [
                   "data.clip_seconds=1.0", "data.video.size=8", "data.video.fps=4", "method.mix_p=0.5",
                   "method.audio_audio_weight=0.5", "method.video_encoder={name: r2plus1d, width: 4, embedding_dim: 8}"],
                   "video"],
               "separator_mixit": ["separator_mixit", [SEPARATOR, "data.clip_seconds=0.25"], "8k"],
               "separator_pit": ["separator_pit", [SEPARATOR, "data.clip_seconds=0.25"], "sources"],
               "bilinear": ["separation_ssl_demo", SSL + [f"method.separators=[{separator_file}]",
                                                          "method.similarity=bilinear"], "16k"]}
    for name, overrides in variants([separator_file, separator_file]).items():
        recipes[name] = ["separation_ssl_demo", SSL + overrides, "16k"]
    recipe_file = tmp_path / "recipes.json"
    recipe_file.write_text(json.dumps(recipes))
    mp.spawn(_every_recipe, args=(2, str(tmp_path), free_port(), str(recipe_file)), nprocs=2, join=True)
    for name in recipes:
        ranks = [torch.load(tmp_path / f"{name}.rank{r}.pt", weights_only=True) for r in range(2)]
        assert ranks[0]["steps"] == ranks[1]["steps"] == 3, name
        for key, value in ranks[0]["weights"].items():
            torch.testing.assert_close(ranks[1]["weights"][key], value, msg=f"{name}: {key} differs across ranks")


def _simclr_run(rank, world, tmp, port, kill_at, resume):
    join_group(rank, world, port)
    from test_trainer import tiny_cfg, toy_source

    if kill_at:
        original, calls = SimCLR.forward, {"n": 0}

        def forward(self, batch, generator=None):
            calls["n"] += 1
            if calls["n"] == kill_at:
                raise KeyboardInterrupt("killed")
            return original(self, batch, generator)

        SimCLR.forward = forward
    cfg = tiny_cfg(tmp, "train.steps=10", "train.checkpoint_every=4", "train.device=cpu",
                   "method.wave_augment=[{name: random_crop, seconds: 0.5}, {name: gain, db: [-6, 6]}, "
                   "{name: noise, snr_db: [5, 30]}]")
    try:
        summary = Trainer(cfg, progress=False, source=toy_source(), resume=resume).fit()
        torch.save(summary, os.path.join(tmp, f"summary{rank}.pt"))
    except KeyboardInterrupt:
        torch.distributed.barrier()  # no rank tears the group down while the other still uses it
        cleanup_distributed()


def test_a_killed_two_process_run_resumes_to_the_weights_of_an_uninterrupted_one(tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    mp.spawn(_simclr_run, args=(2, str(whole), free_port(), 0, False), nprocs=2, join=True)
    mp.spawn(_simclr_run, args=(2, str(killed), free_port(), 7, False), nprocs=2, join=True)
    state = torch.load(killed / "last.pt", weights_only=True)
    assert state["step"] == 4 and len(state["rng"]) == 2  # both ranks' random streams
    assert not torch.equal(state["rng"][0]["generator"], state["rng"][1]["generator"])
    mp.spawn(_simclr_run, args=(2, str(killed), free_port(), 0, True), nprocs=2, join=True)
    a, b = (torch.load(d / "last.pt", weights_only=True) for d in (whole, killed))
    assert a["step"] == b["step"] == 10
    for key, value in a["method"].items():
        torch.testing.assert_close(b["method"][key], value, msg=f"{key} differs after a two-process resume")
    assert all(torch.load(killed / f"summary{r}.pt")["steps"] == 10 for r in range(2))
