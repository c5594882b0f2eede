"""b2b_list's exact output in every format (table, JSON, CSV), byte for byte.

Scripts parse the JSON and CSV and people read the tables: changing how the listings are built
must not change a character of what they print. Every id is fixed so the tables' column widths
are too.
"""

from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone
from wagtail.models import Page

from b2b.enums import ContractState, IntegrationType, MembershipSource
from b2b.models import ContractCodeStatus, ContractMembership, ContractPage
from b2b.selectors.listings import (
    AttachedRow,
    ContractRow,
    RunRow,
    contracts_listing,
    courseware_listing,
)
from courses.enums import EdxCopyState
from courses.models import CourseRun
from ecommerce.models import Product
from ecommerce.services.contract_codes.reads import ContractCodeCounts
from tests.b2b.helpers import codes, reconcile, redeem
from tests.support import factories as f

pytestmark = pytest.mark.django_db

MIT, ACME = 810001, 810002
CONTRACT, SSO_CONTRACT = 810011, 810012
ML_PRODUCT, DS_PRODUCT = 810101, 810102
EMPTY_ORG, EMPTY_CONTRACT = 810021, 810023


def _product(run: CourseRun, pk: int) -> Product:
    return Product.objects.create(
        pk=pk,
        content_type=ContentType.objects.get_for_model(CourseRun),
        object_id=run.pk,
        price=Decimal("10.00"),
    )


@pytest.fixture
def page_ids_from():
    """Number the pages created next from ``first`` on (Wagtail pages cannot be given an id), and
    put the id sequence back afterwards: the pages themselves are rolled back with the test."""
    table = Page._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            (sequence,) = cursor.fetchone()
            cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
            last_value, is_called = cursor.fetchone()

    def number_from(first: int) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT setval(%s, %s, false)", [sequence, first])
            else:  # SQLite's AUTOINCREMENT counter is a row, restored by the rollback
                cursor.execute(
                    "UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [first - 1, table]
                )

    yield number_from
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(%s, %s, %s)", [sequence, last_value, is_called])


# The day the listings are made on (a contract's state depends on it).
LISTING_DAY = date(2026, 6, 15)


@pytest.fixture
def listing_day(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: LISTING_DAY)
    return LISTING_DAY


@pytest.fixture
def listed(site_tree, page_ids_from, listing_day):
    page_ids_from(MIT)
    mit = f.OrganizationPageFactory(
        title="MIT", slug="mit", org_key="MIT", sso_organization_id="kc-mit"
    )
    acme = f.OrganizationPageFactory(title="Acme", slug="acme", org_key="ACME")
    page_ids_from(CONTRACT)
    contract = f.ContractPageFactory(
        parent=mit,
        title="MIT 2026",
        slug="mit-2026",
        max_learners=2,
        enrollment_fixed_price=Decimal("10.00"),
        contract_start=date(2026, 1, 1),
        contract_end=date(2026, 12, 31),
    )
    ml = f.CourseFactory(title="Machine learning", readable_id="course-v1:UAI_SOURCE+ML101")
    ds = f.CourseFactory(title="Data science", readable_id="course-v1:UAI_SOURCE+DS200")
    stats = f.CourseFactory(title="Statistics", readable_id="course-v1:UAI_SOURCE+ST300")
    ml_run = f.CourseRunFactory(
        course=ml,
        title="Machine learning",
        courseware_id="course-v1:UAI_MIT+ML101+2026_C810011",
        run_tag="2026_C810011",
        b2b_contract=contract,
        start_date=datetime(2026, 1, 1, tzinfo=UTC),
        end_date=datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
        edx_copy_state=EdxCopyState.FAILED,
        edx_copy_error="Studio answered 500",
    )
    ds_run = f.CourseRunFactory(
        course=ds,
        title="Data science",
        courseware_id="course-v1:UAI_MIT+DS200+2026_C810011",
        run_tag="2026_C810011",
        b2b_contract=contract,
        edx_copy_state=EdxCopyState.CREATED,
    )
    f.CourseRunFactory(
        course=stats,
        title="Statistics",
        courseware_id="course-v1:UAI_MIT+ST300+2026_C810011",
        run_tag="2026_C810011",
        b2b_contract=contract,
        edx_copy_state=EdxCopyState.PENDING,
    )
    ml_product = _product(ml_run, ML_PRODUCT)
    _product(ds_run, DS_PRODUCT)
    reconcile(contract)
    redeem(codes(ml_product).order_by("pk").first())
    ContractMembership.objects.create(
        user=f.UserFactory(), contract=contract, source=MembershipSource.CODE
    )
    contract.programs.add(f.ProgramFactory(title="Track", readable_id="program-v1:UAI_SOURCE+TR"))
    contract.courses.add(ml, f.CourseFactory(title="Ethics", readable_id="course-v1:UAI_SOURCE+E1"))

    f.ContractPageFactory(
        parent=acme,
        title="Acme SSO",
        slug="acme-sso",
        integration_type="sso",
    )
    ContractCodeStatus.objects.create(contract_id=SSO_CONTRACT, requested_version=1)
    ContractCodeStatus.objects.filter(pk=SSO_CONTRACT).update(
        pending_since=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC), last_error="deadlock detected"
    )


def _out(run_command, *args):
    out, err = run_command("b2b_list", *args)
    assert err == ""
    return out


EXPECTED = Path(__file__).parent / "list_output"

# (expected file, b2b_list arguments)
CASES = [
    ("organizations.txt", ["organizations"]),
    ("organizations.json", ["organizations", "--format", "json"]),
    ("organizations.csv", ["organizations", "--format", "csv"]),
    ("organizations-mit.txt", ["organizations", "--org", "MIT"]),
    ("contracts.txt", ["contracts"]),
    ("contracts.json", ["contracts", "--format", "json"]),
    ("contracts.csv", ["contracts", "--format", "csv"]),
    ("contracts-acme.json", ["contracts", "--org", "ACME", "--format", "json"]),
    ("courseware.txt", ["courseware", "--contract", str(CONTRACT)]),
    ("courseware.json", ["courseware", "--contract", str(CONTRACT), "--format", "json"]),
    ("courseware.csv", ["courseware", "--contract", str(CONTRACT), "--format", "csv"]),
]

# An organization with no contracts and a contract with nothing attached.
EMPTY_CASES = [
    ("contracts-none.txt", ["contracts", "--org", "EMPTY"]),
    ("contracts-none.json", ["contracts", "--org", "EMPTY", "--format", "json"]),
    ("contracts-none.csv", ["contracts", "--org", "EMPTY", "--format", "csv"]),
    ("courseware-none.txt", ["courseware", "--contract", str(EMPTY_CONTRACT)]),
    ("courseware-none.json", ["courseware", "--contract", str(EMPTY_CONTRACT), "--format", "json"]),
    ("courseware-none.csv", ["courseware", "--contract", str(EMPTY_CONTRACT), "--format", "csv"]),
]


@pytest.mark.parametrize(("expected", "args"), CASES, ids=[name for name, _ in CASES])
def test_output_is_unchanged(run_command, listed, expected, args):
    assert _out(run_command, *args) == (EXPECTED / expected).read_text(encoding="utf-8")


@pytest.fixture
def empty(site_tree, page_ids_from, listing_day):
    page_ids_from(EMPTY_ORG)
    f.OrganizationPageFactory(title="Empty", slug="empty", org_key="EMPTY")
    f.ContractPageFactory(title="Bare", slug="bare", parent=f.OrganizationPageFactory(title="B"))


@pytest.mark.parametrize(("expected", "args"), EMPTY_CASES, ids=[n for n, _ in EMPTY_CASES])
def test_empty_output_is_unchanged(run_command, empty, expected, args):
    assert _out(run_command, *args) == (EXPECTED / expected).read_text(encoding="utf-8")


LIFE_ORG = 810041
ENDED, RUNNING, SCHEDULED, INACTIVE = 810042, 810043, 810044, 810045

# One contract in each state on LISTING_DAY; the running one renews the ended one.
LIFECYCLE_CASES = [
    ("lifecycle.txt", ["contracts", "--org", "LIFE"]),
    ("lifecycle.json", ["contracts", "--org", "LIFE", "--format", "json"]),
    ("lifecycle.csv", ["contracts", "--org", "LIFE", "--format", "csv"]),
    ("lifecycle-scheduled.txt", ["contracts", "--state", "scheduled"]),
    ("lifecycle-ended.csv", ["contracts", "--org", "LIFE", "--state", "ended", "--format", "csv"]),
    ("lifecycle-inactive.json", ["contracts", "--state", "inactive", "--format", "json"]),
    ("lifecycle-active-none.txt", ["contracts", "--org", "EMPTY", "--state", "active"]),
]


@pytest.fixture
def lifecycle(site_tree, page_ids_from, listing_day):
    page_ids_from(LIFE_ORG)
    org = f.OrganizationPageFactory(title="Lifecycle", slug="lifecycle", org_key="LIFE")
    ended = f.ContractPageFactory(
        parent=org,
        title="Life 2025",
        slug="life-2025",
        contract_start=date(2025, 1, 1),
        contract_end=date(2025, 12, 31),
    )
    f.ContractPageFactory(
        parent=org,
        title="Life 2026",
        slug="life-2026",
        contract_start=date(2026, 1, 1),
        contract_end=date(2026, 6, 15),  # the last day is the listing's day
        renews=ended,
    )
    f.ContractPageFactory(
        parent=org, title="Life 2027", slug="life-2027", contract_start=date(2026, 6, 16)
    )
    f.ContractPageFactory(parent=org, title="Life off", slug="life-off", active=False)
    f.OrganizationPageFactory(title="Empty", slug="empty", org_key="EMPTY")


@pytest.mark.parametrize(("expected", "args"), LIFECYCLE_CASES, ids=[n for n, _ in LIFECYCLE_CASES])
def test_lifecycle_output(run_command, lifecycle, expected, args):
    assert _out(run_command, *args) == (EXPECTED / expected).read_text(encoding="utf-8")


def test_read_models(listed):
    """The listings' typed rows, as an API would serialize them."""
    mit_2026 = ContractPage.objects.get(pk=CONTRACT)
    assert contracts_listing() == [
        ContractRow(
            id=CONTRACT,
            name="MIT 2026",
            slug="mit-2026",
            organization="MIT",
            organization_id=MIT,
            integration_type=IntegrationType.NON_SSO,
            start=date(2026, 1, 1),
            end=date(2026, 12, 31),
            active=True,
            max_learners=2,
            price=Decimal("10.00"),
            learners=1,
            codes=ContractCodeCounts(total=4, usable=3, redeemed=1),
            codes_pending=False,
            codes_pending_since=None,
            codes_error=None,
            state=ContractState.ACTIVE,
            renews=None,
        ),
        ContractRow(
            id=SSO_CONTRACT,
            name="Acme SSO",
            slug="acme-sso",
            organization="Acme",
            organization_id=ACME,
            integration_type=IntegrationType.SSO,
            start=None,
            end=None,
            active=True,
            max_learners=None,
            price=None,
            learners=0,
            codes=ContractCodeCounts(),
            codes_pending=True,
            codes_pending_since=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
            codes_error="deadlock detected",
            state=ContractState.ACTIVE,
            renews=None,
        ),
    ]
    listing = courseware_listing(mit_2026)
    assert listing.runs[0] == RunRow(
        courseware_id="course-v1:UAI_MIT+ML101+2026_C810011",
        course="course-v1:UAI_SOURCE+ML101",
        title="Machine learning",
        start=datetime(2026, 1, 1, tzinfo=UTC),
        end=datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
        product_id=ML_PRODUCT,
        price=Decimal("10.00"),
        usable_codes=1,
        edx_copy=EdxCopyState.FAILED,
        edx_error="Studio answered 500",
    )
    assert [(r.product_id, r.usable_codes, r.edx_copy) for r in listing.runs[1:]] == [
        (DS_PRODUCT, 2, EdxCopyState.CREATED),
        (None, 0, EdxCopyState.PENDING),
    ]
    assert listing.attached == (
        AttachedRow(
            type="program", readable_id="program-v1:UAI_SOURCE+TR", title="Track", has_run=None
        ),
        AttachedRow(
            type="course", readable_id="course-v1:UAI_SOURCE+E1", title="Ethics", has_run=False
        ),
        AttachedRow(
            type="course",
            readable_id="course-v1:UAI_SOURCE+ML101",
            title="Machine learning",
            has_run=True,
        ),
    )
    with pytest.raises(FrozenInstanceError):
        listing.runs[0].usable_codes = 5  # type: ignore[misc]
