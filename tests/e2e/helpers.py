"""Helpers of the browser tests: signing in, and where the screenshots are saved.

The pictures in docs/img are refreshed only on request (`make screenshots`, which sets
UPDATE_SCREENSHOTS=1); ordinary runs still take them, into a temporary folder, so a test run
leaves the working tree clean.
"""

import os
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.ecommerce.helpers import PASSWORD

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def screenshot_path(name: str) -> str:
    folder = (
        DOCS_IMG
        if os.environ.get("UPDATE_SCREENSHOTS") == "1"
        else Path(tempfile.gettempdir()) / "b2b-screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / name)


def sign_in(page: Page, email: str) -> None:
    """Fill the site's sign-in page as a learner (the password ``tests.ecommerce.helpers.learner``
    gives everyone)."""
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
