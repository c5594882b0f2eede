"""Import a course run from Open edX (``manage.py import_courserun``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from courses import openedx
from courses.exceptions import CourseRunConflict, InvalidCoursewareId
from courses.models import COURSE_RUN_ID_REGEX, Course, CourseRun
from ecommerce.models import Product


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
    product: Product | None = None
    # "created", "updated" (price changed), "unchanged", or "" when no price was given.
    product_action: str = ""


def parse_courseware_id(courseware_id: str) -> CoursewareKey:
    """Split ``course-v1:ORG+NUMBER+RUN``; raises InvalidCoursewareId."""
    if not re.match(COURSE_RUN_ID_REGEX, courseware_id):
        raise InvalidCoursewareId(
            f"{courseware_id!r} is not a course run key of the form course-v1:ORG+NUMBER+RUN"
        )
    org, number, run_tag = courseware_id.removeprefix("course-v1:").split("+")
    return CoursewareKey(org=org, number=number, run_tag=run_tag)


def _set_fields(obj, values: dict) -> bool:
    changed = False
    for field, value in values.items():
        if getattr(obj, field) != value:
            setattr(obj, field, value)
            changed = True
    return changed


def _upsert_product(run: CourseRun, price: Decimal) -> tuple[Product, str]:
    """The run's active product at ``price``: created, re-priced, or left as it is."""
    content_type = ContentType.objects.get_for_model(CourseRun)
    product = (
        Product.objects.select_for_update()
        .filter(content_type=content_type, object_id=run.pk, is_active=True)
        .first()
    )
    if product is None:
        product = Product.objects.create(
            content_type=content_type,
            object_id=run.pk,
            price=price,
            description=f"{run.title} ({run.courseware_id})",
            is_active=True,
        )
        return product, "created"
    if product.price == price:
        return product, "unchanged"
    product.price = price
    product.save(update_fields=["price", "updated_on"])
    return product, "updated"


def import_course_run(
    *, courseware_id: str, live: bool = False, price: Decimal | None = None
) -> ImportResult:
    """Create or update the course and run described by Open edX's course detail API.

    The course is ``course-v1:ORG+NUMBER``; the run gets Open edX's name, dates and pacing.
    ``live`` makes both live (without it, new ones are not live and existing ones keep their
    flag). With ``price``, the run gets an active product at that price (re-priced if it has
    one). Raises InvalidCoursewareId, OpenEdxNotFound (unknown run), OpenEdxNotConfigured,
    other Open edX errors, and CourseRunConflict.
    """
    key = parse_courseware_id(courseware_id)
    if price is not None and price < 0:
        raise CourseRunConflict(f"The price must not be negative, not {price}")
    detail = openedx.get_course_detail(courseware_id)  # before the transaction: network I/O
    title = detail.name or courseware_id
    run_values = {
        "title": title,
        "run_tag": key.run_tag,
        "start_date": detail.start,
        "end_date": detail.end,
        "enrollment_start": detail.enrollment_start,
        "enrollment_end": detail.enrollment_end,
        "is_self_paced": detail.is_self_paced(),
    }
    if detail.start and detail.end and detail.end < detail.start:
        raise CourseRunConflict(
            f"Open edX gives {courseware_id} an end ({detail.end.isoformat()}) before its start "
            f"({detail.start.isoformat()}); fix the run's schedule in Studio first"
        )

    with transaction.atomic():
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
        if run_created:
            run = CourseRun.objects.create(
                course=course, courseware_id=courseware_id, live=live, **run_values
            )
        else:
            if _set_fields(run, run_values | ({"live": True} if live else {})):
                run.save()

        result = ImportResult(
            course=course, run=run, course_created=course_created, run_created=run_created
        )
        if price is not None:
            result.product, result.product_action = _upsert_product(run, price)
    return result
