"""The contract's edit view in Wagtail: the summary's progress part (the funnel with its text,
completion, needs attention, as of, unmapped learners, each run's sync) and the two progress
settings an editor changes."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from b2b.enums import ProgressSyncState, ProgressVisibility
from b2b.models import ContractPage, RunProgressSync
from courses.models import CourseRun
from tests.b2b.helpers import contract_with_products, publish_in_wagtail
from tests.support import factories as f
from tests.support.progress import progress_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, site_tree):
    client.force_login(f.UserFactory(is_staff=True, is_superuser=True))
    return client


def _edit(staff_client, contract) -> BeautifulSoup:
    response = staff_client.get(reverse("wagtailadmin_pages:edit", args=[contract.pk]))
    assert response.status_code == 200
    return BeautifulSoup(response.content.decode(), "html.parser")


def _text(soup, name: str) -> str:
    return " ".join(soup.find(attrs={"data-progress": name}).get_text().split())


def test_the_summary_shows_the_funnel_completion_attention_and_each_runs_sync(staff_client):
    contract, products = contract_with_products(products=2, max_learners=10)
    contract.progress_visibility = ProgressVisibility.AGGREGATES  # staff see every count anyway
    contract.save(update_fields=["progress_visibility"])
    first, second = (p.purchasable_object for p in products)
    as_of = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    learner = f.UserFactory()
    progress_row(
        contract, first, user=learner, passed=True, grade_percent=Decimal("0.9"), as_of=as_of
    )
    progress_row(contract, first, grade_percent=Decimal("0.2"), as_of=as_of)  # unmapped
    progress_row(contract, second, enrolled_on=timezone.now() - timedelta(days=30), as_of=as_of)
    RunProgressSync.objects.create(
        run=first,
        state=ProgressSyncState.IDLE,
        last_success_on=as_of,
        last_attempt_on=as_of,
        learners=2,
        unmapped=1,
    )
    RunProgressSync.objects.create(
        run=second,
        state=ProgressSyncState.FAILED,
        last_attempt_on=as_of,
        failures=3,
        last_error="Open edX answered 503 to the grades API",
    )
    soup = _edit(staff_client, contract)
    assert _text(soup, "funnel-text") == (
        "Invited: 0 (0%); Joined: 0 (0%); Enrolled: 3 (30%); Started: 2 (20%); Passed: 1 (10%); "
        "Certified: 0 (0%)."
    )
    bars = soup.find(attrs={"data-progress": "funnel"}).find_all(class_="b2b-funnel-bar")
    assert [bar["style"].split("width: ")[1].split("%")[0] for bar in bars] == [
        "0",
        "0",
        "30",
        "20",
        "10",
        "0",
    ]
    assert _text(soup, "completion") == "33% of the enrolled passed or hold a certificate"
    assert _text(soup, "needs-attention") == "1"
    assert _text(soup, "unmapped") == "2"
    assert _text(soup, "as-of") == "2026-11-27 06:00"
    assert _text(soup, "visibility").startswith("Aggregates only")
    sync = [
        [" ".join(td.get_text().split()) for td in tr.find_all("td")]
        for tr in soup.find(attrs={"data-progress": "sync"}).tbody.find_all("tr")
    ]
    assert sorted(sync) == sorted(
        [
            [
                first.courseware_id,
                "Idle",
                "2026-11-27 06:00",
                "2026-11-27 06:00",
                "2 (1 not matched)",
                "",
            ],
            [
                second.courseware_id,
                "Failed (3 failures in a row)",
                "never",
                "2026-11-27 06:00",
                "0",
                "Open edX answered 503 to the grades API",
            ],
        ]
    )


def test_before_any_sync_the_summary_says_so_and_lists_the_runs_never_synced(staff_client):
    contract, (product,) = contract_with_products(products=1)
    soup = _edit(staff_client, contract)
    assert _text(soup, "none") == "No progress from Open edX yet."
    (row,) = soup.find(attrs={"data-progress": "sync"}).tbody.find_all("tr")
    cells = [" ".join(td.get_text().split()) for td in row.find_all("td")]
    assert cells == [
        product.purchasable_object.courseware_id,
        "Never synced",
        "never",
        "never",
        "",
        "",
    ]


def test_the_summary_reads_a_constant_number_of_queries(staff_client):
    contract, (product,) = contract_with_products(products=1)
    run = product.purchasable_object
    url = reverse("wagtailadmin_pages:edit", args=[contract.pk])
    progress_row(contract, run)
    staff_client.get(url)  # the caches (site, content types) filled
    with CaptureQueriesContext(connection) as few:
        staff_client.get(url)
    for _ in range(10):
        progress_row(contract, run)
    with CaptureQueriesContext(connection) as many:
        staff_client.get(url)
    assert len(many) == len(few)


def test_an_editor_changes_the_progress_settings(staff_client):
    contract, _ = contract_with_products(products=1)
    contract.progress_visibility = ProgressVisibility.PER_LEARNER
    contract.auto_nudges = False
    contract.save_revision().publish()
    response = publish_in_wagtail(
        staff_client, contract, progress_visibility=ProgressVisibility.AGGREGATES, auto_nudges="on"
    )
    assert response.status_code == 302, response.content
    contract = ContractPage.objects.get(pk=contract.pk)
    assert contract.progress_visibility == ProgressVisibility.AGGREGATES
    assert contract.auto_nudges is True
    assert CourseRun.objects.filter(b2b_contract=contract).exists()
