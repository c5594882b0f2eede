"""The organization's progress feed (/api/v1/manager/organizations/{id}/progress/): the rows
changed after updated_since and not after the read's as_of, oldest first, paged; what a client
that stores as_of gets next time; the timestamps it refuses; whose rows it never returns."""

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from b2b.api import manager_progress_views
from b2b.enums import ProgressVisibility
from b2b.models import LearnerProgress
from b2b.services.invitations.managers import grant_manager
from courses.models import CourseRun
from tests.api.helpers import API
from tests.b2b.helpers import capped_contract
from tests.ecommerce import helpers as h
from tests.support import factories as f
from tests.support.progress import progress_row

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _visible(contract, visibility=ProgressVisibility.PER_LEARNER):
    contract.progress_visibility = visibility
    contract.save(update_fields=["progress_visibility"])
    return contract


@pytest.fixture
def world(site_tree):
    a = f.OrganizationPageFactory(title="Acme University")
    b = f.OrganizationPageFactory(title="Borealis Corp")
    ca = _visible(capped_contract(a, cap=10, title="Acme Leadership"))
    ca2 = _visible(capped_contract(a, cap=10, title="Acme Sales"))
    hidden = _visible(capped_contract(a, cap=10, title="Acme Board"), ProgressVisibility.AGGREGATES)
    cb = _visible(capped_contract(b, cap=10, title="Borealis Sales"))
    manager = h.learner("lead@acme.example")
    grant_manager(user=manager, organization=a)
    client = APIClient()
    client.force_authenticate(manager)
    return {"a": a, "b": b, "ca": ca, "ca2": ca2, "hidden": hidden, "cb": cb, "api": client}


def _row(contract, name, changed_on, **fields):
    run = CourseRun.objects.get(b2b_contract=contract)
    return progress_row(contract, run, edx_username=name, changed_on=changed_on, **fields)


def _feed(world, since=None, **query):
    url = f"{API}/organizations/{world['a'].pk}/progress/"
    if since is not None:
        query["updated_since"] = since if isinstance(since, str) else _z(since)
    response = world["api"].get(url, query)
    assert response.status_code == 200, response.content
    return response.json()


def _names(body) -> list[str]:
    return [row["learner"]["edx_username"] for row in body["results"]]


def test_every_row_of_the_per_learner_contracts_oldest_change_first(world):
    now = timezone.now()
    _row(world["ca"], "late", now - 1 * HOUR)
    _row(world["ca2"], "early", now - 3 * HOUR)
    _row(world["ca"], "middle", now - 2 * HOUR)
    _row(world["hidden"], "aggregate", now - 2 * HOUR)  # aggregates only: never in the feed
    _row(world["cb"], "borealis", now - 2 * HOUR)  # another organization's
    body = _feed(world)
    assert set(body) == {"as_of", "next", "previous", "results"}
    assert _names(body) == ["early", "middle", "late"]
    assert [row["contract_id"] for row in body["results"]] == [
        world["ca2"].pk,
        world["ca"].pk,
        world["ca"].pk,
    ]
    assert body["next"] is None and body["previous"] is None
    first = body["results"][0]
    assert set(first) == {
        "learner",
        "run",
        "mode",
        "active",
        "enrolled_on",
        "grade_percent",
        "letter_grade",
        "passed",
        "first_passed_on",
        "certificate",
        "needs_attention",
        "changed_on",
        "as_of",
        "contract_id",
    }


def test_as_of_is_taken_before_reading_less_the_settling_time(world):
    before = timezone.now()
    body = _feed(world)
    after = timezone.now()
    as_of = datetime.fromisoformat(body["as_of"])
    settle = manager_progress_views.FEED_SETTLE
    assert before - settle <= as_of <= after - settle


def test_a_row_changed_exactly_at_since_is_not_returned_again(world):
    since = timezone.now() - 2 * HOUR
    _row(world["ca"], "at", since)
    _row(world["ca"], "after", since + timedelta(microseconds=1))
    _row(world["ca"], "before", since - timedelta(microseconds=1))
    assert _names(_feed(world, since)) == ["after"]


def test_a_client_that_passes_as_of_next_time_misses_nothing_and_sees_nothing_twice(world):
    now = timezone.now()
    _row(world["ca"], "old", now - 3 * HOUR)
    first = _feed(world)
    assert _names(first) == ["old"]
    as_of = datetime.fromisoformat(first["as_of"])
    # Changed after the first read's as_of (during the read, or in the settling time): not in
    # the first read, in the next.
    _row(world["ca"], "during", as_of + timedelta(microseconds=1))
    LearnerProgress.objects.filter(edx_username="old").update(
        changed_on=as_of + timedelta(microseconds=2), letter_grade="B"
    )
    second = _feed(world, first["as_of"])
    assert _names(second) == ["during", "old"]
    assert second["results"][1]["letter_grade"] == "B"
    assert _names(_feed(world, second["as_of"])) == []


def test_a_row_changed_after_as_of_is_left_for_the_next_read(world):
    now = timezone.now()
    _row(world["ca"], "settled", now - 2 * HOUR)
    _row(world["ca"], "fresh", now)  # inside the settling time: maybe not committed everywhere
    body = _feed(world)
    assert _names(body) == ["settled"]


def test_pages_share_the_reads_as_of_and_follow_changed_on_then_id(world):
    now = timezone.now()
    same = now - 5 * HOUR
    for name in ("a1", "a2", "a3"):
        _row(world["ca"], name, same)  # three changes at the same instant: by id
    _row(world["ca2"], "b1", now - 4 * HOUR)
    _row(world["ca"], "c1", now - 3 * HOUR)
    first = _feed(world, now - 6 * HOUR, page_size=2)
    names, pages, body = [], 0, first
    while True:
        pages += 1
        names += _names(body)
        assert body["as_of"] == first["as_of"]
        assert body["previous"] is None
        if body["next"] is None:
            break
        # A row that changes while the client reads leaves this read's window (its new change
        # is after as_of): the next read returns it.
        LearnerProgress.objects.filter(edx_username="c1").update(changed_on=timezone.now())
        response = world["api"].get(body["next"])
        assert response.status_code == 200, response.content
        body = response.json()
    assert names == ["a1", "a2", "a3", "b1"]
    assert pages == 2


def test_an_offset_given_with_an_unencoded_plus_is_read_as_the_offset(world):
    now = timezone.now()
    _row(world["ca"], "recent", now - 1 * HOUR)
    _row(world["ca"], "older", now - 3 * HOUR)
    since = (now - 2 * HOUR).astimezone(timezone.get_fixed_timezone(60)).isoformat()
    assert "+01:00" in since
    url = f"{API}/organizations/{world['a'].pk}/progress/?updated_since={since}"  # "+" unencoded
    response = world["api"].get(url)
    assert response.status_code == 200, response.content
    assert _names(response.json()) == ["recent"]
    encoded = world["api"].get(
        f"{API}/organizations/{world['a'].pk}/progress/?updated_since={quote(since)}"
    )
    assert _names(encoded.json()) == ["recent"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "yesterday",
            "updated_since: not an ISO 8601 timestamp (for example 2026-11-27T10:00:00Z).",
        ),
        (
            "2026-13-45T10:00:00Z",
            "updated_since: not an ISO 8601 timestamp (for example 2026-11-27T10:00:00Z).",
        ),
        (
            "2026-11-27T10:00:00",
            "updated_since: give the timestamp's offset from UTC (Z or +01:00; for example "
            "2026-11-27T10:00:00Z).",
        ),
        (
            "0001-01-01T00:00:00+14:00",
            "updated_since: out of range (for example 2026-11-27T10:00:00Z).",
        ),
    ],
)
def test_a_bad_timestamp_is_400_with_one_line(world, value, message):
    response = world["api"].get(
        f"{API}/organizations/{world['a'].pk}/progress/", {"updated_since": value}
    )
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"] == message
    assert "\n" not in error["message"]


def _token(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        _token(["2026-11-27T10:00:00Z", "2026-11-27T10:00:00Z"]),
        _token(["2026-11-27T10:00:00", "2026-11-27T10:00:00Z", 1]),  # no offset
        _token(["2026-11-27T10:00:00Z", "2026-11-27T10:00:00Z", "1"]),
        _token(["2026-11-27T10:00:00Z", "2026-11-27T10:00:00Z", 2**70]),
        _token(["2026-11-27T10:00:00Z\x00", "2026-11-27T10:00:00Z", 1]),
        _token({"as_of": 1}),
    ],
)
def test_a_forged_cursor_is_404_not_an_error(world, cursor):
    response = world["api"].get(
        f"{API}/organizations/{world['a'].pk}/progress/", {"cursor": cursor}
    )
    assert response.status_code == 404, response.content
    assert response.json()["error"]["message"] == "Invalid cursor"


def test_another_organization_is_404_like_one_that_does_not_exist(world):
    _row(world["cb"], "borealis", timezone.now() - 2 * HOUR)
    for organization_id in (world["b"].pk, 999_999):
        response = world["api"].get(f"{API}/organizations/{organization_id}/progress/")
        assert response.status_code == 404, response.content
        assert "borealis" not in response.content.decode()
        assert response.json()["error"]["message"] == (
            f"You do not manage an organization {organization_id}"
        )
    anonymous = APIClient().get(f"{API}/organizations/{world['a'].pk}/progress/")
    assert anonymous.status_code == 401
