import io

import pytest
from django.core.management import call_command


@pytest.fixture
def run_command(db, site_tree):
    """Call a management command; returns (stdout, stderr)."""

    def run(*args):
        out, err = io.StringIO(), io.StringIO()
        call_command(*args, stdout=out, stderr=err)
        return out.getvalue(), err.getvalue()

    return run


def call_command_output(*args) -> str:
    """A management command's standard output, for tests that run it without the fixture."""
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()
