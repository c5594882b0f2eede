"""Every list pages with a cursor, in one shape: the courseware (courses and programs merged by
readable id) and the runs too."""

import base64
import json

import pytest

from tests.support import factories as f

pytestmark = pytest.mark.django_db


def _walk(client, url, link="next"):
    """Every page's rows, following ``link`` from ``url``; and the last page's body."""
    pages = []
    while url:
        body = client.get(url).json()
        assert set(body) == {"next", "previous", "results"}, body
        pages.append(body["results"])
        url = body[link]
    return pages, body


def test_courseware_pages_merge_courses_and_programs_by_readable_id(staff_api):
    contract = f.ContractPageFactory()
    courses = [f.CourseFactory(readable_id=f"course-v1:UAI_SOURCE+C{i}") for i in range(3)]
    programs = [f.ProgramFactory(readable_id=f"program-v1:UAI_SOURCE+P{i}") for i in range(2)]
    contract.courses.add(*courses)
    contract.programs.add(*programs)
    f.CourseRunFactory(course=courses[1], b2b_contract=contract, run_tag="2026_C1")
    url = f"/api/v1/b2b/contracts/{contract.pk}/courseware/?page_size=2"

    pages, last = _walk(staff_api, url)
    assert [[row["readable_id"] for row in page] for page in pages] == [
        ["course-v1:UAI_SOURCE+C0", "course-v1:UAI_SOURCE+C1"],
        ["course-v1:UAI_SOURCE+C2", "program-v1:UAI_SOURCE+P0"],
        ["program-v1:UAI_SOURCE+P1"],
    ]
    assert [row["has_run"] for page in pages for row in page] == [False, True, False, None, None]
    assert [row["type"] for page in pages for row in page] == ["course"] * 3 + ["program"] * 2

    back, first = _walk(staff_api, last["previous"], link="previous")
    assert [[row["readable_id"] for row in page] for page in back] == [
        ["course-v1:UAI_SOURCE+C2", "program-v1:UAI_SOURCE+P0"],
        ["course-v1:UAI_SOURCE+C0", "course-v1:UAI_SOURCE+C1"],
    ]
    assert first["next"] is not None
    assert staff_api.get(f"{url}&cursor=not-a-cursor").json()["error"]["code"] == "not_found"


def test_runs_page_in_id_order(staff_api):
    contract = f.ContractPageFactory()
    runs = [f.CourseRunFactory(b2b_contract=contract, run_tag="2026_C1") for _ in range(5)]
    f.CourseRunFactory()  # another contract's: not listed
    url = f"/api/v1/b2b/contracts/{contract.pk}/runs/?page_size=2"
    pages, _ = _walk(staff_api, url)
    assert [[row["courseware_id"] for row in page] for page in pages] == [
        [run.courseware_id for run in runs[0:2]],
        [run.courseware_id for run in runs[2:4]],
        [runs[4].courseware_id],
    ]


def _forged(query: str) -> str:
    """A cursor as a client could forge it: base64 of any text."""
    return base64.urlsafe_b64encode(query.encode()).decode()


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        ("courseware", _forged(json.dumps(["a", "course-v1:\x00"]))),
        ("courseware", _forged(json.dumps(["b", "x\x00"]))),
        ("runs", _forged("o=0&r=0&p=1%00")),
        ("runs", _forged("o=0&r=0&p=not-a-number")),
        ("runs", _forged("o=0&r=0&p=\x00")),
    ],
)
def test_a_forged_cursor_is_an_invalid_cursor_not_an_error(staff_api, path, cursor):
    contract = f.ContractPageFactory()
    f.CourseRunFactory(b2b_contract=contract, run_tag="2026_C1")
    response = staff_api.get(f"/api/v1/b2b/contracts/{contract.pk}/{path}/?cursor={cursor}")
    assert response.status_code == 404, response.content[:300]
    assert response.json()["error"]["code"] == "not_found"
