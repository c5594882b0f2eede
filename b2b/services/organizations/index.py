"""The one Organizations index: b2b's page, directly under the site's home page (cms)."""

from dataclasses import dataclass

from django.db import transaction

from b2b.models import OrganizationIndexPage
from cms.services.site_tree import ensure_home_page

ORGANIZATIONS_TITLE = "Organizations"
ORGANIZATIONS_SLUG = "organizations"


@dataclass(frozen=True)
class OrganizationsIndexResult:
    index: OrganizationIndexPage
    created: bool


@transaction.atomic
def ensure_organizations_index() -> OrganizationsIndexResult:
    """Make sure the index exists under the home page (made first if need be), moving it there
    if it stands elsewhere; safe to run any number of times."""
    home = ensure_home_page().home
    existing = OrganizationIndexPage.objects.first()
    if existing is not None:
        if existing.get_parent().id != home.id:
            existing.move(home, pos="last-child")
            existing.refresh_from_db()
        return OrganizationsIndexResult(index=existing, created=False)
    index = home.add_child(
        instance=OrganizationIndexPage(title=ORGANIZATIONS_TITLE, slug=ORGANIZATIONS_SLUG)
    )
    return OrganizationsIndexResult(index=index, created=True)
