"""Import a course run from Open edX (``manage.py import_courserun``).

Two steps, so that a caller can add work to the import's transaction without holding it open
across the network call: ``fetch_course_run`` reads Open edX (no database access), then
``save_course_run`` creates or updates the course and run in one transaction. The run's product,
when the import gives it a price, is ecommerce's business (``ecommerce.services.products``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction

from courses import openedx
from courses.exceptions import CourseRunConflict, InvalidCoursewareId, OpenEdxRequestError
from courses.models import COURSE_RUN_ID_REGEX, Course, CourseRun


@dataclass(frozen=True)
class CoursewareKey:
    org: str
    number: str
    run_tag: str

    @property
    def course_readable_id(self) -> str:
        return f"course-v1:{self.org}+{self.number}"


@dataclass
class ImportResult:
    course: Course
    run: CourseRun
    course_created: bool
    run_created: bool


def parse_courseware_id(courseware_id: str) -> CoursewareKey:
    """Split ``course-v1:ORG+NUMBER+RUN``; raises InvalidCoursewareId."""
    if not re.match(COURSE_RUN_ID_REGEX, courseware_id):
        raise InvalidCoursewareId(
            f"{courseware_id!r} is not a course run key of the form course-v1:ORG+NUMBER+RUN"
        )
    org, number, run_tag = courseware_id.removeprefix("course-v1:").split("+")
    return CoursewareKey(org=org, number=number, run_tag=run_tag)


def _set_fields(obj: models.Model, values: dict[str, Any]) -> bool:
    changed = False
    for field, value in values.items():
        if getattr(obj, field) != value:
            setattr(obj, field, value)
            changed = True
    return changed


@dataclass(frozen=True)
class FetchedRun:
    """What Open edX says about a run, checked and ready to be saved."""

    courseware_id: str
    key: CoursewareKey
    title: str
    run_values: dict[str, Any]


def _title_length(model: type[Course] | type[CourseRun]) -> int:
    return model._meta.get_field("title").max_length  # type: ignore[return-value]


def fetch_course_run(courseware_id: str) -> FetchedRun:
    """Read the run from Open edX's course detail API; nothing is written.

    Raises InvalidCoursewareId, OpenEdxNotFound (unknown run), OpenEdxNotConfigured, other Open
    edX errors (OpenEdxRequestError for a name too long to store), and CourseRunConflict (an
    end before the start).
    """
    key = parse_courseware_id(courseware_id)
    detail = openedx.get_course_detail(courseware_id)
    title = detail.name or courseware_id
    longest = min(_title_length(Course), _title_length(CourseRun))
    if len(title) > longest:
        raise OpenEdxRequestError(
            f"Open edX gives {courseware_id} a name of {len(title)} characters; at most "
            f"{longest} fit: shorten it in Studio"
        )
    if detail.start and detail.end and detail.end < detail.start:
        raise CourseRunConflict(
            f"Open edX gives {courseware_id} an end ({detail.end.isoformat()}) before its start "
            f"({detail.start.isoformat()}); fix the run's schedule in Studio first"
        )
    run_values = {
        "title": title,
        "run_tag": key.run_tag,
        "start_date": detail.start,
        "end_date": detail.end,
        "enrollment_start": detail.enrollment_start,
        "enrollment_end": detail.enrollment_end,
        "is_self_paced": detail.is_self_paced(),
    }
    return FetchedRun(courseware_id=courseware_id, key=key, title=title, run_values=run_values)


@transaction.atomic(savepoint=False)
def save_course_run(*, fetched: FetchedRun, live: bool = False) -> ImportResult:
    """Create or update the course ``course-v1:ORG+NUMBER`` and the run with Open edX's name,
    dates and pacing. ``live`` makes both live (without it, new ones are not live and existing
    ones keep their flag). Raises CourseRunConflict when the run exists under another course.

    Atomic, or part of the caller's transaction (no savepoint: an error undoes all of it).
    """
    courseware_id, key, title = fetched.courseware_id, fetched.key, fetched.title
    run = (
        CourseRun.objects.select_for_update(of=("self",))
        .select_related("course")
        .filter(courseware_id=courseware_id)
        .first()
    )
    if run is not None and run.course.readable_id != key.course_readable_id:
        raise CourseRunConflict(
            f"Run {courseware_id} already exists under course {run.course.readable_id}, "
            f"not {key.course_readable_id}"
        )
    course, course_created = Course.objects.select_for_update().get_or_create(
        readable_id=key.course_readable_id, defaults={"title": title, "live": live}
    )
    if not course_created:
        course_values = {"title": title} | ({"live": True} if live else {})
        if _set_fields(course, course_values):
            course.save()

    run_created = run is None
    if run is None:
        run = CourseRun.objects.create(
            course=course, courseware_id=courseware_id, live=live, **fetched.run_values
        )
    elif _set_fields(run, fetched.run_values | ({"live": True} if live else {})):
        run.save()
    return ImportResult(
        course=course, run=run, course_created=course_created, run_created=run_created
    )
