"""Reading a source file's imports without importing it, for the tests of the seams."""

import ast
from pathlib import Path


def imported_modules(path: Path) -> set[str]:
    """Every module the file imports, wherever the import statement stands (inside functions
    too); ``from a.b import c`` yields both ``a.b`` and ``a.b.c``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found
