"""Read queries over runs and enrollments, set-based, for the other apps' reports (the B2B
health report reads contract runs and the enrollments Open edX has not taken yet here)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Min, Q, QuerySet

from courses.enums import EdxSyncState
from courses.models import CourseRun, CourseRunEnrollment


@dataclass(frozen=True)
class ContractRunState:
    """A contract run's schedule and the state of its Open edX copy."""

    id: int
    courseware_id: str
    contract_id: int
    start_date: datetime | None
    end_date: datetime | None
    enrollment_start: datetime | None
    enrollment_end: datetime | None
    edx_copy_state: str
    edx_copy_error: str
    edx_copy_updated_on: datetime | None


_RUN_FIELDS = (
    "id",
    "courseware_id",
    "b2b_contract_id",
    "start_date",
    "end_date",
    "enrollment_start",
    "enrollment_end",
    "edx_copy_state",
    "edx_copy_error",
    "edx_copy_updated_on",
)


def _of_contracts(queryset: QuerySet, field: str, contract_ids: Iterable[int] | None) -> QuerySet:
    if contract_ids is None:
        return queryset.filter(**{f"{field}__isnull": False})
    return queryset.filter(**{f"{field}__in": list(contract_ids)})


def contract_run_states(contract_ids: Iterable[int] | None) -> list[ContractRunState]:
    """The runs of these contracts (None: of every contract), by id (one query)."""
    runs = _of_contracts(CourseRun.objects.all(), "b2b_contract_id", contract_ids).order_by("id")
    return [ContractRunState(*row) for row in runs.values_list(*_RUN_FIELDS)]


@dataclass(frozen=True)
class UnpushedEnrollments:
    """Active enrollments of one run that Open edX has not taken: failed, or pending too long."""

    run_id: int
    courseware_id: str
    contract_id: int | None
    failed: int
    pending: int
    oldest: datetime
    last_error: str


def _unpushed(pending_before: datetime) -> Q:
    failed = Q(edx_sync_state=EdxSyncState.FAILED)
    stale = Q(edx_sync_state=EdxSyncState.PENDING, updated_on__lte=pending_before)
    return failed | stale


def unpushed_enrollments(
    *, contract_ids: Iterable[int] | None, pending_before: datetime
) -> list[UnpushedEnrollments]:
    """Per run: the active enrollments whose push to Open edX failed, or has been pending since
    before ``pending_before``. None for ``contract_ids``: every run, contract or not (one
    query)."""
    enrollments = CourseRunEnrollment.objects.filter(_unpushed(pending_before), active=True)
    if contract_ids is not None:
        enrollments = enrollments.filter(run__b2b_contract_id__in=list(contract_ids))
    rows = (
        enrollments.values("run_id", "run__courseware_id", "run__b2b_contract_id")
        .annotate(
            failed=Count("pk", filter=Q(edx_sync_state=EdxSyncState.FAILED)),
            pending=Count("pk", filter=Q(edx_sync_state=EdxSyncState.PENDING)),
            oldest=Min("updated_on"),
            last_error=Max("edx_sync_error"),
        )
        .order_by("run_id")
    )
    return [
        UnpushedEnrollments(
            run_id=row["run_id"],
            courseware_id=row["run__courseware_id"],
            contract_id=row["run__b2b_contract_id"],
            failed=row["failed"],
            pending=row["pending"],
            oldest=row["oldest"],
            last_error=row["last_error"] or "",
        )
        for row in rows
    ]


def unpushed_enrollment_ids(*, run_ids: Iterable[int], pending_before: datetime) -> list[int]:
    """The ids of the enrollments ``unpushed_enrollments`` counts in these runs (one query)."""
    return list(
        CourseRunEnrollment.objects.filter(
            _unpushed(pending_before), active=True, run_id__in=list(run_ids)
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
