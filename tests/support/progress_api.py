"""Learner progress rows as the sync would leave them, for the API, Wagtail and admin tests
(``progress_row``). The sync's own tests have theirs (tests/support/progress.py); the two are
to be merged."""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.utils import timezone

from b2b.models import LearnerProgress

_numbers = itertools.count(1)


def progress_row(contract, run, **fields) -> LearnerProgress:
    """A row of ``contract`` in ``run``: an active learner enrolled a day ago, not started,
    reported and changed an hour ago; ``fields`` override any of it (``edx_username``,
    ``user``, ``grade_percent``...)."""
    now = timezone.now()
    number = next(_numbers)
    values = {
        "edx_username": f"learner{number}",
        "edx_email": f"learner{number}@edx.example",
        "mode": "verified",
        "active": True,
        "enrolled_on": now - timedelta(days=1),
        "as_of": now - timedelta(hours=1),
        "changed_on": now - timedelta(hours=1),
    }
    values.update(fields)
    return LearnerProgress.objects.create(contract=contract, run=run, **values)
