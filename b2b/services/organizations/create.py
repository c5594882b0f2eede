"""Organizations: look-up by name, key or id, and creation with a derived key and slug.

Names are compared as ``b2b.naming.name_key`` does: "acme  UNIVERSITY" is the name of "Acme
University", so it finds it and never creates a second one (the database refuses two
organizations with one name key). Creations take the Organizations index's row lock first, so
commands creating the same new organization at the same time make one, and the others use it.
"""

import re
from dataclasses import dataclass
from typing import Literal

from django.db import transaction
from django.utils.text import slugify
from wagtail.models import Page

from b2b.exceptions import OrganizationConflict, OrganizationExists, OrganizationNotFound
from b2b.models import OrganizationPage, OrganizationQuerySet
from b2b.naming import ascii_text, name_too_long
from b2b.services.audit import record_creation
from b2b.services.organizations.index import ensure_organizations_index
from b2b.services.publishing import give_live_revision
from b2b.validators import ORG_KEY_RE
from users.models import User

# How an identifier found its organization.
MatchedBy = Literal["name", "similar name", "key", "id", "created"]


@dataclass(frozen=True)
class OrganizationMatch:
    organization: OrganizationPage
    matched_by: MatchedBy

    @property
    def created(self) -> bool:
        return self.matched_by == "created"


def match_organization(identifier: str) -> OrganizationMatch | None:
    """The organization ``identifier`` names: by exact name, then by name up to case and
    spacing, then by org key, then by numeric id; None when there is none."""
    exact = OrganizationPage.objects.filter(title=identifier).order_by("pk").first()
    if exact is not None:
        return OrganizationMatch(exact, "name")
    similar = OrganizationPage.objects.named(identifier).first()
    if similar is not None:
        return OrganizationMatch(similar, "similar name")
    keyed = OrganizationPage.objects.filter(org_key=identifier.strip().upper()).first()
    if keyed is not None:
        return OrganizationMatch(keyed, "key")
    if identifier.strip().isdigit():
        by_id = OrganizationPage.objects.filter(pk=int(identifier)).first()
        if by_id is not None:
            return OrganizationMatch(by_id, "id")
    return None


def find_organization(identifier: str) -> OrganizationPage:
    """The organization ``identifier`` names (see ``match_organization``); raises
    OrganizationNotFound."""
    match = match_organization(identifier)
    if match is None:
        raise _not_found(identifier)
    return match.organization


def _not_found(identifier: str) -> OrganizationNotFound:
    return OrganizationNotFound(f"No organization is named or keyed {identifier!r}")


@transaction.atomic
def resolve_organization(
    *, identifier: str, create: bool, org_key: str | None = None
) -> OrganizationMatch:
    """The organization ``identifier`` names; with ``create``, a new one of that name when there
    is none. An ``org_key`` must be the key of the organization found.

    Raises OrganizationNotFound (none, and not ``create``) and OrganizationConflict.
    """
    match = match_organization(identifier)
    if match is None:
        if not create:
            raise _not_found(identifier)
        try:
            match = OrganizationMatch(
                create_organization(name=identifier, org_key=org_key), "created"
            )
        except OrganizationExists as exists:  # made by someone else since the look-up
            twin = exists.organization
            match = OrganizationMatch(twin, "name" if twin.title == identifier else "similar name")
    organization = match.organization
    if org_key and organization.org_key != org_key.strip().upper():
        raise OrganizationConflict(
            f"Organization {organization.title!r} already exists with key "
            f"{organization.org_key}, not {org_key.strip().upper()}"
        )
    return match


def derive_org_key(name: str) -> str:
    """Upper-case letters and digits of ``name`` transliterated to ASCII, made unique with a
    numeric suffix."""
    base = re.sub(r"[^A-Z0-9]", "", ascii_text(name).upper())[:36] or "ORG"
    taken = OrganizationPage.objects.filter(org_key__startswith=base).values_list(
        "org_key", flat=True
    )
    return _first_free(base, set(taken), separator="")


def unique_child_slug(parent: Page, title: str) -> str:
    """A slug for a new child of ``parent``: the title transliterated to ASCII and slugified,
    numbered if already taken."""
    base = slugify(ascii_text(title))[:240] or "page"
    taken = parent.get_children().filter(slug__startswith=base).values_list("slug", flat=True)
    return _first_free(base, set(taken), separator="-")


def _first_free(base: str, taken: set[str], *, separator: str) -> str:
    """``base`` if it is not taken, else ``base`` numbered from 2 (``<base><separator><n>``)."""
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}{separator}{number}", number + 1
    return candidate


def checked_name(name: str, *, others: OrganizationQuerySet) -> str:
    """The organization name, stripped; refused when empty, too long, or the same name (up to
    case and spacing) as one of ``others`` (OrganizationExists carries that organization)."""
    name = name.strip()
    if not name:
        raise OrganizationConflict("The organization name must not be empty")
    if problem := name_too_long(name, what="organization"):
        raise OrganizationConflict(problem)
    twin = others.named(name).first()
    if twin is not None:
        raise OrganizationExists(
            f"An organization named {twin.title!r} already exists (id {twin.pk})",
            organization=twin,
        )
    return name


def checked_org_key(org_key: str, *, others: OrganizationQuerySet) -> str:
    """The org key in upper case; refused when malformed or used by one of ``others``."""
    org_key = org_key.strip().upper()
    if not ORG_KEY_RE.match(org_key):
        raise OrganizationConflict(
            f"Invalid org key {org_key!r}: use 1 to 40 upper-case letters, digits, '_' or '-'"
        )
    if others.filter(org_key=org_key).exists():
        raise OrganizationConflict(f"The org key {org_key!r} is already in use")
    return org_key


def lock_organizations_index() -> Page:
    """Lock the Organizations index page: creations and renames of organizations queue here,
    one at a time, so a name or key check sees what the one before committed (treebeard's
    add_child locks the index row too, but only after the name, key and slug were chosen).
    First in the lock order, before any organization or contract row."""
    index = ensure_organizations_index().index
    Page.objects.select_for_update().get(pk=index.pk)
    return index


@transaction.atomic
def create_organization(
    *, name: str, org_key: str | None = None, by: User | None = None
) -> OrganizationPage:
    """A new organization named ``name`` under the Organizations index.

    Raises OrganizationConflict for an empty or too long name or a bad or taken key, and
    OrganizationExists when an organization has this name up to case and spacing.
    """
    index = lock_organizations_index()
    name = checked_name(name, others=OrganizationPage.objects.all())
    if org_key is None:
        org_key = derive_org_key(name)
    else:
        org_key = checked_org_key(org_key, others=OrganizationPage.objects.all())
    organization = index.add_child(
        instance=OrganizationPage(
            title=name, slug=unique_child_slug(index, name), org_key=org_key, owner=by
        )
    )
    give_live_revision(organization)  # live from the start, as Wagtail's history should know
    record_creation(organization, "b2b.organization.create")
    return organization
