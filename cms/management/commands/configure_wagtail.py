"""manage.py configure_wagtail: set up the home page and the Organizations index (idempotent)."""

from django.core.management.base import BaseCommand

from cms.services.site_tree import ensure_site_tree


class Command(BaseCommand):
    help = "Make a home page the site root and create the Organizations index under it."

    def handle(self, *args, **options):
        result = ensure_site_tree()
        for label, page, created in (
            ("Home page", result.home, result.created_home),
            ("Organizations index", result.organizations, result.created_organizations),
        ):
            verb = "Created" if created else "Found"
            self.stdout.write(
                f"{verb} {label.lower()}: {page.title} (id {page.id}, {page.url_path})"
            )
