"""The commands the README and docs/ show are commands the CLI accepts.

Every line of a fenced bash block in README.md and docs/*.md that runs audiorep (`audiorep ...`,
`python -m audiorep ...`, `torchrun ... -m audiorep ...`, after any `VAR=value` prefix; lines
continued with a backslash are joined) is split as the shell would (comments dropped) and parsed
by the real argument parser; its `--config` names a packaged recipe or an existing file, and its
`key=value` overrides are config keys the recipe accepts (`load_config`). A line with a
placeholder is skipped only where SKIPPED says why. Every folder such a command writes into
the repository root is ignored by git.

And `--config configs/NAME.yaml`, as the docs write it, names the packaged recipe from any
working folder, whether or not the `configs` link at the repository root exists or works."""

import fnmatch
import os
import re
import shlex
from pathlib import Path

import pytest

from audiorep.cli import build_parser
from audiorep.config import PACKAGE_CONFIGS, load_config, read_recipe, resolve_config_path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^\s*```\s*(\w*)")
ENV_PREFIX = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)+")

SKIPPED = {  # (page, start of the command) -> why it is not parsed
    ("scaling.md", "torchrun --nnodes=2 --node_rank=0 --nproc_per_node=8 --master_addr=node0.example"):
        "`...` stands for the overrides of the command above it on the page",
}


def bash_commands(page: Path):
    """(line number, command) for every audiorep command of the page's bash blocks."""
    lines = page.read_text().splitlines()
    in_block, lang, i = False, "", 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if fence:
            in_block, lang = (not in_block), fence.group(1)
            i += 1
            continue
        if in_block and lang in ("bash", "sh", "shell", "console"):
            start, text = i, lines[i]
            while text.rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                text = text.rstrip()[:-1] + " " + lines[i].strip()
            command = ENV_PREFIX.sub("", text.strip().removeprefix("$ "))
            if re.match(r"(audiorep|python3? -m audiorep|torchrun)\b", command):
                yield start + 1, command
        i += 1


def argv_of(command: str) -> list[str]:
    words = shlex.split(command, comments=True)
    if words[0] == "audiorep":
        return words[1:]
    return words[words.index("audiorep") + 1:]  # python -m audiorep / torchrun [options] -m audiorep


def skipped(page: Path, command: str) -> bool:
    return any(page.name == name and command.startswith(start) for name, start in SKIPPED)


COMMANDS = [(page, line, command) for page in PAGES for line, command in bash_commands(page)]
CHECKED = [c for c in COMMANDS if not skipped(c[0], c[2])]
IDS = [f"{page.name}:{line}" for page, line, _ in CHECKED]


def test_the_pages_show_commands_and_every_skip_names_a_command_that_is_there():
    assert len(CHECKED) > 40
    for name, start in SKIPPED:
        assert any(page.name == name and command.startswith(start) for page, _, command in COMMANDS), (name, start)


@pytest.mark.parametrize("page,line,command", CHECKED, ids=IDS)
def test_a_documented_command_parses_and_its_recipe_and_overrides_load(page, line, command):
    argv = argv_of(command)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:
        if exit_.code == 0 and argv[-1] == "--help":
            return
        pytest.fail(f"{page.name}:{line}: the parser refuses {command!r} (exit {exit_.code})")
    config = getattr(args, "config", None)
    overrides = getattr(args, "overrides", None) or []
    if config is not None:
        assert resolve_config_path(config).is_file()  # raises a ConfigError naming the recipe if not
        load_config(config, overrides)  # raises a ConfigError naming the key if an override is wrong
    else:
        assert not overrides, f"{page.name}:{line}: overrides without a recipe"


def _ignored(path: str, patterns: list[str]) -> bool:
    """Whether .gitignore's plain patterns ignore the top folder of a path in the repository root."""
    top = Path(path).parts[0]
    return any(fnmatch.fnmatch(top, p.strip("/")) for p in patterns if p.endswith("/") and "/" not in p.strip("/"))


def test_every_folder_a_documented_command_writes_into_the_repository_root_is_ignored_by_git():
    patterns = [p.strip() for p in (ROOT / ".gitignore").read_text().splitlines() if p.strip() and p[0] != "#"]
    outputs = set()
    for page, line, command in CHECKED:
        try:
            args = build_parser().parse_args(argv_of(command))
        except SystemExit:
            continue  # --help
        for out in (getattr(args, "out", None), getattr(args, "out_dir", None)):
            if out and not os.path.isabs(out) and not out.startswith(".."):
                outputs.add((out, f"{page.name}:{line}"))
        if getattr(args, "config", None) and getattr(args, "out", None) is None:
            out_dir = load_config(args.config, args.overrides or []).train.out_dir
            if not os.path.isabs(out_dir):
                outputs.add((out_dir, f"{page.name}:{line} (train.out_dir)"))
    unignored = sorted(where + ": " + out for out, where in outputs if not _ignored(out, patterns))
    assert not unignored, f"outputs of documented commands that git would see: {unignored}"


# ---- `--config configs/NAME.yaml` from anywhere ------------------------------------------

RECIPE = "simclr_demo"
PACKAGED = PACKAGE_CONFIGS / f"{RECIPE}.yaml"


@pytest.mark.parametrize("given", [f"configs/{RECIPE}.yaml", f"configs/{RECIPE}", f"./configs/{RECIPE}.yaml",
                                   f"src/audiorep/configs/{RECIPE}.yaml", f"../elsewhere/configs/{RECIPE}.yaml"])
def test_a_configs_path_names_the_packaged_recipe_from_a_folder_without_configs(given, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_config_path(given).resolve() == PACKAGED.resolve()
    assert load_config(given, ["train.steps=7"]).train.steps == 7
    assert read_recipe(given) == read_recipe(RECIPE)


@pytest.mark.parametrize("broken", ["dangling link", "nested dangling link", "link stub as a file"])
def test_a_configs_path_works_where_the_configs_link_is_broken(broken, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if broken == "dangling link":  # a tree copied without the folder the link points to
        os.symlink("src/audiorep/configs", "configs")
    elif broken == "nested dangling link":  # a link copied into a folder: configs/configs -> nowhere
        (tmp_path / "configs").mkdir()
        os.symlink("src/audiorep/configs", "configs/configs")
    else:  # a checkout without symlinks writes the link as a small text file
        (tmp_path / "configs").write_text("src/audiorep/configs")
    assert resolve_config_path(f"configs/{RECIPE}.yaml").resolve() == PACKAGED.resolve()
    args = build_parser().parse_args(["pretrain", "--config", f"configs/{RECIPE}.yaml", "train.steps=5"])
    assert load_config(args.config, args.overrides).train.steps == 5


def test_a_file_that_exists_wins_over_the_packaged_recipe_of_its_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / f"{RECIPE}.yaml").write_text("train: {steps: 11}\n")
    assert load_config(f"configs/{RECIPE}.yaml").train.steps == 11
    with pytest.raises(Exception, match="neither a file nor a packaged recipe"):
        load_config("configs/no_such_recipe.yaml")
    with pytest.raises(Exception, match="neither a file nor a packaged recipe"):
        load_config(f"elsewhere/{RECIPE}_copy.yaml")


def test_pretrain_with_a_configs_path_runs_from_a_folder_without_configs(tmp_path, monkeypatch, capsys):
    from audiorep.cli import main

    monkeypatch.chdir(tmp_path)
    tiny = ["data.synthetic.n_clips=8", "data.synthetic.clip_seconds=1.0", "data.clip_seconds=1.0",
            "train.batch_size=4", "encoder.width=4", "encoder.embedding_dim=16", "method.projection_hidden=32",
            "train.steps=1", "train.warmup_steps=0", "train.log_every=1", "train.device=cpu"]
    assert main(["pretrain", "--config", f"configs/{RECIPE}.yaml", "--out", "run", "--no-progress", *tiny]) == 0
    assert (tmp_path / "run" / "last.pt").is_file() and not (tmp_path / "configs").exists()
