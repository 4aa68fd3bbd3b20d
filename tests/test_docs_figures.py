"""The figures in README.md and docs/ are the figures in the results files they cite.

A table cites the results files named (`benchmarks/results/NAME.json`) in its own rows or in
the text between it and the heading or table before it. Every number in the table's body
(past the first column, which names the row) must then be a value of one of those files,
rounded as the table shows it: as stored, as a percentage, or seconds shown as minutes. A
table that cites no file is not checked here."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CITED = re.compile(r"benchmarks/results/([A-Za-z0-9_.-]+\.json)")
NUMBER = re.compile(r"(?<![\w.])[-−]?\d[\d,]*(?:\.\d+)?(?![\w.])")


def tables(page: Path):
    """(first line number, table lines, cited file names) for every table of a page."""
    lines = page.read_text().splitlines()
    context, i, in_code = [], 0, False
    while i < len(lines):
        in_code ^= lines[i].startswith("```")
        if lines[i].startswith("|") and not in_code:
            start = i
            while i < len(lines) and lines[i].startswith("|"):
                i += 1
            rows = lines[start:i]
            yield start + 1, rows, sorted(set(CITED.findall("\n".join(context + rows))))
            context = []
            continue
        heading = not in_code and re.match(r"#{1,6} ", lines[i])
        context = [] if heading else context + [lines[i]]
        i += 1


def numeric_leaves(tree) -> list[float]:
    if isinstance(tree, bool):
        return []
    if isinstance(tree, (int, float)):
        return [float(tree)]
    if isinstance(tree, dict):
        return [v for x in tree.values() for v in numeric_leaves(x)]
    if isinstance(tree, list):
        return [v for x in tree for v in numeric_leaves(x)]
    return []


def shown_as(token: str) -> tuple[float, float]:
    """The value a table cell shows and half of its last digit (what rounding may hide)."""
    text = token.replace(",", "").replace("−", "-")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return float(text), 0.5 * 10 ** -decimals + 1e-9


def held(value: float, tolerance: float, leaves: list[float]) -> bool:
    return any(abs(v * scale - value) <= tolerance for v in leaves for scale in (1.0, 100.0, 1 / 60))


CASES = [(page, line, rows, files) for page in PAGES for line, rows, files in tables(page) if files]


def test_the_pages_cite_results_files_that_exist():
    missing = {(p.name, f) for p, _, _, files in CASES for f in files if not (ROOT / "benchmarks/results" / f).is_file()}
    assert CASES and not missing


@pytest.mark.parametrize("page,line,rows,files", CASES, ids=[f"{c[0].name}:{c[1]}" for c in CASES])
def test_every_number_of_a_table_is_in_the_results_files_it_cites(page, line, rows, files):
    leaves = [v for f in files for v in numeric_leaves(json.loads((ROOT / "benchmarks/results" / f).read_text()))]
    unheld = []
    for row in rows[2:]:  # past the header and the |---| line
        for cell in [c for c in row.strip().strip("|").split("|")][1:]:
            cell = CITED.sub("", cell)
            unheld += [t for t in NUMBER.findall(cell) if not held(*shown_as(t), leaves)]
    assert not unheld, f"{page.name}:{line} quotes {unheld} that {files} do not hold"
