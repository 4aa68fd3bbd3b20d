"""A tiny FSDD-style layout of real audio files: 3 speakers x 3 digits x 5 takes, 0.25 s at
8 kHz. A digit is a pitch (300 / 700 / 1500 Hz) and a speaker a loudness, so a working
pipeline scores high on both tasks and a broken one does not."""

import numpy as np
import pytest
import soundfile as sf


@pytest.fixture(scope="session")
def tiny_fsdd(tmp_path_factory):
    root = tmp_path_factory.mktemp("fsdd")
    (root / "recordings").mkdir()
    rng = np.random.default_rng(0)
    t = np.arange(2000) / 8000
    for s, (speaker, amp) in enumerate((("ann", 0.05), ("bob", 0.2), ("cy", 0.6))):
        for d, hz in enumerate((300.0, 700.0, 1500.0)):
            for i in range(5):
                x = amp * np.sin(2 * np.pi * hz * (1 + 0.01 * i) * t) + 0.01 * rng.standard_normal(len(t))
                sf.write(root / "recordings" / f"{d}_{speaker}_{i}.wav", x.astype(np.float32), 8000)
    return root


@pytest.fixture(scope="session")
def random_checkpoint(tmp_path_factory):
    from audiorep.config import Config
    from audiorep.models.embedder import random_init_embedder
    from audiorep.train.checkpoint import save_checkpoint

    path = tmp_path_factory.mktemp("ckpt") / "random.pt"
    save_checkpoint(path, {"config": Config().to_dict(), "embedder": random_init_embedder(seed=3).state_dict()})
    return path
