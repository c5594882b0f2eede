"""The seams between apps: courses knows nothing of products, b2b reaches ecommerce only through
the door of a contract's codes and the product service, and "the product of a course run" has one
owner."""

import re
from pathlib import Path

import pytest

from tests.support.imports import allowed_imports, imported_modules, module_of

ROOT = Path(__file__).resolve().parent.parent

# What b2b may import from ecommerce: the import contract's ignored imports (pyproject.toml),
# read here so that this test and import-linter cannot disagree: the door of a contract's codes,
# the product service, the enums and the constants; and, for one importer, what it alone may.
DOOR = allowed_imports("b2b reaches ecommerce")
B2B_ENTRIES_INTO_ECOMMERCE = DOOR.pop("b2b.**")
B2B_MODULE_ENTRIES = DOOR


def _sources(app: str) -> list[Path]:
    return sorted(p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts)


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_courses_does_not_import_ecommerce():
    offenders = {
        _name(path): sorted(m for m in imported_modules(path) if m.split(".")[0] == "ecommerce")
        for path in _sources("courses")
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def _outside_entries(module: str, entries: set[str]) -> bool:
    if module.split(".")[0] != "ecommerce":
        return False
    # "from ecommerce.enums import x" also yields "ecommerce.enums.x"
    return not any(module == entry or module.startswith(f"{entry}.") for entry in entries) and (
        module not in {"ecommerce", "ecommerce.services"}
    )


def test_b2b_reaches_ecommerce_only_through_its_entries():
    offenders = {
        _name(path): sorted(
            m
            for m in imported_modules(path)
            if _outside_entries(
                m, B2B_ENTRIES_INTO_ECOMMERCE | B2B_MODULE_ENTRIES.get(module_of(path), set())
            )
        )
        for path in _sources("b2b")
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


@pytest.mark.parametrize(
    ("pattern", "owner"),
    [
        # The content type that links a product to the course run it sells.
        (r"get_for_model\(\s*CourseRun\s*\)", "ecommerce/selectors.py"),
        # Creating products.
        (
            r"(?<!class )\bProduct\(|\bProduct\.objects\.(bulk_|get_or_|update_or_)?create\(",
            "ecommerce/services/products.py",
        ),
        # Making codes in code (a contract's; staff add other codes in the Django admin).
        (
            r"(?<!class )\bDiscount\(|\bDiscount\.objects\.(bulk_|get_or_|update_or_)?create\(",
            "ecommerce/services/contract_codes/creation.py",
        ),
        # Writing CSV: every writer neutralises spreadsheet formulas.
        (r"\bcsv\.(writer|DictWriter)\(", "config/exports.py"),
    ],
    ids=["course-run-content-type", "product-creation", "code-creation", "csv-writer"],
)
def test_one_owner(pattern, owner):
    apps = ("b2b", "cms", "config", "courses", "ecommerce", "users")
    holders = sorted(
        _name(path)
        for app in apps
        for path in _sources(app)
        if re.search(pattern, path.read_text(encoding="utf-8"))
    )
    assert holders == [owner]


def test_tasks_are_bound_to_the_projects_celery_app():
    """Celery is loaded only where it is used (docs/architecture.md, "Start-up"): a
    ``shared_task`` queued before ``config.celery`` was imported would go to Celery's default,
    unconfigured app, so every task is declared with ``config.celery.app.task``."""
    apps = ("b2b", "cms", "config", "courses", "ecommerce", "users")
    shared = sorted(
        _name(path)
        for app in apps
        for path in _sources(app)
        if re.search(r"\bshared_task\b", path.read_text(encoding="utf-8"))
    )
    assert shared == []


def test_the_door_is_read_from_the_import_contract():
    """The entries above come from pyproject.toml's contract: its door into the codes is there."""
    assert "ecommerce.services.contract_codes.reads" in B2B_ENTRIES_INTO_ECOMMERCE
