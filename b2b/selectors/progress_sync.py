"""What the progress sync reads: which contract runs are live (the one owner of that rule), the
rows of one page's learners and who those learners are here, and a run's figures.

Each function is one query, whatever the number of learners it is given.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet

from b2b.enums import ProgressSyncState
from b2b.models import ContractPage, LearnerProgress, RunProgressSync
from courses.models import CourseRun, CourseRunEnrollment


def live_run_q(now: datetime, prefix: str = "") -> Q:
    """A contract run is live, and synced nightly, from its start until
    ``B2B_PROGRESS_DAYS_AFTER_END`` days after its end (both instants included); a run without
    an end is live from its start, a run without a start is not live."""
    after_end = timedelta(days=settings.B2B_PROGRESS_DAYS_AFTER_END)
    return (
        Q(**{f"{prefix}b2b_contract__isnull": False})
        & Q(**{f"{prefix}start_date__lte": now})
        & (
            Q(**{f"{prefix}end_date__isnull": True})
            | Q(**{f"{prefix}end_date__gte": now - after_end})
        )
    )


def live_runs(now: datetime, *, contract_ids: Iterable[int] | None = None) -> QuerySet[CourseRun]:
    """The live contract runs (of these contracts; None: of every contract), by id."""
    runs = CourseRun.objects.filter(live_run_q(now))
    if contract_ids is not None:
        runs = runs.filter(b2b_contract_id__in=list(contract_ids))
    return runs.order_by("id")


def contract_runs(contract_id: int) -> QuerySet[CourseRun]:
    """Every run of the contract, live or not, by courseware id."""
    return CourseRun.objects.filter(b2b_contract_id=contract_id).order_by("courseware_id")


def contract_run(run_id: int) -> CourseRun | None:
    """The run with this id if it is a contract run."""
    return CourseRun.objects.filter(pk=run_id, b2b_contract__isnull=False).first()


def run_by_key(courseware_id: str) -> CourseRun | None:
    return CourseRun.objects.filter(courseware_id=courseware_id).first()


def contract(contract_id: int) -> ContractPage | None:
    return ContractPage.objects.filter(pk=contract_id).first()


def progress_rows(run_id: int, usernames: Iterable[str]) -> dict[str, LearnerProgress]:
    """The run's rows of these Open edX learners, by username."""
    rows = LearnerProgress.objects.filter(run_id=run_id, edx_username__in=list(usernames))
    return {row.edx_username: row for row in rows}


def all_progress_rows(run_id: int) -> dict[str, LearnerProgress]:
    """Every row of the run, by username (the dry run works on them in memory)."""
    return {row.edx_username: row for row in LearnerProgress.objects.filter(run_id=run_id)}


def certificate_candidates(run_id: int, *, after: str, limit: int) -> list[LearnerProgress]:
    """The next ``limit`` rows, by username after ``after``, of learners whose certificate is
    worth asking for: they pass, passed once, or hold a certificate (of any status) already."""
    return list(
        LearnerProgress.objects.filter(run_id=run_id, edx_username__gt=after)
        .filter(certificate_worth_asking_q())
        .order_by("edx_username")[:limit]
    )


def certificate_worth_asking_q() -> Q:
    return Q(passed=True) | Q(first_passed_on__isnull=False) | ~Q(cert_status="")


def users_by_username(run_id: int, usernames: Iterable[str]) -> dict[str, int]:
    """Who these Open edX learners are here: the user whose enrollment in the run Open edX
    answered with that username (``CourseRunEnrollment.edx_username``). A learner without such
    an enrollment is left out, never guessed from an e-mail address."""
    rows = CourseRunEnrollment.objects.filter(
        run_id=run_id, edx_username__in=[name for name in usernames if name]
    ).values_list("edx_username", "user_id")
    return dict(rows)


def run_figures(run_id: int) -> tuple[int, int]:
    """(learners, of whom unmapped) of the run's rows."""
    figures = LearnerProgress.objects.filter(run_id=run_id).aggregate(
        learners=Count("pk"), unmapped=Count("pk", filter=Q(user__isnull=True))
    )
    return figures["learners"], figures["unmapped"]


def sync_states(run_ids: Iterable[int]) -> dict[int, RunProgressSync]:
    """The sync rows of these runs that have one, by run id."""
    return {s.run_id: s for s in RunProgressSync.objects.filter(run_id__in=list(run_ids))}


@dataclass(frozen=True)
class RunSyncHealth:
    """A contract run the health report looks at: live, or its last progress sync failed."""

    run_id: int
    courseware_id: str
    contract_id: int
    start_date: datetime | None
    live: bool
    state: str | None  # None: never synced
    last_success_on: datetime | None
    failures: int | None
    last_error: str | None


def runs_sync_health(contract_ids: Iterable[int] | None, now: datetime) -> list[RunSyncHealth]:
    """The contract runs (of these contracts; None: all) that are live or whose last progress
    sync failed, with their sync's state, by id (one query)."""
    runs = CourseRun.objects.filter(b2b_contract__isnull=False)
    if contract_ids is not None:
        runs = runs.filter(b2b_contract_id__in=list(contract_ids))
    live = live_run_q(now)
    rows = (
        runs.filter(live | Q(b2b_progress_sync__state=ProgressSyncState.FAILED))
        .annotate(is_live=ExpressionWrapper(live, output_field=BooleanField()))
        .order_by("id")
        .values_list(
            "id",
            "courseware_id",
            "b2b_contract_id",
            "start_date",
            "is_live",
            "b2b_progress_sync__state",
            "b2b_progress_sync__last_success_on",
            "b2b_progress_sync__failures",
            "b2b_progress_sync__last_error",
        )
    )
    return [RunSyncHealth(*row) for row in rows]


@dataclass(frozen=True)
class RunSyncState:
    """Where the progress sync of one of a contract's runs stands (staff's view)."""

    courseware_id: str
    synced: bool  # a sync row exists: the run was swept at least once, or is being
    state: str  # a ProgressSyncState value; "" before any sweep
    state_label: str
    last_attempt_on: datetime | None
    last_success_on: datetime | None
    failures: int
    last_error: str
    learners: int
    unmapped: int


def run_sync_states(contract_id: int) -> list[RunSyncState]:
    """Each of the contract's runs with its progress sync's state, by courseware id (one
    query)."""
    states = []
    for run in (
        CourseRun.objects.filter(b2b_contract_id=contract_id)
        .select_related("b2b_progress_sync")
        .order_by("courseware_id")
    ):
        sync = getattr(run, "b2b_progress_sync", None)
        if sync is None:
            states.append(
                RunSyncState(
                    courseware_id=run.courseware_id,
                    synced=False,
                    state="",
                    state_label="Never synced",
                    last_attempt_on=None,
                    last_success_on=None,
                    failures=0,
                    last_error="",
                    learners=0,
                    unmapped=0,
                )
            )
            continue
        states.append(
            RunSyncState(
                courseware_id=run.courseware_id,
                synced=True,
                state=sync.state,
                state_label=ProgressSyncState(sync.state).label,
                last_attempt_on=sync.last_attempt_on,
                last_success_on=sync.last_success_on,
                failures=sync.failures,
                last_error=sync.last_error,
                learners=sync.learners,
                unmapped=sync.unmapped,
            )
        )
    return states
