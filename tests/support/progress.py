"""LearnerProgress rows made in tests, as the Open edX sync would leave them."""

from datetime import timedelta

from django.utils import timezone

from b2b.models import LearnerProgress

_made = 0


def progress_row(contract, run, **fields) -> LearnerProgress:
    """A row of ``run`` (a run of ``contract``): an active learner enrolled yesterday, not started,
    seen now. ``fields`` override any value; ``edx_username`` defaults to a fresh one, and to the
    user's username when ``user`` is given."""
    global _made
    _made += 1
    now = timezone.now()
    user = fields.get("user")
    values = {
        "edx_username": getattr(user, "username", None) or f"learner{_made}",
        "edx_email": getattr(user, "email", None) or f"learner{_made}@openedx.example",
        "mode": "verified",
        "active": True,
        "enrolled_on": now - timedelta(days=1),
        "grade_percent": None,
        "as_of": now,
        "changed_on": now,
    }
    values.update(fields)
    return LearnerProgress.objects.create(contract=contract, run=run, **values)
