"""manage.py import_courserun: a run read from Open edX's course detail API."""

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command

from courses.models import Course, CourseRun
from ecommerce.exceptions import ProductPriceInvalid
from ecommerce.models import Product
from ecommerce.services.products import import_course_run_for_sale
from tests.support.factories import CourseFactory, CourseRunFactory, ProductFactory
from tests.support.openedx_server import COURSE_DETAIL, TOKEN, Failure

pytestmark = pytest.mark.django_db

KEY = "course-v1:UAI_SOURCE+ML101+SOURCE"


def run_command(*args) -> str:
    out = io.StringIO()
    call_command("import_courserun", *args, stdout=out)
    return out.getvalue()


def products_of(run: CourseRun) -> list[tuple[Decimal, bool]]:
    return list(
        Product.objects.filter(
            content_type=ContentType.objects.get_for_model(CourseRun), object_id=run.pk
        )
        .order_by("id")
        .values_list("price", "is_active")
    )


@pytest.fixture
def lms(openedx_server):
    openedx_server.add_lms_course(
        KEY,
        name="Machine learning",
        start="2026-01-05T00:00:00Z",
        end="2026-06-30T00:00:00Z",
        enrollment_start="2025-12-01T00:00:00Z",
        enrollment_end=None,
        pacing="self",
    )
    return openedx_server


def test_import_creates_course_run_and_product(lms):
    output = run_command("--courserun", KEY, "--live", "--price", "49")

    course = Course.objects.get()
    run = CourseRun.objects.get()
    assert (course.readable_id, course.title, course.live) == (
        "course-v1:UAI_SOURCE+ML101",
        "Machine learning",
        True,
    )
    assert (
        run.course_id,
        run.courseware_id,
        run.run_tag,
        run.title,
        run.start_date,
        run.end_date,
        run.enrollment_start,
        run.enrollment_end,
        run.is_self_paced,
        run.live,
    ) == (
        course.pk,
        KEY,
        "SOURCE",
        "Machine learning",
        datetime(2026, 1, 5, tzinfo=UTC),
        datetime(2026, 6, 30, tzinfo=UTC),
        datetime(2025, 12, 1, tzinfo=UTC),
        None,
        True,
        True,
    )
    product = Product.objects.get()
    assert (product.purchasable_object, product.price, product.is_active, product.description) == (
        run,
        Decimal("49.00"),
        True,
        f"Machine learning ({KEY})",
    )
    assert output == (
        "Created course course-v1:UAI_SOURCE+ML101 (Machine learning)\n"
        f"Created run {KEY} (Machine learning): self-paced, live; start "
        "2026-01-05T00:00:00+00:00, end 2026-06-30T00:00:00+00:00, enrollment start "
        "2025-12-01T00:00:00+00:00, enrollment end -\n"
        f"Product #{product.pk} at $49.00: created\n"
    )
    detail = lms.requests_to(COURSE_DETAIL)[0]
    assert (detail.method, detail.path, detail.authorization) == (
        "GET",
        f"/api/courses/v1/courses/{KEY}",
        f"JWT {lms.issued_tokens[0]}",
    )
    assert [r.endpoint for r in lms.requests] == [TOKEN, COURSE_DETAIL]


def test_import_again_updates_and_reprices(lms):
    run_command("--courserun", KEY, "--price", "49")
    lms.add_lms_course(
        KEY, name="Machine learning II", start="2026-02-01T00:00:00Z", pacing="instructor"
    )

    output = run_command("--courserun", KEY, "--price", "59.5")

    run = CourseRun.objects.get()
    assert (run.title, run.start_date, run.end_date, run.is_self_paced, run.live) == (
        "Machine learning II",
        datetime(2026, 2, 1, tzinfo=UTC),
        None,
        False,
        False,
    )
    assert Course.objects.get().title == "Machine learning II"
    assert products_of(run) == [(Decimal("59.50"), True)]
    assert (
        output.splitlines()[0] == "Updated course course-v1:UAI_SOURCE+ML101 (Machine learning II)"
    )
    assert output.splitlines()[1].startswith(f"Updated run {KEY} (Machine learning II): ")
    assert output.splitlines()[2].endswith("at $59.50: updated")
    assert run_command("--courserun", KEY, "--price", "59.50").endswith(": unchanged\n")


def test_import_without_live_keeps_existing_flags(lms):
    course = CourseFactory(readable_id="course-v1:UAI_SOURCE+ML101", live=True)
    run = CourseRunFactory(course=course, courseware_id=KEY, live=True)
    ProductFactory(purchasable_object=run, price=Decimal("10.00"))

    output = run_command("--courserun", KEY)

    run.refresh_from_db()
    course.refresh_from_db()
    assert (course.live, run.live, run.title) == (True, True, "Machine learning")
    assert products_of(run) == [(Decimal("10.00"), True)]
    assert "Product" not in output


def test_unknown_run(openedx_server):
    with pytest.raises(CommandError) as caught:
        run_command("--courserun", "course-v1:UAI_SOURCE+NOPE+SOURCE")

    assert str(caught.value) == "Open edX has no course run course-v1:UAI_SOURCE+NOPE+SOURCE"
    assert Course.objects.count() == 0


def test_run_already_imported_under_another_course(lms):
    other = CourseFactory(readable_id="course-v1:UAI_SOURCE+ML100")
    CourseRunFactory(course=other, courseware_id=KEY)

    with pytest.raises(CommandError) as caught:
        run_command("--courserun", KEY, "--price", "5")

    assert str(caught.value) == (
        f"Run {KEY} already exists under course course-v1:UAI_SOURCE+ML100, "
        "not course-v1:UAI_SOURCE+ML101"
    )
    assert list(Course.objects.values_list("readable_id", flat=True)) == [
        "course-v1:UAI_SOURCE+ML100"
    ]
    assert Product.objects.count() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--courserun", "course-v1:UAI_SOURCE+ML101"],
            "'course-v1:UAI_SOURCE+ML101' is not a course run key of the form "
            "course-v1:ORG+NUMBER+RUN",
        ),
        (
            ["--courserun", "UAI_SOURCE/ML101/SOURCE"],
            "'UAI_SOURCE/ML101/SOURCE' is not a course run key of the form "
            "course-v1:ORG+NUMBER+RUN",
        ),
        # The price is parsed by the type every command shares (config.commands.price).
        (["--courserun", KEY, "--price", "ten"], "Error: argument --price: not an amount: 'ten'"),
        (
            ["--courserun", KEY, "--price", "-1"],
            "Error: argument --price: must be zero or more: '-1'",
        ),
        (
            ["--courserun", KEY, "--price", "NaN"],
            "Error: argument --price: must be zero or more: 'NaN'",
        ),
        (
            ["--courserun", KEY, "--price", "1.999"],
            "Error: argument --price: at most two decimal places: '1.999'",
        ),
    ],
)
def test_bad_arguments(lms, args, message):
    with pytest.raises(CommandError) as caught:
        run_command(*args)

    assert str(caught.value) == message
    assert lms.requests == []


def test_open_edx_not_configured(settings):
    settings.OPENEDX_API_BASE_URL = "https://lms.example.edu/"
    settings.OPENEDX_STUDIO_API_BASE_URL = "https://studio.example.edu/"
    settings.OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID = None
    settings.OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET = None

    with pytest.raises(CommandError) as caught:
        run_command("--courserun", KEY)

    assert str(caught.value) == (
        "Open edX is not configured: set OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID, "
        "OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET"
    )


def test_open_edx_outage(lms):
    lms.fail(COURSE_DETAIL, Failure(503, "<html>Service Unavailable</html>"))

    with pytest.raises(CommandError) as caught:
        run_command("--courserun", KEY)

    assert str(caught.value) == (
        f"Reading {KEY} from the LMS: Open edX answered 503: <html>Service Unavailable</html>"
    )


def test_negative_price_is_refused_before_open_edx_is_asked(lms):
    with pytest.raises(ProductPriceInvalid) as caught:
        import_course_run_for_sale(courseware_id=KEY, price=Decimal("-0.01"))

    assert str(caught.value) == "The price must not be negative, not -0.01"
    assert lms.requests == []
    assert (Course.objects.count(), CourseRun.objects.count(), Product.objects.count()) == (0, 0, 0)
