"""b2b_contract renew: the next contract, same courseware, new runs, products and codes; learners
carried within the new cap; all or nothing."""

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Page

from b2b.enums import MembershipSource
from b2b.models import ContractMembership, ContractPage
from b2b.selectors.history import page_history
from b2b.services.contracts.renewal import renew_contract
from courses.enums import RequirementNodeType
from courses.models import CourseRun
from ecommerce.models import Discount, Product
from ecommerce.selectors import with_code_terms
from tests.support import factories as f

pytestmark = pytest.mark.django_db
YEAR = timezone.now().year


@pytest.fixture
def org(site_tree):
    return f.OrganizationPageFactory(org_key="UNIX", title="UniversityX")


def _course(number, *, source=True):
    course = f.CourseFactory(readable_id=f"course-v1:UAI_SOURCE+{number}", title=f"Course {number}")
    if source:
        f.CourseRunFactory(course=course, run_tag="SOURCE")
    return course


@pytest.fixture
def current(org, run_command, django_capture_on_commit_callbacks):
    """UniversityX 2026 (capped at 3, $75): a course with a run, a program of two courses with
    runs, and a course recorded without a run."""
    contract = f.ContractPageFactory(
        parent=org,
        title="UniversityX 2026",
        contract_start=date(2026, 1, 1),
        contract_end=date(2026, 12, 31),
        max_learners=3,
        enrollment_fixed_price=Decimal("75.00"),
        description="The 2026 cohort",
    )
    single = _course("ONE")
    program = f.ProgramFactory(readable_id="program-v1:UAI_SOURCE+TRACK")
    root = f.ProgramRequirementFactory(program=program)
    for number in ("TWO", "THREE"):
        root.add_child(
            program=program, node_type=RequirementNodeType.COURSE, course=_course(number)
        )
    shell = _course("SHELL", source=False)
    with django_capture_on_commit_callbacks(execute=True):
        run_command("b2b_contract", "courseware", str(contract.pk), single.readable_id)
        run_command("b2b_contract", "courseware", str(contract.pk), program.readable_id)
        run_command(
            "b2b_contract", "courseware", str(contract.pk), shell.readable_id, "--no-create-runs"
        )
    return contract


def _renew(run_command, captured, contract, *args):
    with captured(execute=True):
        return run_command(
            "b2b_contract",
            "renew",
            str(contract.pk),
            "--start",
            "2027-01-01",
            "--end",
            "2027-12-31",
            *args,
        )


def _codes(contract):
    return with_code_terms(Discount.objects.filter(b2b_contract=contract))


def test_renew_copies_terms_and_courseware_with_new_runs_products_and_codes(
    run_command, current, django_capture_on_commit_callbacks
):
    out, err = _renew(run_command, django_capture_on_commit_callbacks, current)

    renewal = ContractPage.objects.get(renews=current)
    assert renewal.title == "UniversityX 2027"
    assert renewal.get_parent().pk == current.get_parent().pk
    assert (renewal.integration_type, renewal.max_learners, renewal.enrollment_fixed_price) == (
        "non-sso",
        3,
        Decimal("75.00"),
    )
    assert (renewal.contract_start, renewal.contract_end) == (date(2027, 1, 1), date(2027, 12, 31))
    assert renewal.description == "The 2026 cohort"
    assert renewal.active
    assert [p.readable_id for p in renewal.programs.all()] == ["program-v1:UAI_SOURCE+TRACK"]
    assert sorted(c.readable_id for c in renewal.courses.all()) == [
        "course-v1:UAI_SOURCE+ONE",
        "course-v1:UAI_SOURCE+SHELL",
    ]
    runs = list(CourseRun.objects.filter(b2b_contract=renewal).order_by("pk"))
    assert [run.courseware_id for run in runs] == [
        f"course-v1:UAI_UNIX+{number}+{YEAR}_C{renewal.pk}" for number in ("ONE", "TWO", "THREE")
    ]
    for run in runs:
        assert run.edx_copy_source == f"{run.course.readable_id}+SOURCE"
        assert run.start_date == datetime(2027, 1, 1, tzinfo=UTC)
        assert run.end_date == datetime.combine(date(2027, 12, 31), time.max, tzinfo=UTC)
    products = Product.objects.filter(object_id__in=[run.pk for run in runs], is_active=True)
    assert sorted(p.price for p in products) == [Decimal("75.00")] * 3
    assert _codes(renewal).count() == 9  # cap 3 x 3 products, one-time, at the new price
    assert set(_codes(renewal).values_list("price", flat=True)) == {Decimal("75.00")}
    assert not ContractMembership.objects.filter(contract=renewal).exists()
    # The current contract keeps everything.
    assert CourseRun.objects.filter(b2b_contract=current).count() == 3
    assert _codes(current).count() == 9
    assert err == ""
    assert out.splitlines() == [
        f"Created contract UniversityX 2027 (id {renewal.pk}, slug universityx-2027) for "
        f"organization UniversityX (id {current.get_parent().pk}), renewing contract "
        f"UniversityX 2026 (id {current.pk})",
        "Attached program-v1:UAI_SOURCE+TRACK",
        "Attached course-v1:UAI_SOURCE+ONE",
        "Attached course-v1:UAI_SOURCE+SHELL",
        *[
            f"Created run {run.courseware_id} ({run.course.readable_id}); "
            "Open edX copy: not configured"
            for run in runs
        ],
        "Created 3 products",
        "Enrollment codes were brought up to date.",
    ]


def test_renew_records_the_link_in_the_audit_trail(
    run_command, current, django_capture_on_commit_callbacks
):
    _renew(run_command, django_capture_on_commit_callbacks, current)
    renewal = ContractPage.objects.get(renews=current)
    old_trail = [(e.action, e.details) for e in page_history(current.pk)]
    assert ("b2b.contract.renewed", {"renewal_id": renewal.pk}) in old_trail
    new_trail = [(e.action, e.channel, e.details) for e in page_history(renewal.pk)]
    assert ("b2b.contract.renewal", "cli", {"renews_id": current.pk, "learners_carried": 0}) in (
        new_trail
    )


def test_carry_learners_within_the_new_cap(
    run_command, current, django_capture_on_commit_callbacks
):
    members = [f.UserFactory() for _ in range(3)]
    for user in members:
        ContractMembership.objects.create(user=user, contract=current, source="code")

    out, _ = _renew(run_command, django_capture_on_commit_callbacks, current, "--carry-learners")

    renewal = ContractPage.objects.get(renews=current)
    carried = ContractMembership.objects.filter(contract=renewal)
    assert sorted(m.user_id for m in carried) == sorted(u.pk for u in members)
    assert {m.source for m in carried} == {MembershipSource.RENEWAL}
    assert ContractMembership.objects.filter(contract=current).count() == 3  # kept, as history
    assert f"Carried over 3 learners from contract {current.pk}" in out.splitlines()


def _fingerprint():
    return (
        Page.objects.count(),
        CourseRun.objects.count(),
        Product.objects.count(),
        Discount.objects.count(),
        sorted(ContractMembership.objects.values_list("user_id", "contract_id")),
    )


def test_learners_that_do_not_fit_refuse_the_whole_renewal(
    run_command, current, django_capture_on_commit_callbacks
):
    for _ in range(3):
        ContractMembership.objects.create(user=f.UserFactory(), contract=current, source="code")
    before = _fingerprint()

    with pytest.raises(CommandError) as error:
        _renew(
            run_command,
            django_capture_on_commit_callbacks,
            current,
            "--carry-learners",
            "--max-learners",
            "2",
        )

    assert str(error.value) == (
        "Contract 'UniversityX 2026' has 3 learners to carry over, more than contract "
        "'UniversityX 2027' has room for (2 learners, 0 already members): give a larger "
        "--max-learners, or leave out --carry-learners"
    )
    assert _fingerprint() == before


def test_new_terms_and_a_name_given(run_command, current, django_capture_on_commit_callbacks):
    _renew(
        run_command,
        django_capture_on_commit_callbacks,
        current,
        "--max-learners",
        "5",
        "--price",
        "0",
        "--name",
        "UniversityX next year",
    )
    renewal = ContractPage.objects.get(renews=current)
    assert (renewal.title, renewal.max_learners, renewal.enrollment_fixed_price) == (
        "UniversityX next year",
        5,
        Decimal("0.00"),
    )
    assert _codes(renewal).count() == 15
    assert set(_codes(renewal).values_list("price", flat=True)) == {Decimal("0.00")}


def test_a_name_taken_refuses_and_changes_nothing(
    run_command, current, django_capture_on_commit_callbacks
):
    before = _fingerprint()
    with pytest.raises(CommandError) as error:
        _renew(
            run_command, django_capture_on_commit_callbacks, current, "--name", "universityx  2026"
        )
    assert str(error.value) == (
        f"Organization 'UniversityX' already has a contract named 'UniversityX 2026' "
        f"(id {current.pk})"
    )
    assert _fingerprint() == before


@pytest.mark.parametrize(
    ("title", "start", "taken", "expected"),
    [
        ("Acme 2026", date(2026, 1, 1), [], "Acme 2027"),
        ("Acme 2026-2027", date(2026, 9, 1), [], "Acme 2027-2028"),
        ("Acme", date(2026, 1, 1), [], "Acme 2027"),
        ("Acme 2026", date(2026, 1, 1), ["Acme 2027"], "Acme 2027 (2)"),
        ("Acme 2026", date(2026, 1, 1), ["Acme 2027", "ACME  2027 (2)"], "Acme 2027 (3)"),
        ("Acme 2027", date(2027, 1, 1), [], "Acme 2027 (from 2027-01-01)"),
    ],
)
def test_default_names(
    run_command, org, django_capture_on_commit_callbacks, title, start, taken, expected
):
    contract = f.ContractPageFactory(parent=org, title=title, contract_start=start)
    for name in taken:
        f.ContractPageFactory(parent=org, title=name)
    _renew(run_command, django_capture_on_commit_callbacks, contract)
    assert ContractPage.objects.get(renews=contract).title == expected


def test_a_course_without_a_run_to_copy_refuses_everything(
    run_command, org, django_capture_on_commit_callbacks
):
    contract = f.ContractPageFactory(parent=org, title="Acme 2026", contract_start=date(2026, 1, 1))
    orphan = _course("ORPHAN", source=False)
    f.CourseRunFactory(course=orphan, run_tag="2026_X", b2b_contract=contract)
    before = _fingerprint()
    with pytest.raises(CommandError) as error:
        _renew(run_command, django_capture_on_commit_callbacks, contract)
    assert str(error.value) == (
        "Course course-v1:UAI_SOURCE+ORPHAN has no runs to copy: import its SOURCE run first "
        "(manage.py import_courserun)"
    )
    assert _fingerprint() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2027-01-01"], "the following arguments are required: --end"),
        (["--start", "2027-02-01", "--end", "2027-01-01"], "The end date must not be before"),
        (["--start", "2027-01-01", "--end", "2027-12-31", "--max-learners", "0"], "at least 1"),
    ],
)
def test_bad_input_is_one_line(run_command, current, args, message):
    before = _fingerprint()
    with pytest.raises(CommandError, match=message):
        run_command("b2b_contract", "renew", str(current.pk), *args)
    assert _fingerprint() == before


def test_unknown_contract(run_command, site_tree):
    with pytest.raises(CommandError, match=r"^No contract has id 999999$"):
        run_command(
            "b2b_contract", "renew", "999999", "--start", "2027-01-01", "--end", "2027-02-01"
        )


def test_wagtail_shows_the_link_both_ways(
    client, run_command, current, django_capture_on_commit_callbacks
):
    _renew(run_command, django_capture_on_commit_callbacks, current)
    renewal = ContractPage.objects.get(renews=current)
    client.force_login(f.UserFactory(is_staff=True, is_superuser=True))

    html = client.get(reverse("wagtailadmin_pages:edit", args=[renewal.pk])).content.decode()
    old_url = reverse("wagtailadmin_pages:edit", args=[current.pk])
    assert (
        f'<p data-renewal="renews">Renews <a href="{old_url}">UniversityX 2026</a> '
        f"(id {current.pk}).</p>"
    ) in html
    html = client.get(old_url).content.decode()
    new_url = reverse("wagtailadmin_pages:edit", args=[renewal.pk])
    assert (
        f'<p data-renewal="renewed-by">Renewed by <a href="{new_url}">UniversityX 2027</a> '
        f"(id {renewal.pk}).</p>"
    ) in html


def test_a_wagtail_copy_is_not_a_renewal(run_command, current, django_capture_on_commit_callbacks):
    _renew(run_command, django_capture_on_commit_callbacks, current)
    renewal = ContractPage.objects.get(renews=current)
    with transaction.atomic():
        copy = renewal.copy(update_attrs={"title": "Copy", "slug": "copy"})
    assert copy.specific.renews is None


def test_carrying_learners_takes_a_constant_number_of_queries(org):
    """Carrying 3 or 30 learners over costs the same queries (one INSERT per batch)."""

    def renewal_queries(learners: int) -> int:
        contract = f.ContractPageFactory(parent=org, max_learners=50)
        users = f.UserFactory.create_batch(learners)
        ContractMembership.objects.bulk_create(
            [ContractMembership(user=u, contract=contract, source="code") for u in users]
        )
        with CaptureQueriesContext(connection) as queries:
            renewal = renew_contract(
                contract_id=contract.pk,
                start=date(2027, 1, 1),
                end=date(2027, 12, 31),
                carry_learners=True,
            )
        assert renewal.learners_carried == learners
        return len(queries)

    assert renewal_queries(3) == renewal_queries(30)
