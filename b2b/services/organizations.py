"""Organizations: look-up by name, key or id, and creation with a derived key and slug."""

import re

from django.db import transaction
from django.utils.text import slugify
from wagtail.models import Page

from b2b.exceptions import OrganizationConflict, OrganizationNotFound
from b2b.models import OrganizationPage
from b2b.services.organizations_index import ensure_organizations_index
from b2b.validators import ORG_KEY_RE


def find_organization(identifier: str) -> OrganizationPage:
    """Find an organization by exact name, then org key, then numeric id."""
    org = (
        OrganizationPage.objects.filter(title=identifier).first()
        or OrganizationPage.objects.filter(org_key=identifier.upper()).first()
    )
    if org is None and identifier.isdigit():
        org = OrganizationPage.objects.filter(pk=int(identifier)).first()
    if org is None:
        raise OrganizationNotFound(f"No organization is named or keyed {identifier!r}")
    return org


def derive_org_key(name: str) -> str:
    """Upper-case letters and digits of ``name``, made unique with a numeric suffix."""
    base = re.sub(r"[^A-Z0-9]", "", name.upper())[:36] or "ORG"
    taken = OrganizationPage.objects.filter(org_key__startswith=base).values_list(
        "org_key", flat=True
    )
    return _first_free(base, set(taken), separator="")


def unique_child_slug(parent: Page, title: str) -> str:
    """A slug for a new child of ``parent``: the slugified title, numbered if already taken."""
    base = slugify(title)[:240] or "page"
    taken = parent.get_children().filter(slug__startswith=base).values_list("slug", flat=True)
    return _first_free(base, set(taken), separator="-")


def _first_free(base: str, taken: set[str], *, separator: str) -> str:
    """``base`` if it is not taken, else ``base`` numbered from 2 (``<base><separator><n>``)."""
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}{separator}{number}", number + 1
    return candidate


def checked_name(name: str, *, others) -> str:
    """The organization name, stripped; refused when empty or used by one of ``others``."""
    name = name.strip()
    if not name:
        raise OrganizationConflict("The organization name must not be empty")
    if others.filter(title=name).exists():
        raise OrganizationConflict(f"An organization named {name!r} already exists")
    return name


def checked_org_key(org_key: str, *, others) -> str:
    """The org key in upper case; refused when malformed or used by one of ``others``."""
    org_key = org_key.strip().upper()
    if not ORG_KEY_RE.match(org_key):
        raise OrganizationConflict(
            f"Invalid org key {org_key!r}: use 1 to 40 upper-case letters, digits, '_' or '-'"
        )
    if others.filter(org_key=org_key).exists():
        raise OrganizationConflict(f"The org key {org_key!r} is already in use")
    return org_key


@transaction.atomic
def create_organization(*, name: str, org_key: str | None = None) -> OrganizationPage:
    name = checked_name(name, others=OrganizationPage.objects.all())
    if org_key is None:
        org_key = derive_org_key(name)
    else:
        org_key = checked_org_key(org_key, others=OrganizationPage.objects.all())
    index = ensure_organizations_index().index
    return index.add_child(
        instance=OrganizationPage(title=name, slug=unique_child_slug(index, name), org_key=org_key)
    )
