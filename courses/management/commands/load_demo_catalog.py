"""manage.py load_demo_catalog: demo courses, runs, programs and a staff login (idempotent)."""

from django.core.management.base import BaseCommand

from courses.services.demo_catalog import load_demo_catalog


class Command(BaseCommand):
    help = "Load a small demo catalog and a staff superuser; existing demo rows are left alone."

    def handle(self, *args, **options):
        result = load_demo_catalog()
        if result.created:
            self.stdout.write(f"Created {len(result.created)} demo records:")
            for item in result.created:
                self.stdout.write(f"  {item}")
        else:
            self.stdout.write("The demo catalog is already loaded; nothing changed.")
        if result.admin_password:
            self.stdout.write(
                f"Staff login: {result.admin_email} / {result.admin_password} "
                "(Django admin at /admin/, Wagtail at /cms/)"
            )
        else:
            self.stdout.write(
                f"Staff login: {result.admin_email} (existing account; password unchanged, "
                "reset it with `manage.py changepassword`)"
            )
