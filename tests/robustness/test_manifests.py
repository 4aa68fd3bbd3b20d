"""Bad manifests and recipes: each is one ConfigError naming the file, the line where it
applies, and the cause; never a UnicodeDecodeError, a silent None, or a misleading message.
Every file is built at test time."""

from __future__ import annotations

import os

import pytest

from audiorep.cli import main
from audiorep.config import load_config
from audiorep.data.sources import ManifestSource
from audiorep.errors import ConfigError


def _write(path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _error(path) -> str:
    with pytest.raises(ConfigError) as info:
        ManifestSource(path)
    msg = str(info.value)
    assert "\n" not in msg and "()" not in msg and str(path) in msg
    return msg


def test_a_byte_that_is_not_utf8_is_named_with_its_line(tmp_path):
    rows = "path,label\na.wav,x\nb.wav,y\ncaf\u00e9.wav,z\n"
    msg = _error(_write(tmp_path / "latin1.csv", rows.encode("latin-1")))  # 0xE9 on line 4
    assert "not UTF-8 text (byte 0xe9 at line 4); save it as UTF-8" in msg
    with_bom = _write(tmp_path / "bom_latin1.csv", b"\xef\xbb\xbf" + "path\ncaf\u00e9.wav\n".encode("latin-1"))
    assert "byte 0xe9 at line 2" in _error(with_bom)


def test_utf16_and_binary_files_are_not_manifests(tmp_path):
    assert "UTF-16 text, not UTF-8" in _error(_write(tmp_path / "excel.csv", "path\na.wav\n".encode("utf-16")))
    binary = bytes(range(256)) * 4  # NUL bytes and every other byte
    assert "binary file, not CSV text" in _error(_write(tmp_path / "blob.csv", binary))
    wav = _write(tmp_path / "clip.wav", b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00")
    assert "binary file" in _error(wav)
    assert "binary file" in _error(_write(tmp_path / "random.csv", os.urandom(2048) + b"\x00"))


@pytest.mark.parametrize("row, cells", [("b.wav,y,2,extra,more", 5), ("b.wav", 1), ("b.wav,y", 2)])
def test_a_ragged_row_names_its_line_and_counts(tmp_path, row, cells):
    path = _write(tmp_path / "ragged.csv", f"path,label,fold\na.wav,x,1\n\n{row}\nc.wav,z,3\n".encode())
    msg = _error(path)
    assert f"line 4: {cells} {'cell' if cells == 1 else 'cells'}, the header has 3" in msg


def test_a_quoted_cell_over_two_lines_is_one_row_and_later_lines_keep_their_numbers(tmp_path):
    text = 'path,label\n"a,b.wav","two\nlines"\nc.wav,y\nd.wav\n'
    path = _write(tmp_path / "quoted.csv", text.encode())
    assert "line 5: 1 cell, the header has 2" in _error(path)
    ok = _write(tmp_path / "ok.csv", text.rsplit("d.wav", 1)[0].encode())
    src = ManifestSource(ok)
    assert [r.label for r in src.records] == ["two\nlines", "y"] and src.records[0].path.endswith("a,b.wav")


def test_a_folder_is_not_a_manifest(tmp_path):
    (tmp_path / "clips.csv").mkdir()
    msg = _error(tmp_path / "clips.csv")
    assert "is a folder, not a manifest CSV" in msg and "does not exist" not in msg
    assert "does not exist" in _error(tmp_path / "missing.csv")


@pytest.mark.parametrize("text", [b"", b"\n\n   \n", b"\xef\xbb\xbf"])
def test_an_empty_file_has_no_header(tmp_path, text):
    assert "is empty (no header row)" in _error(_write(tmp_path / "empty.csv", text))


def test_a_header_without_path_and_a_missing_header(tmp_path):
    msg = _error(_write(tmp_path / "nopath.csv", b"file,label\na.wav,x\n"))
    assert "no 'path' column (columns: file, label)" in msg
    msg = _error(_write(tmp_path / "noheader.csv", b"a.wav,x\nb.wav,y\n"))
    assert "no 'path' column" in msg and "add a header row" in msg


def test_a_header_only_file_has_no_rows(tmp_path):
    assert "has a header but no rows" in _error(_write(tmp_path / "header.csv", b"path,label\n\n"))


def test_what_worked_still_works(tmp_path):
    """A UTF-8 byte-order mark, CRLF line ends, non-ASCII UTF-8 names, blank lines, spaces."""
    text = "\ufeffpath , label,labels\r\n\u00e9t\u00e9.wav, x ,a;b\r\n\r\n/abs/z.wav,y,\r\n"
    src = ManifestSource(_write(tmp_path / "m.csv", text.encode("utf-8")))
    assert src.columns == ["path", "label", "labels"]
    assert [r.path for r in src.records] == [str(tmp_path / "\u00e9t\u00e9.wav"), "/abs/z.wav"]
    assert [r.label for r in src.records] == ["x", "y"] and src.records[0].meta["labels"] == ["a", "b"]
    assert src.records[1].meta["labels"] == []


# ---- a recipe given as --config --------------------------------------------------------------
@pytest.mark.parametrize("data, cause", [
    (b"train:\n  out_dir: caf\xe9\n", "not UTF-8 text (byte 0xe9 at line 2)"),
    (bytes(range(256)), "binary file, not a YAML recipe"),
    (b"PK\x03\x04\x14\x00\x00\x00\x08\x00\xff\xfe\x00\x00", "binary file"),
])
def test_a_binary_or_non_utf8_recipe_is_a_config_error(tmp_path, capsys, data, cause):
    recipe = _write(tmp_path / "recipe.yaml", data)
    with pytest.raises(ConfigError) as info:
        load_config(str(recipe))
    msg = str(info.value)
    assert str(recipe) in msg and cause in msg and "\n" not in msg
    assert main(["pretrain", "--config", str(recipe), f"train.out_dir={tmp_path / 'run'}"]) == 2
    err = capsys.readouterr().err
    assert str(recipe) in err and cause in err and "Traceback" not in err


def test_a_utf8_recipe_with_a_bom_still_loads(tmp_path):
    recipe = _write(tmp_path / "r.yaml", "\ufeffseed: 3\ntrain:\n  out_dir: caf\u00e9\n".encode("utf-8"))
    cfg = load_config(str(recipe))
    assert cfg.seed == 3 and cfg.train.out_dir == "caf\u00e9"
