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
