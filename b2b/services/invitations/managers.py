"""The manager role: users who manage an organization's contracts (customer-side training leads).

One owner of "may this user manage this organization / contract?": ``can_manage`` and
``can_manage_contract``, and of "which organizations does this user manage?":
``managed_organizations``. Every manager entry point (the /manage/ pages, /api/v1/manager/)
asks them; nothing else grants access. The role gives no staff powers.

Granting and removing the role (staff: the command line, the Django admin's user page,
Wagtail's organization page) go through ``grant_manager`` and ``revoke_manager``, which record
the change in the organization's audit trail.
"""

from django.db import transaction

from b2b.exceptions import NotAManager, UserNotFound
from b2b.models import ContractPage, OrganizationManager, OrganizationPage, OrganizationQuerySet
from b2b.services.audit import record
from users.models import User


def find_user(email: str) -> User:
    """The user whose e-mail address is ``email`` (any case); raises UserNotFound."""
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise UserNotFound(f"No user has the e-mail address {email.strip()!r}")
    return user


def managed_organizations(user: User) -> OrganizationQuerySet:
    """The organizations ``user`` manages, by name (none for an anonymous user)."""
    if not getattr(user, "is_authenticated", False):
        return OrganizationPage.objects.none()
    return OrganizationPage.objects.filter(managers__user=user).order_by("title", "pk")


def can_manage(user: User, organization: OrganizationPage) -> bool:
    """Whether ``user`` holds the manager role for ``organization`` (one query)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return OrganizationManager.objects.filter(user=user, organization_id=organization.pk).exists()


def can_manage_contract(user: User, contract: ContractPage) -> bool:
    """Whether ``user`` manages the contract's organization (one query)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return OrganizationManager.objects.filter(
        user=user, organization__path=contract.organization_path
    ).exists()


def check_can_manage_contract(user: User, contract: ContractPage) -> None:
    """Raise NotAManager unless ``user`` manages the contract's organization."""
    if not can_manage_contract(user, contract):
        raise NotAManager(f"You do not manage the organization of contract {contract.pk}")


@transaction.atomic
def grant_manager(
    *, user: User, organization: OrganizationPage, granted_by: User | None = None
) -> tuple[OrganizationManager, bool]:
    """Make ``user`` a manager of ``organization``; returns the role and whether it is new.
    Granting it again changes nothing."""
    role, created = OrganizationManager.objects.get_or_create(
        user=user, organization=organization, defaults={"granted_by": granted_by}
    )
    if created:
        record(
            organization,
            "b2b.manager.grant",
            details={"user_id": user.pk, "email": user.email},
        )
    return role, created


@transaction.atomic
def revoke_manager(*, user: User, organization: OrganizationPage) -> None:
    """Take the manager role for ``organization`` from ``user``; raises NotAManager when they
    do not hold it."""
    deleted, _ = OrganizationManager.objects.filter(user=user, organization=organization).delete()
    if not deleted:
        raise NotAManager(f"{user.email} does not manage {organization.title}")
    record(
        organization,
        "b2b.manager.revoke",
        details={"user_id": user.pk, "email": user.email},
    )
