"""A manager's "refresh now" of a contract's progress: queued, at most once per
B2B_PROGRESS_REFRESH_SECONDS per contract (two managers clicking at once queue one sync)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from b2b.exceptions import RefreshTooSoon
from b2b.models import ContractPage, ContractProgress
from config.queueing import queue_after_commit
from users.models import User

# The registered name of the task that syncs every run of a contract (b2b/tasks.py).
SYNC_CONTRACT_TASK = "b2b.sync_contract_progress"


def refresh_wait(requested_on: datetime | None, now: datetime) -> float:
    """Seconds until a contract last refreshed at ``requested_on`` may be refreshed again."""
    if requested_on is None:
        return 0.0
    ready = requested_on + timedelta(seconds=settings.B2B_PROGRESS_REFRESH_SECONDS)
    return max(0.0, (ready - now).total_seconds())


def request_refresh(contract: ContractPage, user: User | None) -> datetime:
    """Queue a sync of the contract's runs now; returns when it was asked for. Raises
    ``RefreshTooSoon`` (with ``wait_seconds``) within the interval of the last request."""
    now = timezone.now()
    with transaction.atomic():
        ContractProgress.objects.get_or_create(contract=contract)
        state = ContractProgress.objects.select_for_update().get(contract=contract)
        wait = refresh_wait(state.refresh_requested_on, now)
        if wait > 0:
            minutes = max(1, round(wait / 60))
            raise RefreshTooSoon(
                f"This contract's progress was refreshed lately; try again in about "
                f"{minutes} minute{'s' if minutes != 1 else ''}.",
                wait_seconds=wait,
            )
        state.refresh_requested_on = now
        state.refresh_requested_by = user
        state.save(update_fields=["refresh_requested_on", "refresh_requested_by"])
        queue_after_commit(SYNC_CONTRACT_TASK, contract.pk)
    return now
