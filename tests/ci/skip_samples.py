"""Sample tests for tests/ci/test_sqlite_skips.py, run in a pytest of their own (the file name
keeps them out of the suite's collection)."""

import pytest


@pytest.mark.postgres
def test_marked(db):
    pass


def test_passes():
    pass


def test_skips_for_no_marker():
    pytest.skip("not today")
