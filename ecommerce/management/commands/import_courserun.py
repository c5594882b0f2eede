"""manage.py import_courserun: create or update a course run from Open edX, and price it.

It lives in ecommerce because it may give the run a product: ecommerce builds on courses, and
courses knows nothing of products.
"""

from django.core.management.base import BaseCommand, CommandError

from config.commands import OneLineErrorsMixin, price
from config.money import format_money
from courses.exceptions import CoursesError, OpenEdxNotFound
from ecommerce.exceptions import EcommerceError
from ecommerce.services.products import import_course_run_for_sale


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Read a course run from Open edX (course detail API) and create or update its course "
        "(course-v1:ORG+NUMBER) and run here; optionally give the run a product."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--courserun",
            required=True,
            metavar="COURSE_RUN_KEY",
            help="The Open edX run key, e.g. course-v1:UAI_SOURCE+ML101+SOURCE",
        )
        parser.add_argument("--live", action="store_true", help="Make the course and the run live.")
        parser.add_argument(
            "--price",
            type=price,
            metavar="P",
            help="Give the run an active product at this price, e.g. 49.00 (re-prices an "
            "existing one).",
        )

    def handle(self, *args, courserun, live, price, **options):
        try:
            priced = import_course_run_for_sale(courseware_id=courserun, live=live, price=price)
        except OpenEdxNotFound as exc:
            raise CommandError(f"Open edX has no course run {courserun}") from exc
        except (CoursesError, EcommerceError) as exc:
            raise CommandError(str(exc)) from exc

        result = priced.imported
        run = result.run
        self.stdout.write(
            f"{'Created' if result.course_created else 'Updated'} course "
            f"{result.course.readable_id} ({result.course.title})"
        )
        dates = ", ".join(
            f"{label} {value.isoformat() if value else '-'}"
            for label, value in (
                ("start", run.start_date),
                ("end", run.end_date),
                ("enrollment start", run.enrollment_start),
                ("enrollment end", run.enrollment_end),
            )
        )
        self.stdout.write(
            f"{'Created' if result.run_created else 'Updated'} run {run.courseware_id} "
            f"({run.title}): {'self-paced' if run.is_self_paced else 'instructor-paced'}, "
            f"{'live' if run.live else 'not live'}; {dates}"
        )
        if priced.product is not None:
            product = priced.product.product
            self.stdout.write(
                f"Product #{product.pk} at {format_money(product.price)}: {priced.product.action}"
            )
