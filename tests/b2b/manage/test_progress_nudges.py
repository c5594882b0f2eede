"""The progress page's nudges: remind the ticked learners, or everyone who needs attention,
through ``b2b.services.progress.nudges.nudge_learners``.

These tests need the nudges' service, which comes with its own branch: until it is merged the
nudge URL answers 503 and they fail (b2b/manage/urls.py)."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from bs4 import BeautifulSoup
from django.utils import timezone

from b2b.enums import ProgressVisibility
from b2b.exceptions import B2BError
from b2b.models import AttentionCutoffs, ProgressNudge
from b2b.services.invitations.managers import grant_manager
from b2b.services.progress.nudges import NudgeOutcome
from courses.models import CourseRun
from tests.ecommerce import helpers as h
from tests.support import factories as f
from tests.support.forms import BrowserForm
from tests.support.progress import progress_row

pytestmark = pytest.mark.django_db

OLD = timezone.now() - timedelta(days=60)


def _run(contract):
    return CourseRun.objects.filter(b2b_contract=contract).order_by("pk").first()


@pytest.fixture
def flagged(orgs):
    """Contract A: two learners who need attention (cat stalled, dan not started), one who
    does not (ann passed)."""
    run = _run(orgs.contract_a)
    rows = {}
    for name, fields in {
        "ann": {"grade_percent": Decimal("0.9"), "passed": True},
        "cat": {"grade_percent": Decimal("0.4"), "changed_on": OLD},
        "dan": {"enrolled_on": OLD},
    }.items():
        user = f.UserFactory(email=f"{name}@acme.example", name=name.title())
        rows[name] = progress_row(orgs.contract_a, run, user=user, edx_username=name)
        for key, value in fields.items():
            setattr(rows[name], key, value)
        rows[name].save()
    return rows


def _form(client, contract):
    html = client.get(f"/manage/contracts/{contract.pk}/progress/").content.decode()
    return BrowserForm(html, form_id="nudge-form")


def _nudged():
    return sorted(ProgressNudge.objects.values_list("progress__edx_username", flat=True))


def test_remind_the_ticked_learners(
    manager_client, orgs, flagged, django_capture_on_commit_callbacks
):
    form = _form(manager_client, orgs.contract_a)
    data = form.data(submit="scope")
    data["scope"] = ["selected"]
    data["progress"] = [str(flagged["cat"].pk)]  # ticking cat's box only
    with django_capture_on_commit_callbacks():
        response = manager_client.post(form.action, data, follow=True)
    assert response.redirect_chain[-1][0] == f"/manage/contracts/{orgs.contract_a.pk}/progress/"
    assert _nudged() == ["cat"]
    assert "A reminder to 1 learner is on its way." in response.content.decode()


def test_remind_everyone_who_needs_attention(
    manager_client, orgs, flagged, django_capture_on_commit_callbacks
):
    form = _form(manager_client, orgs.contract_a)
    buttons = BeautifulSoup(
        manager_client.get(f"/manage/contracts/{orgs.contract_a.pk}/progress/").content.decode(),
        "html.parser",
    ).select("#nudge-form button[name=scope]")
    assert [b["value"] for b in buttons] == ["selected", "all"]
    data = form.data()
    data["scope"] = ["all"]
    with django_capture_on_commit_callbacks():
        response = manager_client.post(form.action, data, follow=True)
    assert _nudged() == ["cat", "dan"]
    assert "Reminders to 2 learners are on their way." in response.content.decode()


def test_a_forged_id_of_another_contracts_row_nudges_nobody(
    manager_client, orgs, flagged, django_capture_on_commit_callbacks
):
    theirs = progress_row(orgs.contract_b, _run(orgs.contract_b), enrolled_on=OLD)
    url = f"/manage/contracts/{orgs.contract_a.pk}/progress/nudge/"
    with django_capture_on_commit_callbacks():
        response = manager_client.post(
            url, {"scope": "selected", "progress": [str(theirs.pk), "not-a-number"]}
        )
        response = manager_client.post(url, {"scope": "selected", "progress": [str(theirs.pk)]})
    assert response.status_code == 302
    assert not ProgressNudge.objects.filter(progress=theirs).exists()
    assert _nudged() == []


def test_nothing_ticked_is_said_and_nudges_nobody(manager_client, orgs, flagged):
    url = f"/manage/contracts/{orgs.contract_a.pk}/progress/nudge/"
    response = manager_client.post(url, {"scope": "selected"}, follow=True)
    assert "Tick the learners to remind first." in response.content.decode()
    assert _nudged() == []


def test_an_aggregates_contract_refuses_nudges(manager_client, orgs, flagged):
    orgs.contract_a.progress_visibility = ProgressVisibility.AGGREGATES
    orgs.contract_a.save()
    response = manager_client.post(
        f"/manage/contracts/{orgs.contract_a.pk}/progress/nudge/", {"scope": "all"}
    )
    assert response.status_code == 403
    assert "totals only" in response.content.decode()
    assert _nudged() == []


def test_a_non_manager_and_another_organizations_manager_get_404(client, orgs, flagged):
    url = f"/manage/contracts/{orgs.contract_a.pk}/progress/nudge/"
    client.force_login(h.learner("boss@borealis.example"))
    assert client.post(url, {"scope": "all"}).status_code == 404
    other_lead = h.learner("b-lead@borealis.example")
    grant_manager(user=other_lead, organization=orgs.b)
    client.force_login(other_lead)
    assert client.post(url, {"scope": "all"}).status_code == 404
    assert _nudged() == []


def test_anonymous_is_sent_to_sign_in(client, orgs, flagged):
    url = f"/manage/contracts/{orgs.contract_a.pk}/progress/nudge/"
    response = client.post(url, {"scope": "all"})
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/manage/")


def test_get_is_refused(manager_client, orgs, flagged):
    url = f"/manage/contracts/{orgs.contract_a.pk}/progress/nudge/"
    assert manager_client.get(url).status_code == 405
    assert _nudged() == []


def test_the_view_hands_the_service_the_contract_the_manager_and_the_ids(
    manager_client, orgs, flagged
):
    outcome = NudgeOutcome(queued=1, cooling_down=2, not_flagged=1)
    url = f"/manage/contracts/{orgs.contract_a.pk}/progress/nudge/"
    with mock.patch("b2b.manage.nudge_views.nudge_learners", return_value=outcome) as service:
        response = manager_client.post(
            url, {"scope": "selected", "progress": [str(flagged["dan"].pk)]}, follow=True
        )
    (contract,), kwargs = service.call_args
    assert contract == orgs.contract_a
    assert kwargs["by"] == orgs.manager
    assert kwargs["progress_ids"] == [flagged["dan"].pk]
    assert isinstance(kwargs["cutoffs"], AttentionCutoffs)
    html = response.content.decode()
    assert "A reminder to 1 learner is on its way." in html
    assert "2 reminded less than 7 days ago were not reminded again." in html
    assert "1 not needing attention was left alone." in html
    with mock.patch("b2b.manage.nudge_views.nudge_learners", return_value=outcome) as service:
        manager_client.post(url, {"scope": "all", "progress": [str(flagged["dan"].pk)]})
    assert service.call_args.kwargs["progress_ids"] is None


def test_a_refusal_of_the_service_is_shown_as_a_message(manager_client, orgs, flagged):
    url = f"/manage/contracts/{orgs.contract_a.pk}/progress/nudge/"
    refusal = B2BError("Reminders are paused for this contract.")
    with mock.patch("b2b.manage.nudge_views.nudge_learners", side_effect=refusal):
        response = manager_client.post(url, {"scope": "all"}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Reminders are paused for this contract." in html
    assert "Traceback" not in html
