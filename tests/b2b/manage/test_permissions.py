"""A manager of organization A reaches nothing of organization B: not by URL, not by posting
B's invitation ids to A's forms, not by job ids; and the role gives no staff powers."""

import pytest

from b2b.enums import InvitationState
from b2b.models import Invitation, InviteJob
from b2b.services.invitations.invite import invite
from b2b.services.invitations.jobs import start_invite_job
from b2b.services.invitations.uploads import UploadRow
from tests.ecommerce import helpers as h
from tests.support import factories as f

pytestmark = pytest.mark.django_db


def _b_objects(orgs):
    other = h.learner("boss@borealis.example")
    invitation = invite(contract=orgs.contract_b, email="x@borealis.example", by=other)
    job = start_invite_job(
        contract=orgs.contract_b,
        rows=[UploadRow(line=2, email="y@borealis.example", name="")],
        by=other,
    )
    return invitation, job


def test_anonymous_visitors_are_sent_to_sign_in(client, orgs):
    response = client.get(f"/manage/contracts/{orgs.contract_a.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/manage/contracts/")


def test_a_user_who_manages_nothing_gets_403(client, orgs):
    client.force_login(h.learner("nobody@example.com"))
    assert client.get("/manage/").status_code == 403
    assert client.get(f"/manage/organizations/{orgs.a.pk}/").status_code == 403
    assert client.get(f"/manage/contracts/{orgs.contract_a.pk}/").status_code == 404


def test_staff_powers_are_not_implied(client, orgs):
    """A staff member without the role manages nothing here either."""
    client.force_login(f.UserFactory(is_staff=True, is_superuser=True))
    assert client.get("/manage/").status_code == 403
    assert client.get(f"/manage/contracts/{orgs.contract_a.pk}/").status_code == 404


def test_a_manager_has_no_staff_powers(manager_client, orgs):
    assert manager_client.get("/admin/").status_code == 302
    assert manager_client.get("/cms/").status_code == 302
    assert manager_client.get(f"/b2b/contracts/{orgs.contract_a.pk}/codes.csv").status_code in (
        403,
        404,
    )


def test_own_pages_answer(manager_client, orgs):
    assert manager_client.get("/manage/").status_code == 302
    assert manager_client.get(f"/manage/organizations/{orgs.a.pk}/").status_code == 200
    assert manager_client.get(f"/manage/contracts/{orgs.contract_a.pk}/").status_code == 200


def test_other_organizations_urls_are_404(manager_client, orgs):
    _invitation, job = _b_objects(orgs)
    b = orgs.contract_b.pk
    for url in [
        f"/manage/organizations/{orgs.b.pk}/",
        f"/manage/contracts/{b}/",
        f"/manage/contracts/{b}/codes.csv",
        f"/manage/contracts/{b}/learners.csv",
        f"/manage/contracts/{b}/invite/",
        f"/manage/contracts/{b}/invite-many/",
        f"/manage/contracts/{b}/jobs/{job.pk}/",
        f"/manage/contracts/{b}/jobs/{job.pk}/status/",
        f"/manage/contracts/{b}/jobs/{job.pk}/results.csv",
        f"/manage/contracts/{orgs.contract_a.pk}/jobs/{job.pk}/",
        f"/manage/contracts/{orgs.contract_a.pk}/jobs/{job.pk}/status/",
        f"/manage/contracts/{orgs.contract_a.pk}/jobs/{job.pk}/results.csv",
        "/manage/contracts/999999/",
    ]:
        assert manager_client.get(url).status_code == 404, url


def test_posts_against_other_organizations_change_nothing(manager_client, orgs):
    invitation, _job = _b_objects(orgs)
    b = orgs.contract_b.pk
    a = orgs.contract_a.pk
    for url, data in [
        (f"/manage/contracts/{b}/invite/", {"email": "intruder@example.com"}),
        (f"/manage/contracts/{b}/remind-all/", {}),
        (f"/manage/contracts/{b}/invitations/{invitation.pk}/revoke/", {}),
        (f"/manage/contracts/{b}/invitations/{invitation.pk}/remind/", {}),
        # B's invitation through A's contract (form tampering): still B's, still 404.
        (f"/manage/contracts/{a}/invitations/{invitation.pk}/revoke/", {}),
        (f"/manage/contracts/{a}/invitations/{invitation.pk}/remind/", {}),
        # Extra fields naming B are ignored: the contract is the URL's.
        (f"/manage/contracts/{b}/invite/", {"email": "x2@example.com", "contract": a}),
    ]:
        assert manager_client.post(url, data).status_code == 404, url
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.OPEN
    assert invitation.reminders_sent == 0
    assert not Invitation.objects.filter(email__in=["intruder@example.com", "x2@example.com"])


def test_a_posted_contract_id_does_not_move_an_invitation(manager_client, orgs):
    response = manager_client.post(
        f"/manage/contracts/{orgs.contract_a.pk}/invite/",
        {
            "email": "new@acme.example",
            "contract": orgs.contract_b.pk,
            "contract_id": orgs.contract_b.pk,
        },
    )
    assert response.status_code == 302
    (made,) = Invitation.objects.filter(email="new@acme.example")
    assert made.contract_id == orgs.contract_a.pk


def test_posts_need_the_csrf_token(orgs, client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(orgs.manager)
    response = strict.post(
        f"/manage/contracts/{orgs.contract_a.pk}/invite/", {"email": "p@acme.example"}
    )
    assert response.status_code == 403
    assert not Invitation.objects.filter(email="p@acme.example").exists()


def test_losing_the_role_closes_the_pages(manager_client, orgs):
    from b2b.services.invitations.managers import revoke_manager

    revoke_manager(user=orgs.manager, organization=orgs.a)
    assert manager_client.get(f"/manage/contracts/{orgs.contract_a.pk}/").status_code == 404
    assert InviteJob.objects.count() == 0


def test_downloads_are_audited(manager_client, orgs):
    from b2b.selectors.history import page_history

    response = manager_client.get(f"/manage/contracts/{orgs.contract_a.pk}/codes.csv")
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == "Code,Product,Redeemed,Product URL"
    assert len(lines) == 11
    response = manager_client.get(f"/manage/contracts/{orgs.contract_a.pk}/learners.csv")
    assert b"".join(response.streaming_content).decode().splitlines() == [
        "E-mail,Name,Joined,How,Enrolled runs"
    ]
    downloads = [
        (e.actor, e.channel, e.details)
        for e in page_history(orgs.contract_a.pk)
        if e.action == "b2b.manager.download"
    ]
    assert downloads == [
        ("lead@acme.example", "manager", {"file": "codes"}),
        ("lead@acme.example", "manager", {"file": "learners"}),
    ]
