"""Learner endpoints: attach with a code, enroll, my contracts; tokens."""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from b2b.models import ContractMembership
from courses.models import CourseRunEnrollment
from ecommerce.models import DiscountRedemption
from tests.ecommerce import helpers as h
from tests.support import factories as f

pytestmark = pytest.mark.django_db


def test_attach_with_a_one_time_code_records_the_redemption(learner_api, learner):
    contract, (product,) = h.b2b_product(max_learners=5)
    code = h.code_for(product)
    response = learner_api.post(f"/api/v1/b2b/attach/{code.discount_code}/")
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "contract_id": contract.pk,
        "contract": contract.title,
        "joined": True,
    }
    membership = ContractMembership.objects.get(contract=contract)
    assert (membership.user, membership.source) == (learner, "code")
    assert list(DiscountRedemption.objects.values_list("discount", "redeemed_by")) == [
        (code.pk, learner.pk)
    ]
    again = learner_api.post(f"/api/v1/b2b/attach/{code.discount_code}/")
    assert again.status_code == 200 and again.json()["joined"] is False
    other = APIClient()
    other.force_authenticate(f.UserFactory())
    used = other.post(f"/api/v1/b2b/attach/{code.discount_code}/")
    assert used.status_code == 409
    assert used.json()["error"] == {
        "code": "code_already_redeemed",
        "message": "This code has already been used.",
        "fields": {},
    }


def test_attach_refusals(learner_api):
    assert learner_api.post("/api/v1/b2b/attach/nope/").json()["error"]["code"] == "code_not_found"
    assert learner_api.post("/api/v1/b2b/attach/nope/").status_code == 404
    _contract, (product,) = h.b2b_product(enrollment_fixed_price=Decimal("25.00"))
    code = h.code_for(product)
    priced = learner_api.post(f"/api/v1/b2b/attach/{code.discount_code}/")
    assert priced.status_code == 409
    assert priced.json()["error"]["code"] == "contract_priced"
    (url,) = priced.json()["error"]["product_urls"]
    assert url.endswith(f"?product_id={product.pk}")
    free, (free_product,) = h.b2b_product()
    free.active = False
    free.save()
    inactive = learner_api.post(f"/api/v1/b2b/attach/{h.code_for(free_product).discount_code}/")
    assert inactive.status_code == 409
    assert inactive.json()["error"]["code"] == "contract_inactive"
    assert not ContractMembership.objects.exists()


def test_wrong_codes_are_throttled(learner_api, settings):
    settings.CODE_ATTEMPT_LIMIT_PER_LEARNER = 2
    for _ in range(2):
        assert learner_api.post("/api/v1/b2b/attach/wrong/").status_code == 404
    response = learner_api.post("/api/v1/b2b/attach/wrong/")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "too_many_code_attempts"
    assert int(response["Retry-After"]) > 0


def test_enroll_and_my_contracts(learner_api, learner, no_openedx):
    contract, (product,) = h.b2b_product()
    run = product.purchasable_object
    courseware_id = run.courseware_id
    not_member = learner_api.post(f"/api/v1/b2b/enroll/{courseware_id}/")
    assert not_member.status_code == 403
    assert not_member.json()["error"]["code"] == "enrollment_refused"
    f.ContractMembershipFactory(user=learner, contract=contract)
    mine = learner_api.get("/api/v1/me/contracts/").json()["results"]
    assert [(c["id"], c["free"]) for c in mine] == [(contract.pk, True)]
    assert [(r["courseware_id"], r["enrolled"]) for r in mine[0]["runs"]] == [
        (courseware_id, False)
    ]
    response = learner_api.post(f"/api/v1/b2b/enroll/{courseware_id}/")
    assert response.status_code == 201, response.json()
    assert response.json()["mode"] == "verified"
    assert learner_api.post(f"/api/v1/b2b/enroll/{courseware_id}/").status_code == 200
    assert CourseRunEnrollment.objects.filter(user=learner, run=run).count() == 1
    unknown = learner_api.post("/api/v1/b2b/enroll/course-v1:X+Y+Z/")
    assert unknown.status_code == 404


def test_a_learner_sees_only_their_own_contracts(learner_api, learner):
    contract, _ = h.b2b_product()
    f.ContractMembershipFactory(user=f.UserFactory(), contract=contract)
    assert learner_api.get("/api/v1/me/contracts/").json()["results"] == []


def test_enroll_in_a_priced_contract_gives_the_product_url(learner_api, learner):
    contract, (product,) = h.b2b_product(enrollment_fixed_price=Decimal("25.00"))
    f.ContractMembershipFactory(user=learner, contract=contract)
    response = learner_api.post(f"/api/v1/b2b/enroll/{product.purchasable_object.courseware_id}/")
    assert response.status_code == 409
    assert response.json()["error"]["product_urls"][0].endswith(f"product_id={product.pk}")


def test_api_token_command_and_token_auth(site_tree):
    staff = f.UserFactory(is_staff=True, email="ops@example.com")
    out = io.StringIO()
    call_command("api_token", "create", "OPS@example.com", stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    client = APIClient()
    response = client.get("/api/v1/b2b/organizations/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    assert token not in str(list(staff.auth_token_set.values_list("digest", flat=True)))
    out = io.StringIO()
    call_command("api_token", "revoke", "ops@example.com", stdout=out)
    assert out.getvalue() == "Revoked 1 token of ops@example.com\n"
    response = client.get("/api/v1/b2b/organizations/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 401
    learner = f.UserFactory()
    with pytest.raises(CommandError, match="neither an active staff account nor an organization"):
        call_command("api_token", "create", learner.email)
    with pytest.raises(CommandError, match=r"No account has the e-mail address 'x@y\.z'"):
        call_command("api_token", "create", "x@y.z")


@pytest.mark.postgres
def test_attach_locks_the_contract_before_the_code(learner_api):
    """The lock order (docs/architecture.md): contract rows before code rows, as checkout does;
    the other way round deadlocks with a change that holds the contract while its
    reconciliation waits for the code."""
    _contract, (product,) = h.b2b_product(max_learners=5)
    code = h.code_for(product)
    with CaptureQueriesContext(connection) as queries:
        response = learner_api.post(f"/api/v1/b2b/attach/{code.discount_code}/")
    assert response.status_code == 201, response.json()
    locks = [
        q["sql"]
        for q in queries.captured_queries
        if " FOR " in q["sql"]
        and ('"b2b_contractpage"' in q["sql"] or "ecommerce_discount" in q["sql"])
    ]
    first_contract = next(i for i, sql in enumerate(locks) if '"b2b_contractpage"' in sql)
    first_code = next(i for i, sql in enumerate(locks) if '"ecommerce_discount"' in sql)
    assert first_contract < first_code, locks
