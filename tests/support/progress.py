"""LearnerProgress rows made in tests, as the Open edX sync would leave them: ``progress_row``
takes any of the model's fields; the shortcuts make a row that needs attention (not started long
after enrolling, or started and stalled) or one that is done."""

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from b2b.models import LearnerProgress

_numbers = itertools.count(1)


def progress_row(
    contract, run, username: str | None = None, *, user=None, now: datetime | None = None, **fields
) -> LearnerProgress:
    """A row of ``username`` (a fresh one by default) in ``run``, a run of ``contract``: an
    active learner enrolled a day before ``now``, not started, seen and changed at ``now``;
    ``fields`` override any value."""
    number = next(_numbers)
    now = now or timezone.now()
    username = username or fields.pop("edx_username", None) or f"learner{number}"
    values = {
        "edx_email": user.email if user is not None else f"{username}@openedx.example",
        "mode": "verified",
        "active": True,
        "enrolled_on": now - timedelta(days=1),
        "as_of": now,
        "changed_on": now,
    }
    values.update(fields)
    return LearnerProgress.objects.create(
        contract=contract, run=run, edx_username=username, user=user, **values
    )


def not_started_row(contract, run, username=None, *, user=None, days_over: int = 1, **fields):
    """Enrolled B2B_PROGRESS_NOT_STARTED_DAYS + ``days_over`` days ago, not started."""
    days = settings.B2B_PROGRESS_NOT_STARTED_DAYS + days_over
    fields.setdefault("enrolled_on", timezone.now() - timedelta(days=days))
    return progress_row(contract, run, username, user=user, grade_percent=Decimal("0"), **fields)


def stalled_row(contract, run, username=None, *, user=None, days_over: int = 1, **fields):
    """Started (a grade of 40%), not passed, unchanged for B2B_PROGRESS_UNCHANGED_DAYS +
    ``days_over`` days."""
    now = timezone.now()
    days = settings.B2B_PROGRESS_UNCHANGED_DAYS + days_over
    fields.setdefault("enrolled_on", now - timedelta(days=days + 10))
    fields.setdefault("changed_on", now - timedelta(days=days))
    return progress_row(contract, run, username, user=user, grade_percent=Decimal("0.4"), **fields)


def done_row(contract, run, username=None, *, user=None, **fields):
    """Passed and certified, just now."""
    now = timezone.now()
    return progress_row(
        contract,
        run,
        username,
        user=user,
        grade_percent=Decimal("0.9"),
        passed=True,
        first_passed_on=fields.pop("first_passed_on", now),
        cert_status="downloadable",
        cert_created_on=fields.pop("cert_created_on", now),
        **fields,
    )
