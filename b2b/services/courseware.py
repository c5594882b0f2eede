"""Attaching courseware (courses, runs, programs) to contracts, and detaching it.

Adding a course creates one contract run copied from the course's source run; a program does the
same for every course of its requirements tree. One call is all or nothing.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, time

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from b2b.exceptions import CoursewareConflict, CoursewareNotFound, NoSourceRun
from b2b.models import ContractPage
from b2b.services.audit import changed_fields, record
from b2b.services.codes.bound import check_code_bound
from b2b.services.codes.reconcile import request_code_reconciliation
from b2b.services.contracts.terms import get_contract
from courses.enums import RequirementNodeType
from courses.models import Course, CourseRun, CourseRunEnrollment, Program, ProgramRequirement
from courses.services.edx_copy import schedule_run_copy
from ecommerce.services.contract_codes.bulk import deactivate_codes_of_products
from ecommerce.services.contract_codes.reads import active_product_ids
from ecommerce.services.products import create_run_products, deactivate_run_products

log = logging.getLogger(__name__)

SOURCE_RUN_TAG = "SOURCE"


@dataclass(frozen=True)
class CoursewareResult:
    """What ``add_courseware`` or ``remove_courseware`` did (or, in a dry run, would do)."""

    created_runs: tuple[CourseRun, ...] = ()
    assigned_runs: tuple[CourseRun, ...] = ()
    detached_runs: tuple[CourseRun, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()  # (readable id, reason)
    attached: tuple[str, ...] = ()  # courses/programs recorded on the contract
    warnings: tuple[str, ...] = ()
    products_created: int = 0
    products_deactivated: int = 0
    codes_deactivated: int = 0  # unredeemed codes of the removed runs' products
    reconciliation_requested: bool = False  # the contract's codes are reconciled after commit


@dataclass
class _Changes:
    """What one call has done so far; frozen into a ``CoursewareResult`` at the end."""

    created_runs: list[CourseRun] = field(default_factory=list)
    assigned_runs: list[CourseRun] = field(default_factory=list)
    detached_runs: list[CourseRun] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    attached: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    products_created: int = 0
    products_deactivated: int = 0
    codes_deactivated: int = 0

    def result(self, *, reconciliation_requested: bool) -> CoursewareResult:
        return CoursewareResult(
            created_runs=tuple(self.created_runs),
            assigned_runs=tuple(self.assigned_runs),
            detached_runs=tuple(self.detached_runs),
            skipped=tuple(self.skipped),
            attached=tuple(self.attached),
            warnings=tuple(self.warnings),
            products_created=self.products_created,
            products_deactivated=self.products_deactivated,
            codes_deactivated=self.codes_deactivated,
            reconciliation_requested=reconciliation_requested,
        )


def resolve_courseware(readable_id: str) -> Course | CourseRun | Program:
    """Find a course, course run or program by its readable id."""
    readable_id = readable_id.strip()
    found: Course | CourseRun | Program | None
    if readable_id.startswith("program-v1:"):
        found = Program.objects.filter(readable_id=readable_id).first()
    elif readable_id.startswith("course-v1:") and readable_id.count("+") == 2:
        found = CourseRun.objects.select_related("course").filter(courseware_id=readable_id).first()
    elif readable_id.startswith("course-v1:") and readable_id.count("+") == 1:
        found = Course.objects.filter(readable_id=readable_id).first()
    else:
        raise CoursewareNotFound(
            f"{readable_id!r} is not a courseware id: expected course-v1:ORG+NUMBER, "
            "course-v1:ORG+NUMBER+RUN or program-v1:ORG+NAME"
        )
    if found is None:
        raise CoursewareNotFound(f"No courseware has id {readable_id!r}")
    return found


def program_courses(program: Program) -> list[Course]:
    """Every course in the program's requirements tree, nested programs included, in tree order."""
    ordered: list[Course] = []
    seen_courses: set[int] = set()
    seen_programs: set[int] = set()

    def walk(current: Program) -> None:
        if current.pk in seen_programs:
            return
        seen_programs.add(current.pk)
        nodes = (
            ProgramRequirement.objects.filter(program=current)
            .exclude(node_type=RequirementNodeType.OPERATOR)
            .select_related("course", "required_program")
            .order_by("path")
        )
        for node in nodes:
            if node.node_type == RequirementNodeType.COURSE and node.course_id not in seen_courses:
                seen_courses.add(node.course_id)
                ordered.append(node.course)
            elif node.node_type == RequirementNodeType.PROGRAM:
                walk(node.required_program)

    walk(program)
    return ordered


def contract_run_key(contract: ContractPage, course: Course, org_key: str) -> str:
    year = timezone.now().year
    return f"course-v1:UAI_{org_key}+{course.number}+{year}_C{contract.pk}"


def contract_run_schedule(contract: ContractPage) -> dict:
    """Run dates mirroring the contract: the end date is inclusive; open-ended runs start now."""
    tz = timezone.get_current_timezone()
    start = (
        datetime.combine(contract.contract_start, time.min, tzinfo=tz)
        if contract.contract_start
        else timezone.now()
    )
    end = (
        datetime.combine(contract.contract_end, time.max, tzinfo=tz)
        if contract.contract_end
        else None
    )
    return {"start_date": start, "end_date": end, "enrollment_start": start, "enrollment_end": end}


def _source_runs(courses: list[Course]) -> dict[int, tuple[CourseRun, bool]]:
    """Per course id: its source run, and whether it is a true SOURCE run (one query)."""
    found: dict[int, tuple[CourseRun, bool]] = {}
    candidates = CourseRun.objects.filter(course__in=courses, b2b_contract__isnull=True).order_by(
        "id"
    )
    for run in candidates:
        is_source = run.run_tag == SOURCE_RUN_TAG
        current = found.get(run.course_id)
        if current is None or (is_source and not current[1]):
            found[run.course_id] = (run, is_source)
    return found


def _create_runs(contract: ContractPage, courses: list[Course], result: _Changes) -> None:
    """Create one contract run per course that does not have one yet. All or nothing."""
    org_key = contract.organization.org_key
    existing = set(
        CourseRun.objects.filter(b2b_contract=contract, course__in=courses).values_list(
            "course_id", flat=True
        )
    )
    wanted = []
    for course in courses:
        if course.pk in existing:
            result.skipped.append((course.readable_id, "the contract already has a run for it"))
        else:
            wanted.append(course)
    if not wanted:
        return

    sources = _source_runs(wanted)
    keys = {course.pk: contract_run_key(contract, course, org_key) for course in wanted}
    for course in wanted:
        if course.pk not in sources:
            raise NoSourceRun(
                f"Course {course.readable_id} has no runs to copy: import its SOURCE run first"
            )
    collisions = set(
        CourseRun.objects.filter(courseware_id__in=keys.values()).values_list(
            "courseware_id", flat=True
        )
    )
    for course in wanted:
        if keys[course.pk] in collisions:
            raise CoursewareConflict(
                f"Course {course.readable_id}: a run with key {keys[course.pk]} already exists"
            )

    schedule = contract_run_schedule(contract)
    runs = CourseRun.objects.bulk_create(
        [
            CourseRun(
                course=course,
                title=course.title,
                courseware_id=keys[course.pk],
                run_tag=keys[course.pk].rsplit("+", 1)[1],
                live=True,
                is_self_paced=True,
                b2b_contract=contract,
                **schedule,
            )
            for course in wanted
        ]
    )
    for course, run in zip(wanted, runs, strict=True):
        source, is_source = sources[course.pk]
        if not is_source:
            warning = (
                f"Course {course.readable_id} has no SOURCE run; "
                f"copied {source.courseware_id} instead"
            )
            log.info(warning)
            result.warnings.append(warning)
        schedule_run_copy(run, source=source)
    result.created_runs.extend(runs)
    result.products_created += create_run_products(runs=runs, price=contract.price)


def _assign_run(contract: ContractPage, run: CourseRun, result: _Changes) -> None:
    run = CourseRun.objects.select_for_update(no_key=True).get(pk=run.pk)
    if run.b2b_contract_id == contract.pk:
        result.skipped.append((run.courseware_id, "already assigned to this contract"))
        return
    if run.b2b_contract_id is not None:
        raise CoursewareConflict(
            f"Run {run.courseware_id} is already assigned to contract {run.b2b_contract_id}"
        )
    run.b2b_contract = contract
    run.save(update_fields=["b2b_contract", "updated_on"])
    result.assigned_runs.append(run)
    result.products_created += create_run_products(runs=[run], price=contract.price)


def courseware_of(contract: ContractPage) -> dict[str, list[str]]:
    """What the audit trail follows of a contract's courseware: the courses and programs
    attached to it and its runs, by readable id (three queries)."""
    attached = [*contract.courses.values_list("readable_id", flat=True)]
    attached += contract.programs.values_list("readable_id", flat=True)
    runs = CourseRun.objects.filter(b2b_contract=contract).values_list("courseware_id", flat=True)
    return {"courseware": sorted(attached), "runs": sorted(runs)}


def _record(contract: ContractPage, action: str, item_id: str, before: dict) -> None:
    changes = changed_fields(before, courseware_of(contract))
    if changes:
        record(contract, action, changes=changes, details={"courseware_id": item_id})


@transaction.atomic
def add_courseware(
    *, contract_id: int, courseware_id: str, create_runs: bool = True
) -> CoursewareResult:
    """Attach a course, run or program to the contract (see the module docstring)."""
    contract = get_contract(contract_id, for_update=True)
    item = resolve_courseware(courseware_id)
    before = courseware_of(contract)
    result = _Changes()
    if isinstance(item, CourseRun):
        _assign_run(contract, item, result)
    else:
        if isinstance(item, Program):
            contract.programs.add(item)
            courses = program_courses(item)
        else:
            contract.courses.add(item)
            courses = [item]
        result.attached.append(item.readable_id)
        if create_runs:
            _create_runs(contract, courses, result)
    if result.products_created:
        check_code_bound(contract=contract)  # rolls the new runs and products back if refused
    requested = bool(result.created_runs or result.assigned_runs or result.attached)
    if requested:
        _record(contract, "b2b.courseware.add", courseware_id.strip(), before)
        request_code_reconciliation(contract.pk)
    return result.result(reconciliation_requested=requested)


@transaction.atomic
def add_courseware_set(
    *,
    contract_id: int,
    programs: list[Program],
    courses: list[Course],
    run_courses: list[Course],
) -> CoursewareResult:
    """Record ``programs`` and ``courses`` on the contract and give it one new run (copied in
    Open edX from the course's source run, with its product) per course of ``run_courses``:
    what a renewal or an import sets up in one go. All or nothing."""
    contract = get_contract(contract_id, for_update=True)
    result = _Changes()
    contract.programs.add(*programs)
    contract.courses.add(*courses)
    result.attached.extend([p.readable_id for p in programs] + [c.readable_id for c in courses])
    _create_runs(contract, list(dict.fromkeys(run_courses)), result)
    if result.products_created:
        check_code_bound(contract=contract)  # rolls the new runs and products back if refused
    requested = bool(result.created_runs or result.attached)
    if requested:
        request_code_reconciliation(contract.pk)
    return result.result(reconciliation_requested=requested)


def courseware_set(contract: ContractPage) -> tuple[list[Program], list[Course], list[Course]]:
    """The contract's programs and courses (by readable id) and the courses of its runs (by
    run id): what ``add_courseware_set`` gives another contract."""
    programs = list(contract.programs.order_by("readable_id"))
    courses = list(contract.courses.order_by("readable_id"))
    runs = CourseRun.objects.filter(b2b_contract=contract).select_related("course").order_by("pk")
    run_courses = list(dict.fromkeys(run.course for run in runs))
    return programs, courses, run_courses


@transaction.atomic
def remove_courseware(*, contract_id: int, courseware_id: str) -> CoursewareResult:
    """Detach a run, or the contract's runs of a course or program; their products are
    deactivated so nobody can buy them, and so are their unredeemed codes (redeemed ones stay,
    as history), in this transaction. The runs themselves are kept, with their enrollments: a
    warning says how many learners are enrolled."""
    contract = get_contract(contract_id, for_update=True)
    item = resolve_courseware(courseware_id)
    before = courseware_of(contract)
    result = _Changes()
    runs = CourseRun.objects.filter(b2b_contract=contract)
    if isinstance(item, CourseRun):
        if item.b2b_contract_id != contract.pk:
            raise CoursewareConflict(f"Run {item.courseware_id} is not a run of this contract")
        runs = runs.filter(pk=item.pk)
    elif isinstance(item, Program):
        if not contract.programs.filter(pk=item.pk).exists():
            raise CoursewareConflict(f"Program {item.readable_id} is not attached to this contract")
        contract.programs.remove(item)
        runs = runs.filter(course__in=program_courses(item))
    else:
        attached = contract.courses.filter(pk=item.pk).exists()
        if not attached and not runs.filter(course=item).exists():
            raise CoursewareConflict(f"Course {item.readable_id} is not attached to this contract")
        contract.courses.remove(item)
        runs = runs.filter(course=item)

    detached = list(runs.select_for_update(no_key=True))
    run_ids = [run.pk for run in detached]
    product_ids = active_product_ids(run_ids)
    result.products_deactivated = deactivate_run_products(run_ids=run_ids)
    # Nobody can buy these products any more: their unused codes go with them, now.
    result.codes_deactivated = deactivate_codes_of_products(
        contract_id=contract.pk, product_ids=product_ids
    )
    CourseRun.objects.filter(pk__in=run_ids).update(b2b_contract=None, updated_on=timezone.now())
    result.detached_runs = detached
    enrolled = _enrolled_learners_warning(run_ids)
    if enrolled:
        result.warnings.append(enrolled)
    _record(contract, "b2b.courseware.remove", courseware_id.strip(), before)
    request_code_reconciliation(contract.pk)
    return result.result(reconciliation_requested=True)


def _enrolled_learners_warning(run_ids: list[int]) -> str | None:
    """One line naming the detached runs that have learners enrolled, or None (one query)."""
    counts = list(
        CourseRunEnrollment.objects.filter(run_id__in=run_ids, active=True)
        .values("run__courseware_id")
        .annotate(n=Count("pk"))
        .order_by("run__courseware_id")
        .values_list("run__courseware_id", "n")
    )
    total = sum(n for _, n in counts)
    if not total:
        return None
    learners = "1 learner is" if total == 1 else f"{total} learners are"
    runs = ", ".join(f"{courseware_id}: {n}" for courseware_id, n in counts)
    return (
        f"{learners} enrolled in the detached runs ({runs}); they keep their enrollments, "
        "outside the contract"
    )
