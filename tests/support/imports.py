"""The one reader of the source's imports for the seam tests, and of the import contracts they
share with import-linter (``[tool.importlinter]`` in pyproject.toml).

Files are read, never imported: every import counts, wherever it stands (inside a function
too), and ``from pkg import module`` is an import of the module. An import under ``if
TYPE_CHECKING:`` counts unless the caller asks for the imports that run.
"""

import ast
import tomllib
from collections import defaultdict
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("b2b", "cms", "config", "courses", "ecommerce", "users")


@cache
def module_files() -> dict[str, Path]:
    """Every app module (migrations left out), by dotted name."""
    files = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            files[".".join(parts)] = path
    return files


def module_of(path: Path) -> str:
    parts = path.resolve().relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking(node: ast.AST) -> bool:
    """Whether ``node`` is an ``if TYPE_CHECKING:`` (or ``if typing.TYPE_CHECKING:``) block."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _nodes(tree: ast.AST, *, at_runtime: bool) -> Iterator[ast.AST]:
    """Every node of the tree; with ``at_runtime``, none inside an ``if TYPE_CHECKING:`` block."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if at_runtime and _type_checking(node):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def imports_of(path: Path, *, at_runtime: bool = False) -> dict[str, set[str]]:
    """Imported module -> the names the file takes from it ("*" for the module itself); with
    ``at_runtime``, only the imports that run (none under ``if TYPE_CHECKING:``)."""
    module = module_of(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    modules = module_files()
    found: dict[str, set[str]] = defaultdict(set)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in _nodes(tree, at_runtime=at_runtime):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found[alias.name].add("*")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in modules:  # from b2b import models
                    found[submodule].add("*")
                else:
                    found[base].add(alias.name)
    return found


def imported_modules(path: Path) -> set[str]:
    """Every module the file imports; ``from a.b import c`` yields both ``a.b`` and ``a.b.c``."""
    found = set()
    for module, names in imports_of(path).items():
        found.add(module)
        found.update(f"{module}.{name}" for name in names if name != "*")
    return found


@cache
def _contracts() -> tuple[dict, ...]:
    with (ROOT / "pyproject.toml").open("rb") as config:
        return tuple(tomllib.load(config)["tool"]["importlinter"]["contracts"])


def contract(name_starts: str) -> dict:
    """The import-linter contract whose name starts so (exactly one)."""
    (found,) = [c for c in _contracts() if c["name"].startswith(name_starts)]
    return found


def allowed_imports(name_starts: str) -> dict[str, set[str]]:
    """A forbidden contract's ignored imports as importer pattern -> imported modules, e.g.
    ``{"b2b.**": {"ecommerce.enums", ...}}``: what the contract lets through."""
    allowed: dict[str, set[str]] = defaultdict(set)
    for line in contract(name_starts).get("ignore_imports", []):
        importer, imported = (part.strip() for part in line.split("->"))
        allowed[importer].add(imported)
    return dict(allowed)
