"""Sets up the root of the Wagtail tree the product relies on: one home page, the default site's
root. The apps that hang pages under it (b2b's Organizations index) set those up themselves."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Locale, Page, Site

from cms.models import HomePage

HOME_TITLE = "Home"


@dataclass(frozen=True)
class HomePageResult:
    home: HomePage
    created: bool


@transaction.atomic
def ensure_home_page() -> HomePageResult:
    """Make sure a home page exists and is the default site's root; safe to run any number of
    times."""
    home, created = _ensure_home_page()
    return HomePageResult(home=home, created=created)


def _ensure_home_page() -> tuple[HomePage, bool]:
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is not None and isinstance(site.root_page.specific, HomePage):
        return site.root_page.specific, False

    hostname, port = "localhost", 80
    home = HomePage.objects.first()
    created = home is None
    if home is None:
        if site is not None and _is_placeholder(site.root_page):
            # Wagtail's initial "welcome" page: replace it (its Site row goes with it).
            hostname, port = site.hostname, site.port
            site.root_page.delete()
            site = None
        root = Page.get_first_root_node() or _create_tree_root()
        taken = set(root.get_children().values_list("slug", flat=True))
        slug = "home" if "home" not in taken else "home-page"
        home = root.add_child(instance=HomePage(title=HOME_TITLE, slug=slug))
    if site is None:
        Site.objects.create(hostname=hostname, port=port, root_page=home, is_default_site=True)
    else:
        site.root_page = home
        site.save(update_fields=["root_page"])
    return home, created


def _create_tree_root() -> Page:
    """Recreate Wagtail's tree root (and default locale) on a database that lost them, e.g.
    after `manage.py flush`."""
    ContentType.objects.clear_cache()  # a flush recreates content types under new ids
    Locale.objects.get_or_create(
        language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
    )
    return Page.add_root(instance=Page(title="Root", slug="root", draft_title="Root"))


def _is_placeholder(page: Page) -> bool:
    plain_page = ContentType.objects.get_for_model(Page)
    return (
        page.content_type_id == plain_page.id
        and page.depth == 2
        and not page.get_children().exists()
    )
