"""The learners' progress in the Django admin: listed, filtered and searched, read-only (no add,
change or delete, whatever is posted), each list page at a constant number of queries."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from b2b.enums import ProgressSyncState
from b2b.models import LearnerProgress, ProgressDigest, ProgressNudge, RunProgressSync
from b2b.services.invitations.managers import grant_manager
from tests.b2b.helpers import contract_with_products
from tests.support import factories as f
from tests.support.progress import progress_row

pytestmark = pytest.mark.django_db

MODELS = {
    "learnerprogress": LearnerProgress,
    "runprogresssync": RunProgressSync,
    "progressnudge": ProgressNudge,
    "progressdigest": ProgressDigest,
}


@pytest.fixture
def staff_client(client, site_tree):
    client.force_login(f.UserFactory(is_staff=True, is_superuser=True))
    return client


def _grow(contract, n: int) -> None:
    """n more of each: rows (mapped or not), syncs, nudges and digests."""
    for _ in range(n):
        run = f.CourseRunFactory(b2b_contract=contract)
        row = progress_row(contract, run, user=f.UserFactory())
        progress_row(contract, run)
        RunProgressSync.objects.create(run=run, state=ProgressSyncState.FAILED, last_error="503")
        ProgressNudge.objects.create(
            progress=row, contract=contract, to=row.user.email, sent_by=None
        )
        manager, _ = grant_manager(
            user=f.UserFactory(), organization=contract.get_parent().specific
        )
        ProgressDigest.objects.create(
            manager=manager, week_of=date(2026, 11, 23), to=manager.user.email
        )


@pytest.fixture
def contract(site_tree):
    contract, _ = contract_with_products(products=1)
    return contract


def _list(staff_client, model: str, query: str = ""):
    response = staff_client.get(f"/admin/b2b/{model}/{query}")
    assert response.status_code == 200, response.content
    return response


@pytest.mark.parametrize("model", list(MODELS))
def test_each_list_page_costs_the_same_whatever_its_length(staff_client, contract, model):
    _grow(contract, 1)
    _list(staff_client, model)  # the caches filled
    with CaptureQueriesContext(connection) as few:
        _list(staff_client, model)
    _grow(contract, 8)
    with CaptureQueriesContext(connection) as many:
        _list(staff_client, model)
    assert len(many) == len(few)


def test_rows_are_searched_by_username_and_email_and_filtered(staff_client, contract):
    run = f.CourseRunFactory(b2b_contract=contract)
    progress_row(
        contract, run, edx_username="ada_edx", user=f.UserFactory(email="ada@acme.example")
    )
    progress_row(contract, run, edx_username="bob_edx", edx_email="bob@edx.example", passed=True)
    for query in ("?q=ada_edx", "?q=ada@acme", "?q=bob@edx", "?passed__exact=1"):
        html = _list(staff_client, "learnerprogress", query).content.decode()
        wanted = "ada_edx" if "ada" in query else "bob_edx"
        unwanted = "bob_edx" if wanted == "ada_edx" else "ada_edx"
        assert wanted in html and unwanted not in html, query


@pytest.mark.parametrize("model", list(MODELS))
def test_nothing_can_be_added_changed_or_deleted(staff_client, contract, model):
    _grow(contract, 1)
    obj = MODELS[model].objects.first()
    before = list(MODELS[model].objects.values())
    base = f"/admin/b2b/{model}/"
    html = _list(staff_client, model).content.decode()
    assert f"{base}add/" not in html
    assert 'name="action"' not in html  # no bulk delete
    assert staff_client.get(f"{base}add/").status_code == 403
    assert staff_client.post(f"{base}add/", {}).status_code == 403
    view = staff_client.get(f"{base}{obj.pk}/change/")
    assert view.status_code == 200  # shown read-only
    assert 'type="submit"' not in view.content.decode().split('id="content"')[1].split("</form>")[0]
    assert staff_client.post(f"{base}{obj.pk}/change/", {"state": "sent"}).status_code == 403
    assert staff_client.get(f"{base}{obj.pk}/delete/").status_code == 403
    assert staff_client.post(f"{base}{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = staff_client.post(base, {"action": "delete_selected", "_selected_action": [obj.pk]})
    assert bulk.status_code in (200, 302)
    assert list(MODELS[model].objects.values()) == before


def test_a_staff_member_without_the_view_permission_sees_nothing(client, contract):
    _grow(contract, 1)
    client.force_login(f.UserFactory(is_staff=True))
    for model in MODELS:
        assert client.get(f"/admin/b2b/{model}/").status_code == 403
