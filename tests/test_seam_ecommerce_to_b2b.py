"""The seam between ecommerce and b2b: ecommerce reaches b2b only through a few entries.

The import graph is read from the source (every import, including those inside functions), so
a lazy import counts as much as one at the top of a module.
"""

from tests.support.imports import allowed_imports, imports_of, module_files

MODULES = module_files()


def _imports(module: str, *, at_runtime: bool = False) -> dict[str, set[str]]:
    return imports_of(MODULES[module], at_runtime=at_runtime)


# What ecommerce may import from b2b: the admission rule and the one way in (with the lock
# checkout and receipts take on the contracts before the code), b2b's enums and exceptions, and
# the selectors of a learner's contracts (the dashboard's, and the member rule's at checkout).
# The modules are the import contract's (pyproject.toml, read here); which names of them, where
# import-linter cannot say it, is written here (None: any name).
ENTRY_NAMES = {
    "b2b.enums": None,
    "b2b.exceptions": None,
    "b2b.services.memberships": {"admission_refusal", "attach_learner", "lock_contracts_to_join"},
    "b2b.selectors.learners": {"member_contracts_of", "member_contracts_among"},
}
SEAM = allowed_imports("ecommerce reaches b2b")
ECOMMERCE_ENTRIES_INTO_B2B = {
    module: ENTRY_NAMES.get(module, set()) for module in SEAM.pop("ecommerce.**")
}
# Names a module may take from b2b for its annotations only, under ``if TYPE_CHECKING:``: the
# contract's type in the cart's code check, which reads the contract through the entries above.
TYPE_ONLY_NAMES = {("ecommerce.services.code_validation", "b2b.models"): {"ContractPage"}}
TYPE_ONLY_IMPORTS = {
    importer: {imported: TYPE_ONLY_NAMES.get((importer, imported), set()) for imported in modules}
    for importer, modules in SEAM.items()
}


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


def test_the_entries_are_the_import_contracts():
    """The lists above are read from pyproject.toml: the names written here are for modules the
    contract lets through, and the contract lets something through."""
    assert set(ENTRY_NAMES) == set(ECOMMERCE_ENTRIES_INTO_B2B)
    assert {key[0] for key in TYPE_ONLY_NAMES} == set(TYPE_ONLY_IMPORTS)
