"""Helpers of the API tests: where the manager API lives and the tokens its callers send."""

import io

from django.core.management import call_command

API = "/api/v1/manager"


def api_token(email: str) -> str:
    """A token for the user with ``email``, made the way an operator makes one
    (``manage.py api_token create``)."""
    out = io.StringIO()
    call_command("api_token", "create", email, stdout=out)
    return out.getvalue().strip().splitlines()[-1]
