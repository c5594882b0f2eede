"""Learner progress rows for the tests of the progress e-mails (nudges, digests), written the
way the sync writes them. ``progress_row`` takes any of ``LearnerProgress``'s fields; the two
shortcuts make a row that needs attention: enrolled long ago and not started, or started and
stalled."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from b2b.models import LearnerProgress


def progress_row(contract, run, username, *, user=None, now: datetime | None = None, **fields):
    """A row of ``username`` in ``run``: active, enrolled a day ago, just synced, unless
    ``fields`` say otherwise."""
    now = now or timezone.now()
    values = {
        "active": True,
        "mode": "verified",
        "edx_email": user.email if user is not None else f"{username}@edx.example.com",
        "enrolled_on": now - timedelta(days=1),
        "as_of": now,
        "changed_on": now,
    }
    values.update(fields)
    return LearnerProgress.objects.create(
        contract=contract, run=run, edx_username=username, user=user, **values
    )


def not_started_row(contract, run, username, *, user=None, days_over: int = 1, **fields):
    """Enrolled B2B_PROGRESS_NOT_STARTED_DAYS + ``days_over`` days ago, not started."""
    days = settings.B2B_PROGRESS_NOT_STARTED_DAYS + days_over
    fields.setdefault("enrolled_on", timezone.now() - timedelta(days=days))
    return progress_row(contract, run, username, user=user, grade_percent=Decimal("0"), **fields)


def stalled_row(contract, run, username, *, user=None, days_over: int = 1, **fields):
    """Started (a grade of 40%), not passed, unchanged for B2B_PROGRESS_UNCHANGED_DAYS +
    ``days_over`` days."""
    now = timezone.now()
    days = settings.B2B_PROGRESS_UNCHANGED_DAYS + days_over
    fields.setdefault("enrolled_on", now - timedelta(days=days + 10))
    fields.setdefault("changed_on", now - timedelta(days=days))
    return progress_row(contract, run, username, user=user, grade_percent=Decimal("0.4"), **fields)


def done_row(contract, run, username, *, user=None, **fields):
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
