"""The house keeps its shape: no import cycle, and no import that runs against the data path
(docs/architecture.md). Imports inside functions count too: deferring an import hides a
cycle from Python, not from a reader."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "audiorep"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {m: set() for m in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in modules and t != name and not name.startswith(t + ".")}
    return graph


GRAPH = import_graph()


def reaches(start: str, graph=GRAPH) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def test_no_module_imports_itself_back():
    cycles = sorted(m for m in GRAPH if m in reaches(m) and not m.endswith("__init__"))
    assert not cycles, f"import cycles through {cycles}"


def under(prefix: str) -> list[str]:
    return [m for m in GRAPH if m == prefix or m.startswith(prefix + ".")]


NEVER = [  # (importer, imported, why)
    ("audiorep.config", "audiorep.methods", "registries are looked up where objects are built"),
    ("audiorep.config", "audiorep.models", "registries are looked up where objects are built"),
    ("audiorep.objectives", "audiorep.models", "losses are pure functions of tensors"),
    ("audiorep.objectives", "audiorep.methods", "losses are pure functions of tensors"),
    ("audiorep.models", "audiorep.train", "the encoder stage does not know the trainer"),
    ("audiorep.models", "audiorep.builders", "models are built; they do not build"),
    ("audiorep.models", "audiorep.methods", "encoders come before methods"),
    ("audiorep.methods", "audiorep.builders", "a method receives its parts"),
    ("audiorep.methods", "audiorep.train", "a method owns no loop"),
    ("audiorep.separation", "audiorep.methods", "views come before methods"),
    ("audiorep.augment", "audiorep.models", "views come before the encoder"),
    ("audiorep.data", "audiorep.models", "data comes before the encoder"),
    ("audiorep.frontend", "audiorep.models", "the front-end comes before the encoder"),
    ("audiorep.tokenizers", "audiorep.models", "tokens come before the encoder that reads them"),
    ("audiorep.tokenizers", "audiorep.methods", "tokens come before methods"),
    ("audiorep.tokenizers", "audiorep.builders", "tokenizers are built; they do not build"),
    ("audiorep.eval", "audiorep.train", "evaluation does not train"),
    ("audiorep.eval", "audiorep.methods", "evaluation sees frozen embedders only"),
    ("audiorep.eval", "audiorep.builders", "evaluation is handed its embedders"),
    ("audiorep.builders", "audiorep.train.trainer", "builders build, the trainer runs"),
    ("audiorep.train", "audiorep.workflows", "the loop knows no workflow"),
    ("audiorep.commands", "audiorep.cli", "the CLI discovers the commands; a command needs nothing from it"),
]


@pytest.mark.parametrize("importer,imported,why", NEVER)
def test_no_import_runs_against_the_data_path(importer, imported, why):
    broken = sorted({f"{m} -> {t}" for m in under(importer) for t in reaches(m) if t in under(imported)})
    assert not broken, f"{why}: {broken[:3]}"


def test_methods_compose_shared_parts_and_import_no_other_method():
    shared = {"audiorep.methods", "audiorep.methods.base", "audiorep.methods.augmented_views"}
    for method in set(under("audiorep.methods")) - shared:
        others = {t for t in GRAPH[method] if t.startswith("audiorep.methods")} - shared
        assert not others, f"{method} imports {others}"
