"""The manager API (/api/v1/manager/): a manager's own organizations, contracts, learners and
invitations; inviting one or many, reminding, revoking; what a replay does; and that nothing
of another organization is reachable, by id tampering or job ids."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from b2b.enums import InvitationEmailKind, InvitationState
from b2b.models import Invitation, InvitationEmail, InviteJob
from b2b.selectors.history import page_history
from b2b.services.invitations.invite import invite
from b2b.services.invitations.jobs import run_invite_job
from b2b.services.invitations.managers import grant_manager
from tests.api.helpers import API, api_token
from tests.b2b.helpers import capped_contract, redeem
from tests.ecommerce import helpers as h
from tests.support import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(site_tree):
    a = f.OrganizationPageFactory(title="Acme University")
    b = f.OrganizationPageFactory(title="Borealis Corp")
    contract_a = capped_contract(a, cap=5, title="Acme Leadership")
    contract_b = capped_contract(b, cap=5, title="Borealis Sales")
    manager = h.learner("lead@acme.example", name="Lea Lead")
    grant_manager(user=manager, organization=a)
    other = h.learner("boss@borealis.example")
    grant_manager(user=other, organization=b)
    return {"a": a, "b": b, "ca": contract_a, "cb": contract_b, "manager": manager, "other": other}


@pytest.fixture
def api(world):
    """The manager, with a real token made by `manage.py api_token`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token('lead@acme.example')}")
    return client


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()["error"]
    assert body["code"] == code
    return body


# Who may use it


def test_anonymous_is_401_and_people_without_the_role_are_403(world):
    client = APIClient()
    assert client.get(f"{API}/organizations/").status_code == 401
    for user in (f.UserFactory(), f.UserFactory(is_staff=True, is_superuser=True)):
        client.force_authenticate(user)
        for url in (
            f"{API}/organizations/",
            f"{API}/contracts/",
            f"{API}/contracts/{world['ca'].pk}/invitations/",
        ):
            body = _error(client.get(url), 403, "permission_denied")
            assert body["message"] == "You do not manage any organization."
        response = client.post(
            f"{API}/contracts/{world['ca'].pk}/invitations/", {"email": "x@y.example"}
        )
        _error(response, 403, "permission_denied")
    assert not Invitation.objects.exists()


def test_api_tokens_are_made_for_managers_but_not_for_learners(world):
    """A manager's token reaches the manager API and none of the staff endpoints."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token('LEAD@acme.example')}")
    assert client.get(f"{API}/organizations/").status_code == 200
    for url in ("/api/v1/b2b/organizations/", f"/api/v1/b2b/contracts/{world['ca'].pk}/codes/"):
        _error(client.get(url), 403, "permission_denied")
    with pytest.raises(CommandError, match="neither an active staff account nor an organization"):
        call_command("api_token", "create", h.learner("x@example.com").email)


def test_a_manager_sees_only_their_organizations_and_contracts(api, world):
    response = api.get(f"{API}/organizations/")
    assert response.status_code == 200
    assert response.json() == {
        "next": None,
        "previous": None,
        "results": [
            {
                "id": world["a"].pk,
                "name": "Acme University",
                "org_key": world["a"].org_key,
                "contracts": 1,
            }
        ],
    }
    contracts = api.get(f"{API}/contracts/").json()["results"]
    assert [c["id"] for c in contracts] == [world["ca"].pk]
    assert api.get(f"{API}/contracts/?organization={world['a'].pk}").json()["results"] == contracts
    _error(api.get(f"{API}/organizations/{world['b'].pk}/"), 404, "not_found")
    _error(api.get(f"{API}/contracts/?organization={world['b'].pk}"), 404, "not_found")
    _error(api.get(f"{API}/contracts/{world['cb'].pk}/"), 404, "not_found")
    _error(api.get(f"{API}/contracts/999999/"), 404, "not_found")


def test_nothing_of_another_organization_can_be_touched(api, world):
    """B's contract, B's invitation and B's job, by URL and by pairing A's contract with B's
    invitation or job ids: 404 each time, and nothing changes."""
    theirs = invite(contract=world["cb"], email="x@borealis.example", by=world["other"])
    other_api = APIClient()
    other_api.force_authenticate(world["other"])
    job_id = other_api.post(
        f"{API}/contracts/{world['cb'].pk}/invitations/bulk/",
        {"rows": [{"email": "y@borealis.example"}]},
        format="json",
    ).json()["id"]
    emails_before = InvitationEmail.objects.count()
    a, b = world["ca"].pk, world["cb"].pk
    gets = [
        f"{API}/contracts/{b}/learners/",
        f"{API}/contracts/{b}/invitations/",
        f"{API}/contracts/{b}/invitations/{theirs.pk}/",
        f"{API}/contracts/{b}/jobs/",
        f"{API}/contracts/{b}/jobs/{job_id}/",
        f"{API}/contracts/{b}/jobs/{job_id}/results/",
        f"{API}/contracts/{a}/invitations/{theirs.pk}/",
        f"{API}/contracts/{a}/jobs/{job_id}/",
        f"{API}/contracts/{a}/jobs/{job_id}/results/",
    ]
    posts = [
        (f"{API}/contracts/{b}/invitations/", {"email": "new@acme.example"}),
        (f"{API}/contracts/{b}/invitations/bulk/", {"rows": [{"email": "n2@acme.example"}]}),
        (f"{API}/contracts/{b}/invitations/remind/", {}),
        (f"{API}/contracts/{b}/invitations/{theirs.pk}/remind/", {}),
        (f"{API}/contracts/{b}/invitations/{theirs.pk}/revoke/", {}),
        (f"{API}/contracts/{a}/invitations/{theirs.pk}/remind/", {}),
        (f"{API}/contracts/{a}/invitations/{theirs.pk}/revoke/", {}),
    ]
    for url in gets:
        _error(api.get(url), 404, "not_found")
    for url, data in posts:
        _error(api.post(url, data, format="json"), 404, "not_found")
    theirs.refresh_from_db()
    assert (theirs.state, theirs.reminders_sent) == (InvitationState.OPEN, 0)
    assert sorted(Invitation.objects.values_list("email", flat=True)) == [
        "x@borealis.example",
        "y@borealis.example",
    ]
    assert InvitationEmail.objects.count() == emails_before
    assert InviteJob.objects.count() == 1


# Contracts and learners


def test_a_contract_shows_seats_codes_invitations_and_days_left(api, world):
    contract = world["ca"]
    f.ContractMembershipFactory(contract=contract, user=h.learner("m1@acme.example"))
    invite(contract=contract, email="i1@acme.example", by=world["manager"])
    body = api.get(f"{API}/contracts/{contract.pk}/").json()
    assert body == {
        "id": contract.pk,
        "organization_id": world["a"].pk,
        "name": "Acme Leadership",
        "active": True,
        "start": None,
        "end": None,
        "days_left": None,
        "seats": {"used": 1, "cap": 5, "open_invitations": 1, "left": 3},
        "codes": {"usable": 5, "redeemed": 0},
    }


def test_learners_are_searchable_and_paginated(api, world):
    contract = world["ca"]
    for email, name in [("ada@x.example", "Ada L"), ("bob@x.example", "Bob"), ("cy@x.example", "")]:
        f.ContractMembershipFactory(
            contract=contract, user=h.learner(email, name=name), source="code"
        )
    url = f"{API}/contracts/{contract.pk}/learners/"
    first = api.get(f"{url}?page_size=2").json()
    assert [r["email"] for r in first["results"]] == ["ada@x.example", "bob@x.example"]
    second = api.get(first["next"]).json()
    assert [r["email"] for r in second["results"]] == ["cy@x.example"]
    found = api.get(f"{url}?search=ADA").json()["results"]
    assert len(found) == 1
    assert found[0]["email"] == "ada@x.example"
    assert found[0]["name"] == "Ada L"
    assert found[0]["source"] == "code"
    assert found[0]["runs"] == []


# Inviting one person


def test_invite_one_sets_a_code_aside_and_is_recorded_as_the_manager_through_the_api(api, world):
    contract = world["ca"]
    response = api.post(
        f"{API}/contracts/{contract.pk}/invitations/",
        {"email": " Grace@Example.com ", "name": "Grace"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    invitation = Invitation.objects.get()
    assert body["id"] == invitation.pk
    assert body["email"] == "grace@example.com"
    assert body["name"] == "Grace"
    assert body["state"] == "open"
    assert body["code"] == invitation.code.discount_code
    assert body["invited_by"] == "lead@acme.example"
    assert body["redeemed_by"] is None
    assert body["last_email"] == {"state": "queued", "error": ""}
    entry = page_history(contract.pk)[-1]
    assert (entry.action, entry.channel, entry.actor) == (
        "b2b.invitation.send",
        "api",
        "lead@acme.example",
    )
    assert entry.details["emails"] == ["grace@example.com"]
    seats = api.get(f"{API}/contracts/{contract.pk}/").json()["seats"]
    assert seats == {"used": 0, "cap": 5, "open_invitations": 1, "left": 4}


def test_invite_one_refusals(api, world):
    contract = world["ca"]
    url = f"{API}/contracts/{contract.pk}/invitations/"
    f.ContractMembershipFactory(contract=contract, user=h.learner("member@acme.example"))
    invite(contract=contract, email="open@acme.example", by=world["manager"])
    body = _error(
        api.post(url, {"email": "not an address"}, format="json"), 400, "validation_error"
    )
    assert body["fields"] == {"email": ["'not an address' was not invited: invalid e-mail"]}
    body = _error(api.post(url, {}, format="json"), 400, "validation_error")
    assert body["fields"] == {"email": ["This field is required."]}
    body = _error(
        api.post(url, {"email": "OPEN@acme.example"}, format="json"), 409, "invitation_refused"
    )
    assert body["outcome"] == "already-invited"
    assert body["message"] == "'OPEN@acme.example' was not invited: already invited"
    body = _error(
        api.post(url, {"email": "member@acme.example"}, format="json"), 409, "invitation_refused"
    )
    assert body["outcome"] == "already-member"
    for i in range(3):  # 1 member + 1 open + 3 = the cap of 5
        assert api.post(url, {"email": f"p{i}@acme.example"}, format="json").status_code == 201
    body = _error(
        api.post(url, {"email": "late@acme.example"}, format="json"), 409, "invitation_refused"
    )
    assert body["outcome"] == "no-seats"
    assert Invitation.objects.filter(contract=contract).count() == 4


# Reminding and revoking, and their replays


def test_remind_revoke_and_their_replays(api, world, settings):
    settings.B2B_INVITATION_REMIND_COOLDOWN_SECONDS = 0  # the cooldown has tests of its own
    contract = world["ca"]
    first = invite(contract=contract, email="one@acme.example", by=world["manager"])
    invite(contract=contract, email="two@acme.example", by=world["manager"])
    base = f"{API}/contracts/{contract.pk}/invitations"
    response = api.post(f"{base}/{first.pk}/remind/")
    assert response.status_code == 200
    assert response.json()["reminders_sent"] == 1
    assert api.post(f"{base}/remind/").json() == {"reminded": 2, "in_cooldown": 0}
    old_code = first.code
    response = api.post(f"{base}/{first.pk}/revoke/")
    assert response.status_code == 200
    assert response.json()["state"] == "revoked"
    assert response.json()["revoked_on"] is not None
    old_code.refresh_from_db()
    assert old_code.is_active is False
    history = len(page_history(contract.pk))
    emails = InvitationEmail.objects.count()
    body = _error(api.post(f"{base}/{first.pk}/revoke/"), 409, "invitation_not_open")
    assert body["message"] == "The invitation of one@acme.example is no longer open"
    _error(api.post(f"{base}/{first.pk}/remind/"), 409, "invitation_not_open")
    assert api.post(f"{base}/remind/").json() == {"reminded": 1, "in_cooldown": 0}  # the open
    assert InvitationEmail.objects.count() == emails + 1
    assert len(page_history(contract.pk)) == history + 1
    kinds = list(InvitationEmail.objects.filter(invitation=first).values_list("kind", flat=True))
    assert kinds == [
        InvitationEmailKind.INVITATION,
        InvitationEmailKind.REMINDER,
        InvitationEmailKind.REMINDER,
        InvitationEmailKind.REVOKE,
    ]
    actions = [e.action for e in page_history(contract.pk)][-4:]
    assert actions == [
        "b2b.invitation.remind",
        "b2b.invitation.remind",
        "b2b.invitation.revoke",
        "b2b.invitation.remind",
    ]


def test_invitations_show_their_redemption_and_filter_by_state(api, world):
    contract = world["ca"]
    used = invite(contract=contract, email="invited@acme.example", by=world["manager"])
    gone = invite(contract=contract, email="gone@acme.example", by=world["manager"])
    waiting = invite(contract=contract, email="waiting@acme.example", by=world["manager"])
    redeem(used.code, h.learner("personal@gmail.example"))
    api.post(f"{API}/contracts/{contract.pk}/invitations/{gone.pk}/revoke/")
    url = f"{API}/contracts/{contract.pk}/invitations/"
    rows = api.get(url).json()["results"]
    assert [(r["id"], r["state"], r["redeemed_by"]) for r in rows] == [
        (used.pk, "redeemed", "personal@gmail.example"),
        (gone.pk, "revoked", None),
        (waiting.pk, "open", None),
    ]
    assert rows[0]["redeemed_on"] is not None
    for state, expected in [
        ("open", [waiting.pk]),
        ("redeemed", [used.pk]),
        ("revoked", [gone.pk]),
    ]:
        assert [r["id"] for r in api.get(f"{url}?state={state}").json()["results"]] == expected
    _error(api.get(f"{url}?state=lost"), 400, "validation_error")
    _error(api.post(f"{url}{used.pk}/remind/"), 409, "invitation_not_open")


# Inviting many


def test_bulk_json_is_answered_inline_with_every_row(api, world):
    contract = world["ca"]
    f.ContractMembershipFactory(contract=contract, user=h.learner("member@acme.example"))
    rows = [
        {"email": "ann@acme.example", "name": "Ann"},
        {"email": "bad address"},
        {"email": "ANN@acme.example"},
        {"email": "member@acme.example"},
        {"email": "ben@acme.example", "name": "=HYPERLINK()"},
    ]
    response = api.post(
        f"{API}/contracts/{contract.pk}/invitations/bulk/", {"rows": rows}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    job = InviteJob.objects.get()
    assert response["Location"] == f"http://testserver{API}/contracts/{contract.pk}/jobs/{job.pk}/"
    assert (body["state"], body["finished"], body["rows"], body["percent"]) == (
        "done",
        True,
        5,
        100,
    )
    assert [(r["line"], r["email"], r["outcome"], r["result"]) for r in body["results"]] == [
        (1, "ann@acme.example", "invited", "invited"),
        (2, "bad address", "invalid-email", "invalid e-mail"),
        (3, "ANN@acme.example", "duplicate", "duplicate in file"),
        (4, "member@acme.example", "already-member", "already a member"),
        (5, "ben@acme.example", "invalid-name", "invalid name"),
    ]
    ann = Invitation.objects.get()
    assert body["results"][0]["invitation_id"] == ann.pk
    assert (ann.email, ann.name) == ("ann@acme.example", "Ann")
    assert {(c["outcome"], c["count"]) for c in body["summary"]} == {
        ("invited", 1),
        ("invalid-email", 1),
        ("duplicate", 1),
        ("already-member", 1),
        ("invalid-name", 1),
    }
    assert api.get(f"{API}/contracts/{contract.pk}/jobs/{job.pk}/").json() == body
    entry = page_history(contract.pk)[-1]
    assert (entry.action, entry.channel, entry.actor) == (
        "b2b.invitation.send",
        "api",
        "lead@acme.example",
    )


def test_bulk_csv_file(api, world):
    contract = world["ca"]
    data = b"email,name\nzoe@acme.example,Zoe\nyan@acme.example,\n"
    response = api.post(
        f"{API}/contracts/{contract.pk}/invitations/bulk/",
        {"file": SimpleUploadedFile("people.csv", data, "text/csv")},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert [
        (r["line"], r["email"], r["name"], r["outcome"]) for r in response.json()["results"]
    ] == [
        (2, "zoe@acme.example", "Zoe", "invited"),
        (3, "yan@acme.example", "", "invited"),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"name,phone\nAda,555\n", "The file has no e-mail column"),
        (
            "email\nJos\u00e9@acme.example\n".encode("latin-1"),
            "The file is not UTF-8 text (line 2).",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "The file is not a CSV text file."),
    ],
)
def test_unreadable_files_are_400_and_start_nothing(api, world, data, message):
    response = api.post(
        f"{API}/contracts/{world['ca'].pk}/invitations/bulk/",
        {"file": SimpleUploadedFile("people.csv", data, "text/csv")},
        format="multipart",
    )
    body = _error(response, 400, "upload_refused")
    assert body["message"].startswith(message)
    assert not InviteJob.objects.exists()
    assert not Invitation.objects.exists()


def test_bulk_shape_errors(api, world, settings):
    url = f"{API}/contracts/{world['ca'].pk}/invitations/bulk/"
    _error(api.post(url, {"rows": []}, format="json"), 400, "validation_error")
    _error(api.post(url, {"file": "email\na@b.example"}, format="json"), 400, "validation_error")
    settings.B2B_INVITE_MAX_ROWS = 2
    body = _error(
        api.post(url, {"rows": [{"email": f"p{i}@x.example"} for i in range(3)]}, format="json"),
        400,
        "validation_error",
    )
    assert body["fields"] == {"rows": ["At most 2 rows at a time; split them."]}
    assert not InviteJob.objects.exists()


def test_large_bulk_is_queued_as_a_job_to_poll(
    api, world, settings, django_capture_on_commit_callbacks
):
    settings.B2B_INVITE_INLINE_ROWS = 2
    contract = world["ca"]
    rows = [{"email": f"p{i}@acme.example"} for i in range(3)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post(
            f"{API}/contracts/{contract.pk}/invitations/bulk/", {"rows": rows}, format="json"
        )
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["state"], body["finished"], body["results"]) == ("queued", False, None)
    assert len(callbacks) == 1  # the job's task, sent after commit
    assert not Invitation.objects.exists()
    run_invite_job(job_id=body["id"])  # what the worker does
    job = api.get(response["Location"]).json()
    assert (job["state"], job["done"], job["total"], job["percent"]) == ("done", 3, 3, 100)
    assert job["results"] is None  # more than the inline rows: page through results_url
    first = api.get(f"{job['results_url']}?page_size=2").json()
    second = api.get(first["next"]).json()
    assert [r["email"] for r in first["results"] + second["results"]] == [
        "p0@acme.example",
        "p1@acme.example",
        "p2@acme.example",
    ]
    assert {r["outcome"] for r in first["results"] + second["results"]} == {"invited"}
    listed = api.get(f"{API}/contracts/{contract.pk}/jobs/").json()["results"]
    assert [(j["id"], j["results"]) for j in listed] == [(body["id"], None)]


# Throttling


def test_writes_are_throttled_per_manager_and_reads_are_not(api, world, settings):
    settings.B2B_MANAGER_API_WRITES_PER_MINUTE = 2
    url = f"{API}/contracts/{world['ca'].pk}/invitations/"
    for i in range(2):
        assert api.post(url, {"email": f"t{i}@acme.example"}, format="json").status_code == 201
    response = api.post(url, {"email": "t9@acme.example"}, format="json")
    _error(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert api.get(url).status_code == 200
    assert Invitation.objects.count() == 2


def test_a_replayed_bulk_list_invites_nobody_twice(api, world):
    url = f"{API}/contracts/{world['ca'].pk}/invitations/bulk/"
    rows = {"rows": [{"email": "ann@acme.example"}, {"email": "ben@acme.example"}]}
    first = api.post(url, rows, format="json").json()["results"]
    again = api.post(url, rows, format="json").json()["results"]
    assert [r["outcome"] for r in first] == ["invited", "invited"]
    assert [r["outcome"] for r in again] == ["already-invited", "already-invited"]
    assert Invitation.objects.count() == 2
    assert InvitationEmail.objects.count() == 2


def test_a_manager_of_two_organizations_sees_both(api, world):
    c = f.OrganizationPageFactory(title="Cirrus Labs")
    contract_c = capped_contract(c, cap=2, title="Cirrus Data")
    grant_manager(user=world["manager"], organization=c)
    names = [o["name"] for o in api.get(f"{API}/organizations/").json()["results"]]
    assert sorted(names) == ["Acme University", "Cirrus Labs"]
    listed = api.get(f"{API}/contracts/").json()["results"]
    assert sorted(r["id"] for r in listed) == sorted([world["ca"].pk, contract_c.pk])
    only_c = api.get(f"{API}/contracts/?organization={c.pk}").json()["results"]
    assert [(r["id"], r["organization_id"]) for r in only_c] == [(contract_c.pk, c.pk)]
