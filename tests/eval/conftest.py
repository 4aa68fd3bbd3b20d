"""Evaluation fixtures: a checkpoint of a random-init embedder (`tiny_fsdd` is in tests/conftest.py)."""

import pytest


@pytest.fixture(scope="session")
def random_checkpoint(tmp_path_factory):
    from audiorep.builders import random_init_embedder
    from audiorep.config import Config
    from audiorep.io.checkpoint import save_checkpoint

    path = tmp_path_factory.mktemp("ckpt") / "random.pt"
    save_checkpoint(path, {"config": Config().to_dict(), "embedder": random_init_embedder(seed=3).state_dict()})
    return path
