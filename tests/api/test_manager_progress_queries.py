"""The progress lists (the manager's rows, the staff's rows, the organization's feed) and the
funnels run the same number of queries with 2 rows as with 12, learners mapped or not."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from b2b.enums import ProgressVisibility
from b2b.services.invitations.managers import grant_manager
from courses.models import CourseRun
from tests.api.helpers import API
from tests.b2b.helpers import capped_contract
from tests.ecommerce import helpers as h
from tests.support import factories as f
from tests.support.progress import progress_row

pytestmark = pytest.mark.django_db


def _grow(contract, n: int, start: int) -> None:
    run = CourseRun.objects.get(b2b_contract=contract)
    old = timezone.now() - timedelta(days=2)
    for i in range(start, start + n):
        user = h.learner(f"member{i}@acme.example") if i % 2 else None
        progress_row(
            contract,
            run,
            edx_username=f"member{i}",
            user=user,
            grade_percent=Decimal("0.5"),
            cert_status="downloadable" if i % 3 == 0 else "",
            changed_on=old,
        )


def _queries(client, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    body = response.json()
    return len(captured), len(body.get("results", body.get("stages", [])))


def test_progress_reads_cost_the_same_whatever_their_length(site_tree):
    org = f.OrganizationPageFactory(title="Acme University")
    contract = capped_contract(org, cap=100, title="Acme Sales")
    contract.progress_visibility = ProgressVisibility.PER_LEARNER
    contract.save(update_fields=["progress_visibility"])
    manager = h.learner("lead@acme.example")
    grant_manager(user=manager, organization=org)
    manager_api = APIClient()
    manager_api.force_authenticate(manager)
    staff_api = APIClient()
    staff_api.force_authenticate(f.UserFactory(is_staff=True))
    urls = {
        "rows": (manager_api, f"{API}/contracts/{contract.pk}/progress/?sort=-grade"),
        "certified": (manager_api, f"{API}/contracts/{contract.pk}/progress/?show=certified"),
        "summary": (manager_api, f"{API}/contracts/{contract.pk}/progress/summary/"),
        "feed": (manager_api, f"{API}/organizations/{org.pk}/progress/"),
        "staff rows": (staff_api, f"/api/v1/b2b/contracts/{contract.pk}/progress/"),
        "staff summary": (staff_api, f"/api/v1/b2b/contracts/{contract.pk}/progress/summary/"),
    }
    counts = {}
    for n, start in ((2, 0), (12, 100)):
        _grow(contract, n, start)
        counts[n] = {name: _queries(client, url) for name, (client, url) in urls.items()}
    assert counts[2]["rows"][1] == 2 and counts[12]["rows"][1] == 14
    assert counts[12]["feed"][1] == 14
    assert counts[12]["staff rows"][1] == 14
    assert {name: q for name, (q, _) in counts[2].items()} == {
        name: q for name, (q, _) in counts[12].items()
    }
