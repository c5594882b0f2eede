"""API tokens for integrations (django-rest-knox): only staff accounts and organization
managers (for the manager API, /api/v1/manager/) get one; a token grants what its account may
do, nothing more.

Knox stores a hash of each token, never the token itself: the token is shown once, when it is
made. A token expires after API_TOKEN_TTL_HOURS and can be revoked at any time.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from knox.models import AuthToken

from b2b.services.invitations.managers import managed_organizations
from users.exceptions import ApiTokenRefused
from users.models import User


@dataclass(frozen=True)
class IssuedToken:
    user: User
    token: str  # the secret, shown once
    expiry: datetime | None  # None: never expires


def _token_holder(email: str) -> User:
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise ApiTokenRefused(f"No account has the e-mail address {email.strip()!r}")
    if not user.is_active or not (user.is_staff or managed_organizations(user).exists()):
        raise ApiTokenRefused(
            f"{user.email} is neither an active staff account nor an organization manager: "
            "API tokens are for staff and managers"
        )
    return user


@transaction.atomic
def create_api_token(*, email: str) -> IssuedToken:
    user = _token_holder(email)
    instance, token = AuthToken.objects.create(user=user)
    return IssuedToken(user=user, token=token, expiry=instance.expiry)


@transaction.atomic
def revoke_api_tokens(*, email: str) -> int:
    """Revoke every token of the account; returns how many there were."""
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise ApiTokenRefused(f"No account has the e-mail address {email.strip()!r}")
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted
