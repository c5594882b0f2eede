"""courses.openedx's progress pages against the fake Open edX: the enrollment list by cursor,
the course-wide grades by page number, a learner's certificate, and the faults (429 with its
Retry-After, 5xx, a reset connection)."""

from datetime import UTC, datetime

import pytest

from courses import openedx
from courses.exceptions import OpenEdxRequestError, OpenEdxThrottled, OpenEdxTransientError
from tests.support.openedx_server import (
    CERTIFICATE,
    COURSE_GRADES,
    ENROLLMENT_LIST,
    Failure,
    Learner,
)

RUN = "course-v1:UAI_ACME+ML101+2026_C7"


def test_the_enrollment_list_pages_by_the_cursor_of_its_next_link(openedx_server):
    openedx_server.enrollment_page_size = 2
    openedx_server.load_learners(
        RUN,
        [
            Learner("ada", mode="verified"),
            Learner("bob", is_active=False, created="2026-03-05T08:00:00Z"),
            Learner("cy"),
        ],
    )
    openedx_server.add_enrollment("course-v1:UAI_ACME+OTHER+2026", "zed")

    first = openedx.enrollments_page(RUN)
    assert first.items == [
        openedx.EdxEnrollment("ada", "verified", True, datetime(2026, 3, 2, 10, tzinfo=UTC)),
        openedx.EdxEnrollment("bob", "audit", False, datetime(2026, 3, 5, 8, tzinfo=UTC)),
    ]
    assert first.next_cursor
    second = openedx.enrollments_page(RUN, cursor=first.next_cursor)
    assert [e.username for e in second.items] == ["cy"]
    assert second.next_cursor is None
    paths = [r.path for r in openedx_server.requests_to(ENROLLMENT_LIST)]
    assert paths == [
        f"/api/enrollment/v1/enrollments?course_id={RUN.replace(':', '%3A').replace('+', '%2B')}",
        f"/api/enrollment/v1/enrollments?{first.next_cursor}",
    ]


def test_the_grades_follow_the_next_link_50_a_page_with_0_for_a_learner_without_one(
    openedx_server,
):
    openedx_server.load_learners(
        RUN,
        [Learner(f"l{n:03d}", percent=0.5) for n in range(51)] + [Learner("newcomer")],
    )
    openedx_server.set_grade(RUN, "l000", percent=0.91, passed=True, letter_grade="Pass")

    first = openedx.course_grades_page(RUN)
    assert len(first.items) == 50
    assert first.items[0] == openedx.EdxGrade("l000", "l000@example.com", 0.91, "Pass", passed=True)
    assert first.next_cursor.startswith("page_size=50&cursor=")
    second = openedx.course_grades_page(RUN, cursor=first.next_cursor)
    assert second.items == [
        openedx.EdxGrade("l050", "l050@example.com", 0.5, "", passed=False),
        openedx.EdxGrade("newcomer", "newcomer@example.com", 0.0, "", passed=False),
    ]
    assert second.next_cursor is None
    assert [r.path for r in openedx_server.requests_to(COURSE_GRADES)] == [
        f"/api/grades/v1/courses/{RUN}/?page_size=50",
        f"/api/grades/v1/courses/{RUN}/?{first.next_cursor}",
    ]


def test_a_next_link_to_another_host_is_asked_of_the_configured_lms(openedx_server):
    """Only the next link's query is kept: the token never goes to a host an answer names."""
    openedx_server.load_learners(RUN, [Learner(f"l{n:03d}", percent=0.5) for n in range(3)])
    elsewhere = {
        "next": "http://elsewhere.example/steal/?page_size=2&cursor=bz0y",
        "previous": None,
        "results": [],
    }
    openedx_server.fail(COURSE_GRADES, Failure(200, elsewhere))

    first = openedx.course_grades_page(RUN)
    second = openedx.course_grades_page(RUN, cursor=first.next_cursor)

    assert first.next_cursor == "page_size=2&cursor=bz0y"
    assert [g.username for g in second.items] == ["l002"]
    assert openedx_server.requests_to(COURSE_GRADES)[1].path == (
        f"/api/grades/v1/courses/{RUN}/?page_size=2&cursor=bz0y"
    )


def test_a_certificate_or_none(openedx_server):
    openedx_server.add_enrollment(RUN, "ada")
    openedx_server.set_certificate(RUN, "ada", created="2026-05-01T12:00:00Z")

    assert openedx.certificate_of("ada", RUN) == openedx.EdxCertificate(
        "downloadable",
        f"{openedx_server.lms_url}certificates/ada-UAI_ACME+ML101+2026_C7",
        datetime(2026, 5, 1, 12, tzinfo=UTC),
    )
    assert openedx.certificate_of("bob", RUN) is None
    assert [r.path for r in openedx_server.requests_to(CERTIFICATE)] == [
        f"/api/certificates/v0/certificates/ada/courses/{RUN}/",
        f"/api/certificates/v0/certificates/bob/courses/{RUN}/",
    ]


@pytest.mark.parametrize(("header", "wait"), [("7", 7.0), (None, None), ("soon", None)])
def test_429_is_throttled_with_its_retry_after(openedx_server, header, wait):
    headers = {"Retry-After": header} if header else {}
    openedx_server.fail(COURSE_GRADES, Failure(429, {"detail": "slow down"}, headers=headers))
    with pytest.raises(OpenEdxThrottled) as caught:
        openedx.course_grades_page(RUN)
    assert caught.value.wait_seconds == wait
    assert isinstance(caught.value, OpenEdxTransientError)


def test_a_retry_after_date_is_the_time_until_then():
    now = datetime(2026, 5, 1, 12, tzinfo=UTC).timestamp()
    assert openedx.retry_after_seconds("Fri, 01 May 2026 12:00:30 GMT", now=now) == 30.0
    assert openedx.retry_after_seconds("Fri, 01 May 2026 11:00:00 GMT", now=now) == 0.0


def test_5xx_and_a_reset_connection_are_transient(openedx_server):
    openedx_server.fail(ENROLLMENT_LIST, Failure(502, "Bad Gateway"), Failure(reset=True))
    with pytest.raises(OpenEdxTransientError, match="answered 502"):
        openedx.enrollments_page(RUN)
    with pytest.raises(OpenEdxTransientError, match="cannot reach Open edX"):
        openedx.enrollments_page(RUN)
    assert openedx.enrollments_page(RUN).items == []


def test_an_answer_without_results_is_a_request_error(openedx_server):
    openedx_server.fail(COURSE_GRADES, Failure(200, {"detail": "odd"}))
    with pytest.raises(OpenEdxRequestError, match="a page without its results"):
        openedx.course_grades_page(RUN)
