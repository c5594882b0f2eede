"""manage.py load_demo_catalog: demo courses, runs and programs (idempotent).

With DEBUG on (local development) it also makes the demo staff login, admin@example.com /
admin. With DEBUG off it never does: a real site gets its staff accounts from `createsuperuser`.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from config.commands import OneLineErrorsMixin
from courses.services.demo_catalog import load_demo_catalog


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Load a small demo catalog; existing demo rows are left alone. With DEBUG on, also a "
        "demo staff superuser (never with DEBUG off: use createsuperuser)."
    )

    def handle(self, *args, **options):
        result = load_demo_catalog(create_admin=settings.DEBUG)
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
        elif result.admin_exists:
            self.stdout.write(
                f"Staff login: {result.admin_email} (existing account; password unchanged, "
                "reset it with `manage.py changepassword`)"
            )
        else:
            self.stdout.write(
                "No staff login was created: DEBUG is off. Create your own staff account with "
                "`manage.py createsuperuser`."
            )
        if result.admin_has_demo_password and not settings.DEBUG:
            self.stderr.write(
                f"Warning: {result.admin_email} still has the demo password; change it now "
                f"with `manage.py changepassword {result.admin_email}`."
            )
