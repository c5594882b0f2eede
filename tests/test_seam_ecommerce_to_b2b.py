"""The seam between ecommerce and b2b: ecommerce reaches b2b only through a few entries.

The import graph is read from the source (every import, including those inside functions), so
a lazy import counts as much as one at the top of a module.
"""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("b2b", "cms", "config", "courses", "ecommerce", "users")

# What ecommerce may import from b2b: the admission rule and the one way in (with the lock
# checkout and receipts take on the contracts before the code), b2b's enums and exceptions, and
# the selectors of a learner's contracts (the dashboard's, and the member rule's at checkout).
ECOMMERCE_ENTRIES_INTO_B2B = {
    "b2b.enums": None,  # any name
    "b2b.exceptions": None,
    "b2b.services.memberships": {"admission_refusal", "attach_learner", "lock_contracts_to_join"},
    "b2b.selectors.learners": {"member_contracts_of", "member_contracts_among"},
}
# Names a module may take from b2b for its annotations only, under ``if TYPE_CHECKING:``: the
# contract's type in the cart's code check, which reads the contract through the entries above.
TYPE_ONLY_IMPORTS = {"ecommerce.services.code_validation": {"b2b.models": {"ContractPage"}}}


def _module_files() -> dict[str, Path]:
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


MODULES = _module_files()


def _type_checking(node: ast.AST) -> bool:
    """Whether ``node`` is an ``if TYPE_CHECKING:`` (or ``if typing.TYPE_CHECKING:``) block."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _nodes(tree: ast.AST, *, at_runtime: bool):
    """Every node of the tree; with ``at_runtime``, none inside an ``if TYPE_CHECKING:`` block."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if at_runtime and _type_checking(node):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def _imports(module: str, *, at_runtime: bool = False) -> dict[str, set[str]]:
    """Imported module -> the names taken from it ("*" for ``import module``); with
    ``at_runtime``, only the imports that run (none under ``if TYPE_CHECKING:``)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: dict[str, set[str]] = defaultdict(set)
    tree = ast.parse(path.read_text(), filename=str(path))
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
                if submodule in MODULES:  # from b2b import models
                    found[submodule].add("*")
                else:
                    found[base].add(alias.name)
    return found


def _graph() -> dict[str, set[str]]:
    return {
        module: {imported for imported in _imports(module) if imported in MODULES}
        for module in MODULES
    }


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_ecommerce_reaches_b2b_only_through_its_entries():
    wrong = []
    for module in sorted(m for m in MODULES if m.startswith("ecommerce")):
        for imported, names in _imports(module).items():
            if imported != "b2b" and not imported.startswith("b2b."):
                continue
            allowed = ECOMMERCE_ENTRIES_INTO_B2B.get(imported, set())
            type_only = TYPE_ONLY_IMPORTS.get(module, {}).get(imported, set())
            if allowed is not None and not names <= allowed | type_only:
                wrong.append(f"{module} imports {sorted(names)} from {imported}")
    assert wrong == []


def test_type_only_imports_stay_under_type_checking():
    """A name allowed for annotations only is imported under ``if TYPE_CHECKING:``, never by an
    import that runs."""
    for module, allowed in TYPE_ONLY_IMPORTS.items():
        at_runtime = _imports(module, at_runtime=True)
        for imported, names in allowed.items():
            assert names <= _imports(module)[imported]  # the allowance is still used
            assert not names & at_runtime.get(imported, set()), (module, imported)


def test_no_import_cycle_runs_through_b2b_models_and_ecommerce():
    graph = _graph()
    from_models = _reachable(graph, "b2b.models")
    back_to_models = sorted(
        module
        for module in from_models
        if module.startswith("ecommerce") and "b2b.models" in _reachable(graph, module)
    )
    assert back_to_models == []


def test_the_graph_sees_lazy_and_package_imports():
    """The reader itself: an import inside a function and ``from pkg import module`` count."""
    assert "b2b.selectors.listings" in _imports("b2b.panels")  # imported inside the render method
    assert "b2b.models" in _imports("b2b.exceptions")  # under TYPE_CHECKING
    assert "b2b.models" not in _imports("b2b.exceptions", at_runtime=True)
    assert "b2b.models" in _graph()["b2b.services.memberships"]
