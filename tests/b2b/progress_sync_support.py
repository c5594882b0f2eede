"""What the progress sync tests share: a contract run with learners in the fake Open edX, the
learners' users here, and a sleep that records its waits instead of waiting."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from b2b.models import LearnerProgress
from tests.support import factories as f


@dataclass
class Sleeps:
    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def contract_run(contract=None, *, tag="2026_C1", started_days_ago=10, ends_in_days=60):
    contract = contract or f.ContractPageFactory()
    now = timezone.now()
    return f.CourseRunFactory(
        b2b_contract=contract,
        run_tag=tag,
        start_date=now - timedelta(days=started_days_ago),
        end_date=now + timedelta(days=ends_in_days),
    )


def map_learner(run, username):
    """A user here whose enrollment push answered with this Open edX username."""
    return f.CourseRunEnrollmentFactory(run=run, edx_username=username).user


def rows(run):
    return {row.edx_username: row for row in LearnerProgress.objects.filter(run=run)}
