"""b2b_contract courseware: runs, products and attachments, all or nothing."""

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import CommandError
from django.utils import timezone

from b2b.models import ContractCodeStatus
from courses.enums import RequirementNodeType, RequirementOperator
from courses.models import CourseRun
from ecommerce.models import Product
from tests.support import factories as f

pytestmark = pytest.mark.django_db
YEAR = timezone.now().year


def _product(run):
    return Product.objects.get(
        content_type=ContentType.objects.get_for_model(CourseRun), object_id=run.pk, is_active=True
    )


@pytest.fixture
def org(site_tree):
    return f.OrganizationPageFactory(org_key="UNIX", title="UniversityX")


@pytest.fixture
def contract(org):
    return f.ContractPageFactory(
        parent=org,
        contract_start=date(2026, 3, 1),
        contract_end=date(2026, 8, 31),
        enrollment_fixed_price=Decimal("75.00"),
    )


def _course(number, *, source=True, runs=()):
    course = f.CourseFactory(readable_id=f"course-v1:UAI_SOURCE+{number}", title=f"Course {number}")
    for tag in runs:
        f.CourseRunFactory(course=course, run_tag=tag)
    if source:
        f.CourseRunFactory(course=course, run_tag="SOURCE")
    return course


def test_course_creates_one_contract_run(run_command, contract):
    course = _course("DEMO101", runs=["2025_T1"])
    out, _ = run_command("b2b_contract", "courseware", str(contract.pk), course.readable_id)

    run = CourseRun.objects.get(b2b_contract=contract)
    key = f"course-v1:UAI_UNIX+DEMO101+{YEAR}_C{contract.pk}"
    assert run.courseware_id == key
    assert run.run_tag == f"{YEAR}_C{contract.pk}"
    assert run.course == course
    assert run.live and run.is_self_paced
    assert run.start_date == datetime(2026, 3, 1, tzinfo=UTC)
    assert run.end_date == datetime.combine(date(2026, 8, 31), time.max, tzinfo=UTC)
    assert run.enrollment_start == run.start_date
    assert run.enrollment_end == run.end_date
    assert run.edx_copy_source == f"{course.readable_id}+SOURCE"
    assert _product(run).price == Decimal("75.00")
    assert list(contract.courses.all()) == [course]
    assert f"Created run {key}" in out
    assert ContractCodeStatus.objects.get(pk=contract.pk).requested_version == 1


def test_open_ended_contract_runs_start_now(run_command, org):
    contract = f.ContractPageFactory(parent=org)
    course = _course("DEMO102")
    before = timezone.now()
    run_command("b2b_contract", "courseware", str(contract.pk), course.readable_id)
    run = CourseRun.objects.get(b2b_contract=contract)
    assert before <= run.start_date <= timezone.now()
    assert run.enrollment_start == run.start_date
    assert run.end_date is None and run.enrollment_end is None
    assert _product(run).price == Decimal("0.00")


def test_course_without_source_run_uses_first_run_and_warns(run_command, contract):
    course = _course("DEMO201", source=False, runs=["2026_T1", "2026_T2"])
    _, err = run_command("b2b_contract", "courseware", str(contract.pk), course.readable_id)
    run = CourseRun.objects.get(b2b_contract=contract)
    assert run.edx_copy_source == f"{course.readable_id}+2026_T1"
    assert f"has no SOURCE run; copied {course.readable_id}+2026_T1 instead" in err


def test_course_with_no_runs_is_an_error(run_command, contract):
    course = _course("EMPTY", source=False)
    with pytest.raises(
        CommandError, match=re.escape(f"Course {course.readable_id} has no runs to copy")
    ):
        run_command("b2b_contract", "courseware", str(contract.pk), course.readable_id)
    assert not CourseRun.objects.filter(b2b_contract=contract).exists()
    assert not contract.courses.exists()


def test_adding_a_course_twice_skips(run_command, contract):
    course = _course("DEMO101")
    run_command("b2b_contract", "courseware", str(contract.pk), course.readable_id)
    out, _ = run_command("b2b_contract", "courseware", str(contract.pk), course.readable_id)
    assert CourseRun.objects.filter(b2b_contract=contract).count() == 1
    assert f"Skipped {course.readable_id}: the contract already has a run for it" in out


def test_run_id_assigns_the_run(run_command, contract, org):
    run = f.CourseRunFactory(run_tag="2026_SPECIAL")
    run_command("b2b_contract", "courseware", str(contract.pk), run.courseware_id)
    run.refresh_from_db()
    assert run.b2b_contract == contract
    assert _product(run).price == Decimal("75.00")

    other = f.ContractPageFactory(parent=org)
    with pytest.raises(
        CommandError,
        match=re.escape(f"Run {run.courseware_id} is already assigned to contract {contract.pk}"),
    ):
        run_command("b2b_contract", "courseware", str(other.pk), run.courseware_id)


def test_run_with_a_product_keeps_it(run_command, contract):
    product = f.ProductFactory(price=Decimal("300.00"))
    run_command(
        "b2b_contract", "courseware", str(contract.pk), product.purchasable_object.courseware_id
    )
    assert _product(product.purchasable_object) == product


def _program(*courses, nested=None, elective=None):
    root = f.ProgramRequirementFactory()
    for course in courses:
        root.add_child(program=root.program, node_type=RequirementNodeType.COURSE, course=course)
    if elective:
        op = root.add_child(
            program=root.program,
            node_type=RequirementNodeType.OPERATOR,
            operator=RequirementOperator.MIN_NUMBER_OF,
            operator_value=1,
        )
        for course in elective:
            op.add_child(program=root.program, node_type=RequirementNodeType.COURSE, course=course)
    if nested:
        root.add_child(
            program=root.program, node_type=RequirementNodeType.PROGRAM, required_program=nested
        )
    return root.program


def test_program_creates_runs_for_its_whole_tree(run_command, contract):
    a, b, c, d = (_course(n) for n in ("A1", "B1", "C1", "D1"))
    inner = _program(d)
    program = _program(a, elective=[b, c], nested=inner)
    run_command("b2b_contract", "courseware", str(contract.pk), a.readable_id)

    out, _ = run_command("b2b_contract", "courseware", str(contract.pk), program.readable_id)
    runs = CourseRun.objects.filter(b2b_contract=contract)
    assert sorted(r.course.readable_id for r in runs) == sorted(x.readable_id for x in (a, b, c, d))
    assert f"Skipped {a.readable_id}: the contract already has a run for it" in out
    assert out.count("Created run") == 3
    assert list(contract.programs.all()) == [program]


def test_program_is_all_or_nothing(run_command, contract):
    good = _course("GOOD")
    bad = _course("BAD")
    program = _program(good, bad)
    f.CourseRunFactory(
        course=bad, courseware_id=f"course-v1:UAI_UNIX+BAD+{YEAR}_C{contract.pk}", run_tag="X"
    )
    with pytest.raises(CommandError, match=re.escape(f"Course {bad.readable_id}: a run with key")):
        run_command("b2b_contract", "courseware", str(contract.pk), program.readable_id)
    assert not CourseRun.objects.filter(b2b_contract=contract).exists()
    assert not contract.programs.exists()
    assert not ContractCodeStatus.objects.filter(pk=contract.pk, requested_version__gt=0).exists()


def test_no_create_runs_records_the_attachment(run_command, contract):
    course = _course("SHELL")
    run_command(
        "b2b_contract", "courseware", str(contract.pk), course.readable_id, "--no-create-runs"
    )
    assert list(contract.courses.all()) == [course]
    assert not CourseRun.objects.filter(b2b_contract=contract).exists()
    run_command("b2b_contract", "courseware", str(contract.pk), course.readable_id)
    assert CourseRun.objects.filter(b2b_contract=contract, course=course).count() == 1


def test_remove_detaches_runs_and_deactivates_products(run_command, contract):
    a, b = _course("A1"), _course("B1")
    program = _program(a, b)
    run_command("b2b_contract", "courseware", str(contract.pk), program.readable_id)
    runs = list(CourseRun.objects.filter(b2b_contract=contract))
    products = [_product(r) for r in runs]

    out, _ = run_command(
        "b2b_contract", "courseware", str(contract.pk), program.readable_id, "--remove"
    )
    assert not CourseRun.objects.filter(b2b_contract=contract).exists()
    assert CourseRun.objects.filter(pk__in=[r.pk for r in runs]).count() == 2  # kept
    assert not Product.objects.filter(pk__in=[p.pk for p in products], is_active=True).exists()
    assert not contract.programs.exists()
    assert "Deactivated 2 products" in out


def test_remove_single_run_and_course(run_command, contract):
    a, b = _course("A1"), _course("B1")
    for course in (a, b):
        run_command("b2b_contract", "courseware", str(contract.pk), course.readable_id)
    run_a = CourseRun.objects.get(b2b_contract=contract, course=a)
    run_command("b2b_contract", "courseware", str(contract.pk), run_a.courseware_id, "--remove")
    run_command("b2b_contract", "courseware", str(contract.pk), b.readable_id, "--remove")
    assert not CourseRun.objects.filter(b2b_contract=contract).exists()
    assert not contract.courses.filter(pk=b.pk).exists()


@pytest.mark.parametrize(
    ("courseware_id", "message"),
    [
        ("DEMO101", "is not a courseware id"),
        (
            "course-v1:UAI_SOURCE+NOPE",
            re.escape("No courseware has id 'course-v1:UAI_SOURCE+NOPE'"),
        ),
        ("program-v1:UAI_SOURCE+NOPE", "No courseware has id"),
    ],
)
def test_unknown_courseware(run_command, contract, courseware_id, message):
    with pytest.raises(CommandError, match=message):
        run_command("b2b_contract", "courseware", str(contract.pk), courseware_id)


def test_remove_what_is_not_attached(run_command, contract):
    course = _course("LONE")
    with pytest.raises(CommandError, match="is not attached to this contract"):
        run_command("b2b_contract", "courseware", str(contract.pk), course.readable_id, "--remove")


def test_removing_a_course_without_runs_reports_the_code_reconciliation(run_command, contract):
    course = _course("SHELL")
    run_command(
        "b2b_contract", "courseware", str(contract.pk), course.readable_id, "--no-create-runs"
    )
    before = ContractCodeStatus.objects.get(pk=contract.pk).requested_version

    out, err = run_command(
        "b2b_contract", "courseware", str(contract.pk), course.readable_id, "--remove"
    )

    assert not contract.courses.exists()
    assert ContractCodeStatus.objects.get(pk=contract.pk).requested_version == before + 1
    assert out.splitlines() == ["Enrollment codes were brought up to date."]
    assert err == ""


def test_course_with_no_runs_names_the_cli_ways_out(run_command, contract):
    course = _course("EMPTY", source=False)
    with pytest.raises(CommandError) as raised:
        run_command("b2b_contract", "courseware", str(contract.pk), course.readable_id)
    assert str(raised.value) == (
        f"Course {course.readable_id} has no runs to copy: import its SOURCE run first "
        "(manage.py import_courserun) or use --no-create-runs"
    )
