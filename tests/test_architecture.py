"""The whiteboard, enforced: which layer of the product may import which (docs/architecture.md).

Every product module (the folders `pyproject.toml` installs as `speechcraft.<layer>`) is parsed with `ast`, never
imported. Every `import` and `from ... import` counts wherever it stands, at the top or inside a function, and
so does `importlib.import_module("literal")`; relative imports are resolved against the module's own package.
Imports under `if TYPE_CHECKING:` do not count: they never run, they only name types for a checker. (Their
`else:` branch does run, and counts.) Import paths written as strings in a registry and imported later are not
followed.
"""
from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRODUCT = "speechcraft"
TEST_CODE = ("tests", "fixtures", "conftest", "speechcraft.fixtures")   # tests/ and tests/fixtures, as imported

# The whiteboard: (importer, what it may not import, why). A module is the importer of every rule whose name
# is itself or a package above it; a forbidden name matches itself and everything below it.
CONTRACTS: list[tuple[str, tuple[str, ...], str]] = [
    ("speechcraft.warehouse", ("speechcraft.tasks", "speechcraft.models", "speechcraft.flows",
                               "speechcraft.dashboards"), "only the warehouse knows storage, and nothing above it"),
    ("speechcraft.models", ("speechcraft.warehouse", "speechcraft.flows"), "models know no storage and no flows"),
    ("speechcraft.tasks.corpora", ("speechcraft.warehouse",), "a reader scans a corpus; it never writes the lake"),
    ("speechcraft.tasks", ("speechcraft.flows",), "tasks do the work; flows orchestrate them, not the reverse"),
    ("speechcraft.dashboards", ("speechcraft.tasks", "speechcraft.flows"), "the dashboard reads the warehouse only"),
    (PRODUCT, TEST_CODE, "the product never imports test code"),
]


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    statement: str      # as written
    target: str         # the absolute module (or module.name) it reaches
    module: str         # for `from X import name`, X resolved; else the target


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def product_roots(root: Path = ROOT) -> dict[str, Path]:
    """Package name -> folder, from `pyproject.toml`'s package-dir, without anything under tests/."""
    package_dir = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    return {name: (root / folder).resolve() for name, folder in package_dir["package-dir"].items()
            if not Path(folder).parts[:1] == ("tests",)}


def modules(roots: dict[str, Path]) -> dict[Path, tuple[str, bool]]:
    """Every .py file under the roots -> (its module name, whether it is a package's __init__). A file under two
    roots belongs to the longer package name."""
    found: dict[Path, tuple[str, bool]] = {}
    for package, folder in sorted(roots.items(), key=lambda item: len(item[0])):
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            is_init = parts[-1] == "__init__"
            if is_init:
                parts.pop()
            found[path] = (".".join([package, *parts]), is_init)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _resolve(node: ast.ImportFrom, module: str, is_init: bool) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if is_init else module.split(".")[:-1]
    base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
    return ".".join([*base, *([node.module] if node.module else [])])


def imports(path: Path, module: str, is_init: bool) -> list[Import]:
    """The imports of one file that run, each resolved to an absolute module name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend(Import(path, node.lineno, ast.unparse(node), alias.name, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, module, is_init)
            # `from pkg import name` reaches pkg.name when name is a submodule; as a prefix it is never wrong
            found.extend(Import(path, node.lineno, ast.unparse(node), base if alias.name == "*" else
                                f"{base}.{alias.name}".lstrip("."), base) for alias in node.names)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) and not node.args[0].value.startswith(".") \
                and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                     or (isinstance(node.func, ast.Name) and node.func.id in ("import_module", "__import__"))):
            found.append(Import(path, node.lineno, ast.unparse(node), node.args[0].value, node.args[0].value))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def violations(roots: dict[str, Path], contracts=CONTRACTS, root: Path = ROOT) -> list[str]:
    """`file:line: statement -> target: breaks "importer may not import X" (why)`, one per broken rule."""
    broken = set()
    for path, (module, is_init) in modules(roots).items():
        for imp in imports(path, module, is_init):
            for importer, forbidden, why in contracts:
                if not _under(module, importer):
                    continue
                for name in forbidden:
                    if _under(imp.target, name):
                        shown = path.relative_to(root) if path.is_relative_to(root) else path
                        reached = imp.module if _under(imp.module, name) else imp.target
                        broken.add(f"{shown}:{imp.line}: `{imp.statement}` -> {reached}: breaks "
                                   f"\"{importer} imports no {name}\" ({why})")
    return sorted(broken)


def test_the_product_keeps_the_import_contracts():
    roots = product_roots()
    assert {"speechcraft", "speechcraft.flows", "speechcraft.tasks", "speechcraft.models",
            "speechcraft.warehouse", "speechcraft.dashboards"} <= set(roots), roots
    checked = modules(roots)
    assert any(name == "speechcraft.tasks.corpora.base" for name, _ in checked.values())   # the walk reaches down
    broken = violations(roots)
    assert not broken, "import contracts broken (tests/test_architecture.py, CONTRACTS):\n" + "\n".join(broken)


def test_the_checker_catches_a_forbidden_import(tmp_path):
    """A fake product: forbidden imports at the top, in a function, relative, of a submodule by name, and in
    the else branch of TYPE_CHECKING (it runs); the TYPE_CHECKING import itself and the allowed ones pass."""
    def write(relative: str, text: str) -> None:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    for folder in ("speechcraft", "warehouse", "tasks", "tasks/corpora", "flows", "models"):
        write(f"{folder}/__init__.py", "")
    write("warehouse/lake.py", "from speechcraft.tasks import labels\nfrom speechcraft import settings, tasks\n")
    write("models/pitch.py", "import numpy\n\ndef f():\n    from ..warehouse import lake\n")
    write("tasks/corpora/base.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                   "    from ...warehouse import Lakehouse\nelse:\n    import speechcraft.warehouse.sql\n")
    write("tasks/ok.py", "from . import corpora\nfrom .corpora import base\nfrom ..models.pitch import f\n")
    write("flows/demo.py", "from ..fixtures import build_all\n")
    roots = {"speechcraft": tmp_path / "speechcraft", "speechcraft.warehouse": tmp_path / "warehouse",
             "speechcraft.tasks": tmp_path / "tasks", "speechcraft.flows": tmp_path / "flows",
             "speechcraft.models": tmp_path / "models"}

    broken = violations(roots, root=tmp_path)

    assert [line.split(": breaks ")[0] for line in broken] == [
        "flows/demo.py:1: `from ..fixtures import build_all` -> speechcraft.fixtures",
        "models/pitch.py:4: `from ..warehouse import lake` -> speechcraft.warehouse",
        "tasks/corpora/base.py:5: `import speechcraft.warehouse.sql` -> speechcraft.warehouse.sql",
        "warehouse/lake.py:1: `from speechcraft.tasks import labels` -> speechcraft.tasks",
        "warehouse/lake.py:2: `from speechcraft import settings, tasks` -> speechcraft.tasks",
    ], broken
    assert broken[0].endswith('breaks "speechcraft imports no speechcraft.fixtures" '
                              '(the product never imports test code)')
    assert 'breaks "speechcraft.tasks.corpora imports no speechcraft.warehouse"' in broken[2]
