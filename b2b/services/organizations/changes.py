"""Changing an organization's name, key, description or SSO organization id (the API's update).

The same checks as creation: a non-empty name nobody else uses, a valid key nobody else uses;
and an SSO organization id nobody else uses. The change is published as a new revision.
"""

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from b2b.exceptions import OrganizationConflict, OrganizationNotFound
from b2b.models import OrganizationPage
from b2b.services.audit import fields_of, record_change
from b2b.services.locking import lock_organization
from b2b.services.organizations.create import (
    checked_name,
    checked_org_key,
    lock_organizations_index,
)
from b2b.services.publishing import publishing_by_service
from users.models import User


@dataclass(frozen=True)
class OrganizationChange:
    """What to change; None leaves a field as it is, except ``sso_organization_id`` where
    ``clear_sso_organization_id`` removes it."""

    name: str | None = None
    org_key: str | None = None
    description: str | None = None
    sso_organization_id: str | None = None
    clear_sso_organization_id: bool = False


def get_organization(organization_id: int) -> OrganizationPage:
    organization = OrganizationPage.objects.filter(pk=organization_id).first()
    if organization is None:
        raise OrganizationNotFound(f"No organization has id {organization_id}")
    return organization


def _checked(organization: OrganizationPage, change: OrganizationChange) -> dict[str, Any]:
    others = OrganizationPage.objects.exclude(pk=organization.pk)
    values: dict[str, Any] = {}
    if change.name is not None:
        values["title"] = checked_name(change.name, others=others)
    if change.org_key is not None:
        values["org_key"] = checked_org_key(change.org_key, others=others)
    if change.description is not None:
        values["description"] = change.description
    if change.clear_sso_organization_id:
        values["sso_organization_id"] = None
    elif change.sso_organization_id is not None:
        sso_id = change.sso_organization_id.strip() or None
        if sso_id and others.filter(sso_organization_id=sso_id).exists():
            raise OrganizationConflict(
                f"The SSO organization id {sso_id!r} is used by another organization"
            )
        values["sso_organization_id"] = sso_id
    return values


@transaction.atomic
def update_organization(
    *, organization_id: int, change: OrganizationChange, by: User | None = None
) -> OrganizationPage:
    """Apply ``change`` and publish it as a new revision, by ``by`` when given (shown in
    Wagtail's history)."""
    # Renames and re-keys queue behind creations on the index, then the organization's row (the
    # lock order, docs/architecture.md), so two changes to one name or key cannot both pass.
    lock_organizations_index()
    organization = lock_organization(organization_id)
    values = _checked(organization, change)
    if not values:
        return organization
    before = fields_of(organization)
    for name, value in values.items():
        setattr(organization, name, value)
    # The entry point authorized the change; Wagtail's page permissions are for its editor.
    revision = organization.save_revision(user=by, clean=False)
    with publishing_by_service(organization.pk):  # recorded below
        revision.publish(user=by, skip_permission_checks=True)
    organization.refresh_from_db()
    record_change(organization, "b2b.organization.change", before=before)
    return organization
