"""Staff endpoints: organizations, contracts, courseware, codes, learners, runs; errors."""

import csv
import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from b2b.models import ContractMembership, ContractPage, OrganizationPage
from tests.b2b.helpers import redeem
from tests.ecommerce import helpers as h
from tests.support import factories as f

pytestmark = pytest.mark.django_db


def test_organizations_create_list_read_update(staff_api):
    response = staff_api.post(
        "/api/v1/b2b/organizations/", {"name": "UniversityX", "description": "A"}, format="json"
    )
    assert response.status_code == 201, response.json()
    org = response.json()
    assert org["name"] == "UniversityX" and org["org_key"] == "UNIVERSITYX"
    assert org["contracts"] == 0
    listing = staff_api.get("/api/v1/b2b/organizations/").json()
    assert [o["id"] for o in listing["results"]] == [org["id"]]
    assert listing["next"] is None
    response = staff_api.patch(
        f"/api/v1/b2b/organizations/{org['id']}/",
        {"org_key": "unix", "sso_organization_id": "kc-1"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["org_key"] == "UNIX"
    assert OrganizationPage.objects.get(pk=org["id"]).sso_organization_id == "kc-1"


def test_organization_errors_have_the_one_shape(staff_api):
    first = staff_api.post("/api/v1/b2b/organizations/", {"name": "Acme"}, format="json").json()
    # The same name up to case and spacing is the same organization (b2b.naming).
    response = staff_api.post("/api/v1/b2b/organizations/", {"name": " acme "}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "organization_exists",
            "message": f"An organization named 'Acme' already exists (id {first['id']})",
            "fields": {},
        }
    }
    response = staff_api.post("/api/v1/b2b/organizations/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["fields"] == {"name": ["This field is required."]}
    response = staff_api.get("/api/v1/b2b/organizations/999999/")
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "organization_not_found",
        "message": "No organization has id 999999",
        "fields": {},
    }


def _contract(staff_api, **terms):
    org = staff_api.post("/api/v1/b2b/organizations/", {"name": "UniX"}, format="json").json()
    body = {"organization_id": org["id"], "name": "UniX 2026", "integration_type": "non-sso"}
    response = staff_api.post("/api/v1/b2b/contracts/", {**body, **terms}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_contract_create_read_patch_with_null_and_dry_run(staff_api):
    contract = _contract(staff_api, max_learners=5, price="10.00", end="2030-01-31")
    assert contract["max_learners"] == 5 and contract["price"] == "10.00"
    assert contract["codes"] == {"total": 0, "usable": 0, "redeemed": 0, "deactivated": 0}
    # The codes are made after commit: within this test's transaction they are pending.
    assert contract["code_status"]["up_to_date"] is False
    assert contract["code_status"]["pending_since"] is not None
    url = f"/api/v1/b2b/contracts/{contract['id']}/"

    response = staff_api.patch(f"{url}?dry_run=true", {"max_learners": None}, format="json")
    assert response.status_code == 200
    assert response.json()["dry_run"] is True
    assert response.json()["changes"] == {"max_learners": ["5", None]}
    assert ContractPage.objects.get(pk=contract["id"]).max_learners == 5  # nothing written

    response = staff_api.patch(
        url, {"max_learners": None, "price": None, "end": None, "active": False}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["max_learners"], body["price"], body["end"], body["active"]) == (
        None,
        None,
        None,
        False,
    )

    response = staff_api.patch(url, {"start": "2031-01-01", "end": "2030-01-01"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_contract_terms"
    assert response.json()["error"]["message"] == "The end date must not be before the start date."


def test_contract_create_dry_run_writes_nothing(staff_api):
    org = staff_api.post("/api/v1/b2b/organizations/", {"name": "UniX"}, format="json").json()
    body = {"organization_id": org["id"], "name": "C", "integration_type": "sso"}
    response = staff_api.post("/api/v1/b2b/contracts/?dry_run=true", body, format="json")
    assert response.status_code == 200
    assert response.json()["dry_run"] is True
    assert ContractPage.objects.count() == 0


def test_contract_list_filters(staff_api):
    first = _contract(staff_api)
    other = f.ContractPageFactory(active=False, integration_type="sso")
    ids = lambda q: [c["id"] for c in staff_api.get(f"/api/v1/b2b/contracts/{q}").json()["results"]]  # noqa: E731
    assert ids("") == [first["id"], other.pk]
    assert ids("?active=false") == [other.pk]
    assert ids("?integration_type=non-sso") == [first["id"]]
    assert ids(f"?organization={first['organization_id']}") == [first["id"]]
    response = staff_api.get("/api/v1/b2b/contracts/?active=maybe")
    assert response.status_code == 400


def test_courseware_codes_learners_and_runs(
    staff_api, no_openedx, django_capture_on_commit_callbacks
):
    call_command("load_demo_catalog", stdout=io.StringIO())
    contract = _contract(staff_api, max_learners=3)
    base = f"/api/v1/b2b/contracts/{contract['id']}"
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post(
            f"{base}/courseware/",
            {"courseware_id": "program-v1:UAI_SOURCE+AI_FOUNDATIONS", "create_runs": True},
            format="json",
        )
    assert response.status_code == 201, response.json()
    assert len(response.json()["created_runs"]) == 6
    listing = staff_api.get(f"{base}/courseware/").json()
    assert [(item["type"], item["readable_id"]) for item in listing["results"]] == [
        ("program", "program-v1:UAI_SOURCE+AI_FOUNDATIONS")
    ]
    runs = staff_api.get(f"{base}/runs/").json()["results"]
    assert len(runs) == 6
    assert {run["usable_codes"] for run in runs} == {3}

    codes = staff_api.get(f"{base}/codes/?page_size=10").json()
    assert len(codes["results"]) == 10 and codes["next"]
    assert staff_api.get(f"{base}/").json()["codes"]["usable"] == 18
    product = codes["results"][0]["product_id"]
    only = staff_api.get(f"{base}/codes/?product={product}&redeemed=false").json()["results"]
    assert len(only) == 3 and {c["product_id"] for c in only} == {product}
    csv_response = staff_api.get(f"{base}/codes.csv")
    assert csv_response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(csv_response.streaming_content).decode())))
    assert rows[0] == ["Code", "Product", "Redeemed", "Product URL"] and len(rows) == 19

    people = [f.UserFactory() for _ in range(4)]
    for person in people[:3]:
        response = staff_api.post(f"{base}/learners/", {"email": person.email}, format="json")
        assert response.status_code == 201
        assert response.json()["created_by"] == "admin@example.com"
        assert response.json()["source"] == "staff"
    again = staff_api.post(f"{base}/learners/", {"email": people[0].email}, format="json")
    assert again.status_code == 200
    full = staff_api.post(f"{base}/learners/", {"email": people[3].email}, format="json")
    assert full.status_code == 409
    assert full.json()["error"] == {
        "code": "membership_refused",
        "message": "Contract 'UniX 2026' is full (3 learners)",
        "fields": {},
    }
    learners = staff_api.get(f"{base}/learners/").json()["results"]
    assert [m["user"]["email"] for m in learners] == [p.email for p in people[:3]]
    assert staff_api.delete(f"{base}/learners/{people[0].pk}/").status_code == 204
    assert staff_api.delete(f"{base}/learners/{people[0].pk}/").status_code == 404
    assert ContractMembership.objects.filter(contract_id=contract["id"]).count() == 2

    requeue = staff_api.post(f"{base}/runs/requeue/", {}, format="json")
    assert requeue.status_code == 409
    assert requeue.json()["error"]["code"] == "open_edx_not_configured"

    removed = staff_api.delete(f"{base}/courseware/program-v1:UAI_SOURCE+AI_FOUNDATIONS/")
    assert removed.status_code == 200
    assert len(removed.json()["detached_runs"]) == 6
    missing = staff_api.post(f"{base}/courseware/", {"courseware_id": "nope"}, format="json")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "courseware_not_found"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/b2b/organizations/"),
        ("post", "/api/v1/b2b/organizations/"),
        ("get", "/api/v1/b2b/contracts/"),
        ("get", "/api/v1/b2b/contracts/1/"),
        ("get", "/api/v1/b2b/contracts/1/codes/"),
        ("get", "/api/v1/b2b/contracts/1/codes.csv"),
        ("get", "/api/v1/b2b/contracts/1/learners/"),
        ("get", "/api/v1/b2b/contracts/1/runs/"),
        ("get", "/api/v1/schema/"),
        ("get", "/api/v1/docs/"),
    ],
)
def test_learners_and_visitors_get_no_staff_endpoint(learner_api, method, path):
    response = getattr(learner_api, method)(path)
    assert response.status_code == 403
    anonymous = getattr(APIClient(), method)(path)
    assert anonymous.status_code == 401
    if "/b2b/" in path:
        assert response.json()["error"]["code"] == "permission_denied"
        assert anonymous.json()["error"]["code"] == "not_authenticated"


def test_session_writes_need_csrf(staff, site_tree):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(staff)
    response = client.post("/api/v1/b2b/organizations/", {"name": "X"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["message"].startswith("CSRF Failed")
    assert not OrganizationPage.objects.filter(title="X").exists()


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/b2b/contracts/abc/"),
        ("delete", "/api/v1/b2b/organizations/-1/"),
        ("post", "/api/v1/no-such-thing/"),
        ("get", "/api/v1/b2b/contracts/1"),
    ],
)
def test_an_address_that_names_no_endpoint_is_a_404_in_the_error_shape(staff_api, method, url):
    """Found by the fuzzing: a non-numeric id answered Django's HTML 404 page."""
    response = getattr(staff_api, method)(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": {"code": "not_found", "message": f"No endpoint at {url}", "fields": {}}
    }


def test_codes_list_counts_redemptions_as_numbers(staff_api):
    """Found by the fuzzing: an unredeemed code had "times_redeemed": null (the schema says an
    integer)."""
    contract, (product,) = h.b2b_product(max_learners=2)
    used, unused = h.code_for(product), h.code_for(product, pk__gt=h.code_for(product).pk)
    redeem(used, f.UserFactory(email="bo@example.com"))
    rows = staff_api.get(f"/api/v1/b2b/contracts/{contract.pk}/codes/").json()["results"]
    assert {r["code"]: (r["times_redeemed"], r["redeemed_by"]) for r in rows} == {
        used.discount_code: (1, "bo@example.com"),
        unused.discount_code: (0, None),
    }


def test_writes_record_the_staff_user_in_wagtail(staff_api, staff):
    """Who made a change through the API shows in Wagtail: the page's owner on creation, the
    revision's user on every change."""
    org = staff_api.post(
        "/api/v1/b2b/organizations/", {"name": "Acme", "description": "Ours"}, format="json"
    ).json()
    organization = OrganizationPage.objects.get(pk=org["id"])
    assert organization.owner == staff
    assert organization.latest_revision.user == staff
    contract = _contract(staff_api, max_learners=3)
    page = ContractPage.objects.get(pk=contract["id"])
    assert page.owner == staff
    response = staff_api.patch(
        f"/api/v1/b2b/contracts/{page.pk}/", {"max_learners": 4}, format="json"
    )
    assert response.status_code == 200, response.json()
    page.refresh_from_db()
    assert (page.max_learners, page.latest_revision.user) == (4, staff)
