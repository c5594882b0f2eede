"""A contract change that goes live later, or by another way than the edit view's publish.

Staff can give a Wagtail draft a go-live time; Wagtail's ``publish_scheduled`` command (run by
cron or beat) publishes it then, and a moderation workflow's approval publishes it too. Neither
runs the edit view's hooks. The contract's codes must follow the terms that went live, and the
audit trail must say what changed, whoever published it.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Revision

from b2b.models import ContractCodeStatus, ContractPage
from b2b.selectors.history import page_history
from b2b.services.publishing import give_live_revision
from cms.tasks import publish_scheduled_pages
from tests.b2b.helpers import codes, contract_with_products, reconcile
from tests.support import factories as f
from tests.support.forms import BrowserForm, page_errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client, site_tree):
    client.force_login(f.UserFactory(is_staff=True, is_superuser=True, email="ed@example.com"))
    return client


def _schedule(client, page, go_live_at, **changes):
    """Change fields in the edit form and publish with a go-live time, as an editor does."""
    url = reverse("wagtailadmin_pages:edit", args=[page.pk])
    form = BrowserForm(client.get(url).content.decode(), form_id="page-edit-form")
    data = form.data()
    for name, value in {**changes, "go_live_at": go_live_at}.items():
        assert name in form.names(), name
        data[name] = [value]
    data["action-publish"] = ["action-publish"]
    response = client.post(url, data)
    assert response.status_code == 302, page_errors(response.content.decode())


def _go_live_now(page):
    """Time passes: the scheduled revision is due (its approval and its page's go-live time
    are moved into the past, as the clock would)."""
    due = timezone.now() - timedelta(minutes=1)
    scheduled = Revision.page_revisions.filter(object_id=str(page.pk)).exclude(
        approved_go_live_at=None
    )
    assert len(scheduled) == 1
    for revision in scheduled:
        revision.approved_go_live_at = due
        revision.content["go_live_at"] = due.isoformat()
        revision.save(update_fields=["approved_go_live_at", "content"])


def _b2b_trail(page):
    return [
        (e.action, e.channel, e.changes)
        for e in page_history(page.pk)
        if e.action.startswith("b2b.")
    ]


def test_a_scheduled_price_change_reprices_the_codes_when_it_goes_live(
    editor, django_capture_on_commit_callbacks
):
    contract, (product, _) = contract_with_products(
        max_learners=3, enrollment_fixed_price=Decimal("10.00"), contract_end=date(2036, 1, 1)
    )
    reconcile(contract)
    requested = ContractCodeStatus.objects.get(pk=contract.pk).requested_version
    later = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%d %H:%M")

    with django_capture_on_commit_callbacks(execute=True):
        _schedule(editor, contract, later, enrollment_fixed_price="25.00")
    contract.refresh_from_db()
    assert contract.live  # the page stays online with its current terms until the time comes
    assert contract.enrollment_fixed_price == Decimal("10.00")  # not live yet
    assert set(codes(product).values_list("price", flat=True)) == {Decimal("10.00")}

    _go_live_now(contract)
    with django_capture_on_commit_callbacks(execute=True):
        publish_scheduled_pages.delay()  # what Celery beat runs every minute

    contract.refresh_from_db()
    assert contract.enrollment_fixed_price == Decimal("25.00")
    status = ContractCodeStatus.objects.get(pk=contract.pk)
    assert status.requested_version > requested
    assert not status.is_pending  # the eager worker ran it
    assert set(codes(product).values_list("price", flat=True)) == {Decimal("25.00")}
    assert _b2b_trail(contract)[-1] == (
        "b2b.contract.change",
        "system",
        {"enrollment_fixed_price": {"before": "10.00", "after": "25.00"}},
    )


def test_a_scheduled_new_contract_is_recorded_as_created_when_it_goes_live(site_tree):
    org = f.OrganizationPageFactory()
    contract = org.add_child(
        instance=ContractPage(
            title="Later", slug="later", integration_type="sso", active=True, live=False
        )
    )
    revision = contract.save_revision()
    revision.approved_go_live_at = timezone.now() - timedelta(minutes=1)
    revision.save()

    call_command("publish_scheduled")

    contract.refresh_from_db()
    assert contract.live
    assert [action for action, _, _ in _b2b_trail(contract)] == ["b2b.contract.create"]
    assert ContractCodeStatus.objects.get(pk=contract.pk).requested_version >= 1


def test_a_publish_by_code_outside_the_services_reconciles_and_is_audited_once(
    site_tree, django_capture_on_commit_callbacks
):
    """A moderation workflow's approval publishes with ``revision.publish()``, as here."""
    contract, (product, _) = contract_with_products(max_learners=2)
    reconcile(contract)
    give_live_revision(contract)  # as the edit view does when the change is submitted
    contract.max_learners = 4
    with django_capture_on_commit_callbacks(execute=True):
        contract.save_revision().publish()
    assert codes(product, is_active=True).count() == 4
    assert _b2b_trail(contract) == [
        ("b2b.contract.change", "system", {"max_learners": {"before": 2, "after": 4}})
    ]


def test_a_publish_by_the_command_line_is_audited_and_reconciled_once(
    run_command, site_tree, django_capture_on_commit_callbacks
):
    contract, _ = contract_with_products(max_learners=2)
    reconcile(contract)
    requested = ContractCodeStatus.objects.get(pk=contract.pk).requested_version
    run_command("b2b_contract", "modify", str(contract.pk), "--max-learners", "5")
    assert ContractCodeStatus.objects.get(pk=contract.pk).requested_version == requested + 1
    assert [action for action, _, _ in _b2b_trail(contract)] == ["b2b.contract.change"]
