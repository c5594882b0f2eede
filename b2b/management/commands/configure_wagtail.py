"""manage.py configure_wagtail: set up the home page and the Organizations index (idempotent).

It lives in b2b because b2b's index hangs under cms's home page: b2b knows cms, not the reverse.
"""

from django.core.management.base import BaseCommand

from b2b.services.organizations.index import ensure_organizations_index
from cms.services.site_tree import ensure_home_page
from config.commands import OneLineErrorsMixin


class Command(OneLineErrorsMixin, BaseCommand):
    help = "Make a home page the site root and create the Organizations index under it."

    def handle(self, *args, **options):
        home = ensure_home_page()
        organizations = ensure_organizations_index()
        for label, page, created in (
            ("Home page", home.home, home.created),
            ("Organizations index", organizations.index, organizations.created),
        ):
            verb = "Created" if created else "Found"
            self.stdout.write(
                f"{verb} {label.lower()}: {page.title} (id {page.id}, {page.url_path})"
            )
