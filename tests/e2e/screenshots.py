"""Where browser tests save their screenshots.

The pictures in docs/img are refreshed only on request (`make screenshots`, which sets
UPDATE_SCREENSHOTS=1); ordinary runs still take them, into a temporary folder, so a test run
leaves the working tree clean.
"""

import os
import tempfile
from pathlib import Path

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def screenshot_path(name: str) -> str:
    folder = (
        DOCS_IMG
        if os.environ.get("UPDATE_SCREENSHOTS") == "1"
        else Path(tempfile.gettempdir()) / "b2b-screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / name)
