"""Which modules may import which: read from the source, local (function-level) imports too."""

from pathlib import Path

import pytest

from tests.support.imports import imported_modules

ROOT = Path(__file__).resolve().parent.parent


def _offenders(files: list[Path], forbidden: str) -> dict[str, list[str]]:
    offenders = {}
    for path in files:
        hits = sorted(
            m for m in imported_modules(path) if m == forbidden or m.startswith(f"{forbidden}.")
        )
        if hits:
            offenders[str(path.relative_to(ROOT))] = hits
    return offenders


def test_cms_does_not_import_b2b():
    """b2b's pages hang under cms's home page: b2b knows cms, never the other way round."""
    assert _offenders(sorted((ROOT / "cms").rglob("*.py")), "b2b") == {}


@pytest.mark.parametrize("app", ["b2b", "courses"])
def test_services_do_not_import_their_tasks(app):
    """The task module imports the service; the service queues the task by its name."""
    services = sorted((ROOT / app / "services").glob("*.py"))
    assert services
    assert _offenders(services, f"{app}.tasks") == {}
