"""The progress endpoints of the manager API and of the staff API: a contract's rows (shape,
filters, search, sort, pages), its funnel, the refusal of an aggregates-only contract's rows, and
that no other organization's learner is reachable."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from b2b.enums import ProgressVisibility
from b2b.services.invitations.managers import grant_manager
from courses.models import CourseRun
from tests.api.helpers import API, api_token
from tests.b2b.helpers import capped_contract
from tests.ecommerce import helpers as h
from tests.support import factories as f
from tests.support.progress import progress_row

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _run(contract):
    return CourseRun.objects.get(b2b_contract=contract)


@pytest.fixture
def world(site_tree):
    a = f.OrganizationPageFactory(title="Acme University")
    b = f.OrganizationPageFactory(title="Borealis Corp")
    ca = capped_contract(a, cap=10, title="Acme Leadership")
    cb = capped_contract(b, cap=10, title="Borealis Sales")
    for contract in (ca, cb):
        contract.progress_visibility = ProgressVisibility.PER_LEARNER
        contract.save(update_fields=["progress_visibility"])
    manager = h.learner("lead@acme.example", name="Lea Lead")
    grant_manager(user=manager, organization=a)
    other = h.learner("boss@borealis.example")
    grant_manager(user=other, organization=b)
    return {"a": a, "b": b, "ca": ca, "cb": cb, "manager": manager, "other": other}


@pytest.fixture
def api(world):
    """The manager of Acme, with a real token made by `manage.py api_token`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token('lead@acme.example')}")
    return client


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()["error"]
    assert body["code"] == code
    return body


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["learner"]["edx_username"] for row in response.json()["results"]]


@pytest.fixture
def rows(world):
    """Five learners of Acme's contract, one of each kind, each matched to an account."""
    ca, run = world["ca"], _run(world["ca"])

    def row(username, name, **fields):
        user = h.learner(f"{username}@acme.example", name=name)
        return progress_row(ca, run, edx_username=username, user=user, **fields)

    return {
        "ada": row(
            "ada",
            "Ada Lovelace",
            grade_percent=Decimal("0.8200"),
            letter_grade="Pass",
            passed=True,
            first_passed_on=NOW - timedelta(days=2),
            cert_status="downloadable",
            cert_url="https://courses.example/certificates/abc",
            cert_created_on=NOW - timedelta(days=2),
            changed_on=NOW - timedelta(days=2),
            as_of=NOW - timedelta(minutes=30),
        ),
        "bob": row("bob", "Bob Byte", grade_percent=Decimal("0.3000")),
        # not started 20 days after enrolling (over 14): needs attention
        "cyd": row("cyd", "Cyd Charisse", enrolled_on=NOW - timedelta(days=20)),
        # started, no change for 40 days (over 30): needs attention
        "dee": row(
            "dee", "Dee Dee", grade_percent=Decimal("0.4"), changed_on=NOW - timedelta(days=40)
        ),
        "eve": row("eve", "Eve Evans", grade_percent=Decimal("0.9000"), passed=True),
    }


# The rows


def test_a_row_has_the_learner_the_run_the_grade_and_the_certificate(api, world, rows):
    ada = rows["ada"]
    response = api.get(f"{API}/contracts/{world['ca'].pk}/progress/?q=ada")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    assert body["results"] == [
        {
            "learner": {
                "user_id": ada.user_id,
                "name": "Ada Lovelace",
                "email": "ada@acme.example",
                "edx_username": "ada",
            },
            "run": _run(world["ca"]).courseware_id,
            "mode": "verified",
            "active": True,
            "enrolled_on": ada.enrolled_on.isoformat().replace("+00:00", "Z"),
            "grade_percent": 0.82,
            "letter_grade": "Pass",
            "passed": True,
            "first_passed_on": ada.first_passed_on.isoformat().replace("+00:00", "Z"),
            "certificate": {
                "status": "downloadable",
                "url": "https://courses.example/certificates/abc",
                "created_on": ada.cert_created_on.isoformat().replace("+00:00", "Z"),
            },
            "needs_attention": False,
            "changed_on": ada.changed_on.isoformat().replace("+00:00", "Z"),
            "as_of": ada.as_of.isoformat().replace("+00:00", "Z"),
        }
    ]


def test_an_unmapped_learner_shows_the_open_edx_address_and_no_account(api, world, rows):
    zed = progress_row(
        world["ca"], _run(world["ca"]), edx_username="zed", grade_percent=Decimal("0.3")
    )
    (row,) = api.get(f"{API}/contracts/{world['ca'].pk}/progress/?q=zed").json()["results"]
    assert row["learner"] == {
        "user_id": None,
        "name": "",
        "email": zed.edx_email,
        "edx_username": "zed",
    }
    assert row["grade_percent"] == 0.3
    assert row["certificate"] == {"status": "", "url": "", "created_on": None}


@pytest.mark.parametrize(
    ("show", "expected"),
    [
        ("", ["ada", "bob", "cyd", "dee", "eve"]),
        ("not-started", ["cyd"]),
        ("needs-attention", ["cyd", "dee"]),
        ("passed", ["ada", "eve"]),
        ("certified", ["ada"]),
    ],
)
def test_each_filter_keeps_its_rows(api, world, rows, show, expected):
    response = api.get(f"{API}/contracts/{world['ca'].pk}/progress/", {"show": show})
    assert _names(response) == expected
    flagged = {row["learner"]["edx_username"] for row in response.json()["results"]}
    flagged &= {"cyd", "dee"}
    assert [
        row["learner"]["edx_username"]
        for row in response.json()["results"]
        if row["needs_attention"]
    ] == sorted(flagged)


def test_search_reads_the_name_the_email_and_the_open_edx_username(api, world, rows):
    url = f"{API}/contracts/{world['ca'].pk}/progress/"
    assert _names(api.get(url, {"q": "LOVELACE"})) == ["ada"]
    assert _names(api.get(url, {"q": "ada@acme"})) == ["ada"]
    assert _names(api.get(url, {"q": "Byte"})) == ["bob"]
    assert _names(api.get(url, {"q": "  cyd "})) == ["cyd"]
    assert _names(api.get(url, {"q": "nobody"})) == []


def test_sort_by_grade_either_way(api, world, rows):
    url = f"{API}/contracts/{world['ca'].pk}/progress/"
    graded = ["bob", "dee", "ada", "eve"]
    assert [n for n in _names(api.get(url, {"sort": "grade"})) if n != "cyd"] == graded
    assert [n for n in _names(api.get(url, {"sort": "-grade"})) if n != "cyd"] == graded[::-1]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"show": "everyone"}, "show"),
        ({"sort": "salary"}, "sort"),
        ({"q": "x" * 101}, "q"),
    ],
)
def test_an_unknown_filter_or_sort_is_400_naming_it(api, world, rows, query, field):
    body = _error(
        api.get(f"{API}/contracts/{world['ca'].pk}/progress/", query), 400, "validation_error"
    )
    assert list(body["fields"]) == [field]
    assert body["message"].startswith(f"{field}: ")


def test_rows_page_forwards_and_back_in_the_chosen_order(api, world, rows):
    url = f"{API}/contracts/{world['ca'].pk}/progress/?sort=-name&page_size=2"
    pages, body = [], api.get(url).json()
    assert body["previous"] is None
    while True:
        pages.append([row["learner"]["edx_username"] for row in body["results"]])
        if body["next"] is None:
            break
        body = api.get(body["next"]).json()
    assert pages == [["eve", "dee"], ["cyd", "bob"], ["ada"]]
    back = api.get(body["previous"]).json()
    assert [row["learner"]["edx_username"] for row in back["results"]] == ["cyd", "bob"]


@pytest.mark.parametrize("cursor", ["not-a-cursor", "WyJwIiwgLTFd", "WyJwIiwgIngiXQ==", "WzFd"])
def test_a_forged_cursor_is_404_not_an_error(api, world, rows, cursor):
    # WyJwIiwgLTFd: ["p", -1]; WyJwIiwgIngiXQ==: ["p", "x"]; WzFd: [1]
    response = api.get(f"{API}/contracts/{world['ca'].pk}/progress/", {"cursor": cursor})
    _error(response, 404, "not_found")


def test_a_huge_cursor_position_is_404_not_a_database_error(api, world, rows):
    import base64

    cursor = base64.urlsafe_b64encode(b'["p", 100000000000000000000]').decode()
    response = api.get(f"{API}/contracts/{world['ca'].pk}/progress/", {"cursor": cursor})
    _error(response, 404, "not_found")


# The funnel


def test_the_summary_has_the_funnel_the_completion_and_needs_attention(api, world, rows):
    response = api.get(f"{API}/contracts/{world['ca'].pk}/progress/summary/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(s["key"], s["count"], s["share"]) for s in body["stages"]] == [
        ("invited", 0, 0),
        ("joined", 0, 0),
        ("enrolled", 5, 50),
        ("started", 4, 40),
        ("passed", 2, 20),
        ("certified", 1, 10),
    ]
    assert body["stages"][3]["text"] == "Started: 4 (40%)"
    assert body["completion_rate"] == 40
    assert body["needs_attention"] == 2
    assert body["unmapped"] is None  # staff only
    assert body["per_learner"] is True
    assert body["seats"] == 10
    assert body["contract_id"] == world["ca"].pk
    latest = max(row.as_of for row in rows.values() if row.contract_id == world["ca"].pk)
    assert body["as_of"] == latest.isoformat().replace("+00:00", "Z")
    assert body["text"].startswith("Invited: 0 (0%); Joined: 0 (0%); Enrolled: 5 (50%);")


def test_an_aggregates_only_contract_gives_its_summary_and_refuses_its_rows(api, world, rows):
    contract = world["ca"]
    contract.progress_visibility = ProgressVisibility.AGGREGATES
    contract.save(update_fields=["progress_visibility"])
    body = api.get(f"{API}/contracts/{contract.pk}/progress/summary/").json()
    assert body["per_learner"] is False
    counts = {s["key"]: s["count"] for s in body["stages"]}
    assert counts == {
        "invited": 0,
        "joined": 0,
        "enrolled": 5,
        "started": None,  # 4: fewer than 5, hidden
        "passed": None,
        "certified": None,
    }
    assert body["stages"][3]["text"] == "Started: fewer than 5"
    assert body["needs_attention"] is None
    error = _error(api.get(f"{API}/contracts/{contract.pk}/progress/"), 403, "progress_hidden")
    assert error["message"] == (
        f"Contract {contract.pk} shows its managers aggregates only: read its progress/summary/."
    )


# Who may read


def test_another_organizations_contract_is_404_like_one_that_does_not_exist(api, world, rows):
    progress_row(world["cb"], _run(world["cb"]), edx_username="secret")
    for contract_id in (world["cb"].pk, 999_999):
        for tail in ("progress/", "progress/summary/", "progress/?show=passed"):
            response = api.get(f"{API}/contracts/{contract_id}/{tail}")
            body = _error(response, 404, "not_found")
            assert "secret" not in response.content.decode()
            assert body["message"] == (
                f"No contract {contract_id} among the organizations you manage"
            )


def test_anonymous_is_401_and_a_user_without_the_role_is_403(world, rows):
    client = APIClient()
    url = f"{API}/contracts/{world['ca'].pk}/progress/"
    assert client.get(url).status_code == 401
    client.force_authenticate(f.UserFactory(is_staff=True, is_superuser=True))
    _error(client.get(url), 403, "permission_denied")


def test_a_managers_session_reads_as_the_token_does(client, world, rows):
    client.force_login(world["manager"])
    response = client.get(f"{API}/contracts/{world['ca'].pk}/progress/?show=certified")
    assert _names(response) == ["ada"]


def test_writes_are_not_allowed(api, world, rows):
    for url in ("progress/", "progress/summary/"):
        response = api.post(f"{API}/contracts/{world['ca'].pk}/{url}", {})
        _error(response, 405, "method_not_allowed")


# Staff


@pytest.fixture
def staff_api(world):
    client = APIClient()
    client.force_authenticate(f.UserFactory(is_staff=True))
    return client


def test_staff_read_every_row_and_the_unmapped_count_whatever_the_visibility(
    staff_api, world, rows
):
    contract = world["ca"]
    contract.progress_visibility = ProgressVisibility.AGGREGATES
    contract.save(update_fields=["progress_visibility"])
    progress_row(contract, _run(contract), edx_username="zed")  # matches no account
    url = f"/api/v1/b2b/contracts/{contract.pk}/progress/"
    assert _names(staff_api.get(url, {"sort": "run"})) == ["ada", "bob", "cyd", "dee", "eve", "zed"]
    assert _names(staff_api.get(url, {"show": "needs-attention", "sort": "-name"})) == [
        "dee",
        "cyd",
    ]
    summary = staff_api.get(f"{url}summary/").json()
    assert summary["unmapped"] == 1
    assert summary["per_learner"] is True
    assert {s["key"]: s["count"] for s in summary["stages"]}["started"] == 4
    _error(staff_api.get("/api/v1/b2b/contracts/999999/progress/"), 404, "contract_not_found")


def test_a_manager_does_not_reach_the_staff_endpoints(api, world, rows):
    for tail in ("progress/", "progress/summary/"):
        response = api.get(f"/api/v1/b2b/contracts/{world['ca'].pk}/{tail}")
        _error(response, 403, "permission_denied")
