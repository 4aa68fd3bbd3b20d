"""BYOL: the momentum teacher follows the student by the EMA rule after every optimiser step,
its loss is 2 - 2 cos in float32, and a tiny run learns."""

import math

import numpy as np
import pytest
import torch

from audiorep.builders import build_method, load_embedder
from audiorep.config import load_config
from audiorep.data.sources import ArraySource
from audiorep.eval.probe import linear_probe
from audiorep.models.momentum_teacher import MomentumTeacher, momentum_at
from audiorep.objectives.byol import byol_loss
from audiorep.train.trainer import Trainer

TINY = ["encoder.width=4", "encoder.embedding_dim=16", "method.projection_hidden=32",
        "method.projection_dim=16", "method.predictor_hidden=32", "train.batch_size=8", "train.warmup_steps=2",
        "train.log_every=1", "train.minutes=null", "data.clip_seconds=1.0",
        "method.wave_augment=[{name: random_crop, seconds: 0.5}, {name: gain, db: [-6, 6]}]"]


def test_teacher_moves_by_the_ema_rule_and_copies_buffers():
    method = build_method(load_config("byol_demo", TINY + ["method.momentum=0.9"]))
    before = {k: v.clone() for k, v in method.teacher.state_dict().items()}
    with torch.no_grad():
        for p in method.embedder.parameters():
            p.add_(torch.randn_like(p))
        method.embedder.encoder.input_norm.running_mean.fill_(3.0)
    method.after_step(1, progress=0.5)
    m = momentum_at(0.9, 0.5)
    assert m == pytest.approx(0.95)
    online = dict(method.embedder.named_parameters())
    for name, p in method.teacher["embedder"].named_parameters():
        torch.testing.assert_close(p, m * before[f"networks.embedder.{name}"] + (1 - m) * online[name])
        assert not p.requires_grad
    assert torch.all(method.teacher["embedder"].encoder.input_norm.running_mean == 3.0)


def test_momentum_rises_from_its_base_to_one_along_a_half_cosine():
    assert momentum_at(0.99, 0.0) == pytest.approx(0.99) and momentum_at(0.99, 1.0) == pytest.approx(1.0)
    assert momentum_at(0.99, 0.25) == pytest.approx(1 - 0.01 * (math.cos(math.pi / 4) + 1) / 2)
    teacher = MomentumTeacher(net=torch.nn.Linear(2, 2))
    online = torch.nn.Linear(2, 2)
    teacher.update(1.0, net=online)  # momentum 1: the teacher stays
    assert not torch.equal(teacher["net"].weight, online.weight)
    teacher.update(0.0, net=online)  # momentum 0: the teacher becomes the student
    assert torch.equal(teacher["net"].weight, online.weight)


def test_byol_loss_is_two_minus_two_cosine_in_float32_with_no_gradient_to_the_target():
    p = torch.randn(5, 8, requires_grad=True)
    z = torch.randn(5, 8, requires_grad=True)
    a, b = p.detach(), z.detach()
    by_hand = np.mean([2 - 2 * float(torch.dot(a[i], b[i]) / (a[i].norm() * b[i].norm())) for i in range(5)])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = byol_loss(p.bfloat16(), z.bfloat16())
    assert loss.dtype == torch.float32 and loss.item() == pytest.approx(by_hand, abs=0.05)
    assert byol_loss(p, 3 * p).item() == pytest.approx(0.0, abs=1e-6)
    byol_loss(p, z).backward()
    assert p.grad is not None and z.grad is None


def test_the_trainer_steps_the_teacher_and_the_student_does_not_collapse(tmp_path, tone):
    rng = np.random.default_rng(0)
    kinds = rng.integers(0, 4, 48)
    audio = np.stack([tone(200.0 * 2**k) + 0.02 * rng.standard_normal(16000) for k in kinds]).astype(np.float32)
    cfg = load_config("byol_demo", TINY + ["train.steps=30", "train.lr=0.003", "train.checkpoint_every=100",
                                             f"train.out_dir={tmp_path}"])
    trainer = Trainer(cfg, progress=False, source=ArraySource(audio, 16000))
    torch.manual_seed(trainer.cfg.seed)  # as the trainer seeds before it builds the method
    initial = build_method(trainer.cfg).teacher.state_dict()
    trainer.fit()
    teacher, student = trainer.method.teacher, trainer.method
    for name, p in teacher["embedder"].named_parameters():  # it moved, and lags the student
        assert not torch.equal(p, initial[f"networks.embedder.{name}"]), name
        assert not torch.equal(p, dict(student.embedder.named_parameters())[name]), name
    # a collapsed student maps every clip to one point; this one still tells the tones apart
    with torch.no_grad():
        x = load_embedder(tmp_path / "last.pt")(torch.from_numpy(audio)).numpy()
    scores = linear_probe(x[:32], kinds[:32], x[32:], kinds[32:], multilabel=False)
    assert scores["accuracy"] >= 0.9
