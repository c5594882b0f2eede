"""A manager's choice of the weekly progress digest, per organization they manage."""

from __future__ import annotations

from b2b.models import OrganizationManager


def set_digest(role: OrganizationManager, *, wants: bool) -> None:
    """Record whether the manager of ``role`` wants the weekly digest of its organization.
    Only that role's row changes: the same user's roles elsewhere keep their choice."""
    OrganizationManager.objects.filter(pk=role.pk).update(wants_digest=wants)
    role.wants_digest = wants
