"""The seams between apps: courses knows nothing of products, b2b reaches ecommerce only through
ecommerce's product and code entry points, and "the product of a course run" has one owner."""

import re
from pathlib import Path

import pytest

from tests.support.imports import imported_modules

ROOT = Path(__file__).resolve().parent.parent

# What b2b may import from ecommerce: its selectors, the product and bulk-code services, the
# enums that name a code's redemption type and the constants (the cart's product URL).
B2B_ENTRIES_INTO_ECOMMERCE = {
    "ecommerce.constants",
    "ecommerce.enums",
    "ecommerce.selectors",
    "ecommerce.services.bulk_codes",
    "ecommerce.services.invitation_codes",
    "ecommerce.services.products",
}


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


def _outside_entries(module: str) -> bool:
    if module.split(".")[0] != "ecommerce":
        return False
    # "from ecommerce.selectors import x" also yields "ecommerce.selectors.x"
    return not any(
        module == entry or module.startswith(f"{entry}.") for entry in B2B_ENTRIES_INTO_ECOMMERCE
    ) and module not in {"ecommerce", "ecommerce.services"}


def test_b2b_reaches_ecommerce_only_through_its_entries():
    offenders = {
        _name(path): sorted(m for m in imported_modules(path) if _outside_entries(m))
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
        # Writing CSV: every writer neutralises spreadsheet formulas.
        (r"\bcsv\.(writer|DictWriter)\(", "config/exports.py"),
    ],
    ids=["course-run-content-type", "product-creation", "csv-writer"],
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
