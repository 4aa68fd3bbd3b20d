"""Bad input never loses work at the two exits of a model: `audiorep embed` embeds every usable
file of a folder (or manifest) holding the whole hostile corpus, lists every other one with its
cause, writes no NaN row, and fails only when nothing is left; its numeric arguments are
checked up front. The HEAR API takes an empty batch and refuses unusable rows by name."""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import audiorep.hear as hear
from audiorep.cli import main
from audiorep.io.audio import MAX_ABS_AMPLITUDE

sys.path.insert(0, str(Path(__file__).parent))
from corpus import write_bad_audio, write_good_audio  # noqa: E402

DIM = 8


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A checkpoint of a random-init CNN, 4 channels wide and 8 dims out: milliseconds per clip."""
    from audiorep.builders import random_init_embedder
    from audiorep.config import Config
    from audiorep.io.checkpoint import save_checkpoint

    cfg = Config(encoder={"name": "cnn", "width": 4, "embedding_dim": DIM})
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    save_checkpoint(path, {"config": cfg.to_dict(), "embedder": random_init_embedder(seed=0, cfg=cfg).state_dict()})
    return str(path)


def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _embed(*args: str) -> int:
    return main(["embed", *args, "--quiet"])


def _check_output(out: Path, good: list[Path], bad: dict[str, tuple[Path, str]]) -> None:
    emb = np.load(out / "embeddings.npy")
    index = _read_csv(out / "index.csv")
    assert sorted(r["path"] for r in index) == sorted(str(p) for p in good)
    assert emb.shape == (len(good), DIM) and np.isfinite(emb).all()
    errors = {r["path"]: r["error"] for r in _read_csv(out / "errors.csv")}
    assert set(errors) == {str(path) for path, _ in bad.values()}
    for kind, (path, cause) in bad.items():
        assert re.search(cause, errors[str(path)], re.IGNORECASE), (kind, errors[str(path)])


def test_a_folder_mixing_every_bad_kind_with_good_files_embeds_the_good_ones(tiny_model, tmp_path, capsys):
    folder = tmp_path / "in"
    bad = write_bad_audio(folder)
    good = write_good_audio(folder, 4)
    # a folder listing sees only regular files: a missing path, a directory or a dangling link is
    # no file to list (the manifest test below names them)
    listed = {k: v for k, v in bad.items() if v[0].is_file()}
    assert len(listed) >= 14
    out = tmp_path / "out"
    assert _embed(str(folder), "--model", tiny_model, "--out", str(out)) == 0
    _check_output(out, good, listed)
    assert f"skipped {len(listed)} unusable file(s)" in capsys.readouterr().out


def test_a_manifest_naming_every_bad_kind_lists_each_with_its_cause(tiny_model, tmp_path):
    bad = write_bad_audio(tmp_path / "bad")
    good = write_good_audio(tmp_path / "good", 3)
    rows = [str(p) for p in good] + [str(path) for path, _ in bad.values()]
    (tmp_path / "m.csv").write_text("path\n" + "\n".join(rows) + "\n")
    out = tmp_path / "out"
    assert _embed(str(tmp_path / "m.csv"), "--model", tiny_model, "--out", str(out), "--clip-seconds", "0.5",
                  "--batch-size", "2") == 0
    _check_output(out, good, bad)


def test_nothing_usable_fails_with_one_line_and_still_lists_the_causes(tiny_model, tmp_path, capsys):
    folder = tmp_path / "in"
    bad = write_bad_audio(folder)
    out = tmp_path / "out"
    assert _embed(str(folder), "--model", tiny_model, "--out", str(out)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and re.fullmatch(r"audiorep embed: error: none of the \d+ file\(s\) could be embedded; .*",
                                          err[0]), err
    assert not (out / "embeddings.npy").exists()
    listed = {str(p) for p, _ in bad.values() if p.is_file()}
    assert {r["path"] for r in _read_csv(out / "errors.csv")} == listed


def test_a_non_finite_embedding_is_listed_not_written(tiny_model, tmp_path, monkeypatch):
    import audiorep.api

    good = write_good_audio(tmp_path / "in", 3)
    real = audiorep.api.load(tiny_model)

    class PoisonsLongClips(torch.nn.Module):  # NaN for the 1.5 s clip only
        sample_rate, embedding_size = real.sample_rate, real.embedding_size

        def forward(self, wave):
            e = real(wave)
            return e * float("nan") if wave.shape[-1] == 24000 else e

    monkeypatch.setattr(audiorep.api, "load", lambda *a, **k: PoisonsLongClips())
    out = tmp_path / "out"
    assert _embed(str(tmp_path / "in"), "--model", tiny_model, "--out", str(out)) == 0  # load is replaced
    assert np.isfinite(np.load(out / "embeddings.npy")).all()
    assert [r["path"] for r in _read_csv(out / "index.csv")] == [str(good[0]), str(good[1])]
    cause = "the model's embedding is not finite (NaN/inf)"
    assert _read_csv(out / "errors.csv") == [{"path": str(good[2]), "error": cause}]


@pytest.mark.parametrize("flag,value,words", [
    ("--chunk-seconds", "0", ">= 0.1"), ("--chunk-seconds", "nan", "finite"), ("--clip-seconds", "-1", ">= 0.1"),
    ("--clip-seconds", "inf", "finite"), ("--clip-seconds", "abc", "a number of seconds"),
    ("--batch-size", "0", ">= 1"), ("--batch-size", "2.5", "an integer >= 1"),
])
def test_numeric_arguments_are_checked_before_any_work(tmp_path, capsys, flag, value, words):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as caught:
        _embed(str(tmp_path), "--model", "logmel", "--out", str(out), flag, value)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: must" in err and words in err and repr(value) in err, err
    assert not out.exists()


# ---- HEAR API -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hear_model(tiny_model):
    return hear.load_model(tiny_model)


def test_hear_takes_an_empty_batch(hear_model):
    scene = hear.get_scene_embeddings(torch.zeros(0, 16000), hear_model)
    assert scene.shape == (0, hear_model.scene_embedding_size) and scene.dtype == torch.float32
    for n in (16000, 40000):
        emb, ts = hear.get_timestamp_embeddings(torch.zeros(0, n), hear_model)
        one, one_ts = hear.get_timestamp_embeddings(torch.zeros(1, n), hear_model)
        assert emb.shape == (0, one.shape[1], hear_model.timestamp_embedding_size) and one.shape[1] > 1
        assert ts.shape == (0, one_ts.shape[1]) and emb.dtype == ts.dtype == torch.float32


def _audio(n=4, samples=16000):
    return (torch.rand(n, samples) * 2 - 1) * 0.5


@pytest.mark.parametrize("damage,message", [
    (lambda x: x[3].__setitem__(7, float("nan")), r"HEAR audio row 3 holds 1 NaN sample \(non-finite\) of 16000"),
    (lambda x: x[1, 2:5].fill_(float("inf")), r"HEAR audio row 1 holds 3 infinite samples \(\+inf, non-finite\)"),
    (lambda x: x[2].mul_(1e4),
     rf"HEAR audio row 2 has peak amplitude .* exceeds MAX_ABS_AMPLITUDE={MAX_ABS_AMPLITUDE:g}"),
])
def test_hear_refuses_unusable_rows_by_name(hear_model, damage, message):
    audio = _audio()
    damage(audio)
    for fn in (hear.get_scene_embeddings, hear.get_timestamp_embeddings):
        with pytest.raises(ValueError, match=message):
            fn(audio, hear_model)


def test_hear_dtypes(hear_model):
    for dtype in (torch.int16, torch.int32, torch.bool):
        with pytest.raises(ValueError, match=f"float32 in \\[-1, 1\\], got dtype {dtype}"):
            hear.get_scene_embeddings(torch.zeros(2, 16000, dtype=dtype), hear_model)
    audio = _audio(2)
    want = hear.get_scene_embeddings(audio, hear_model)
    got = hear.get_scene_embeddings(audio.double(), hear_model)  # float64 is cast, documented
    assert got.dtype == torch.float32 and torch.allclose(got, want, atol=1e-5)
    with pytest.raises(ValueError, match="row 0 has peak amplitude 1e\\+39"):  # checked before the cast
        hear.get_scene_embeddings(torch.full((1, 16000), 1e39, dtype=torch.float64), hear_model)
    assert torch.isfinite(hear.get_scene_embeddings(torch.full((1, 16000), 1.5), hear_model)).all()  # over 1 is kept
