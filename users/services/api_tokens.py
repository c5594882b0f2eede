"""API tokens for integrations (django-rest-knox): only staff accounts get one.

Knox stores a hash of each token, never the token itself: the token is shown once, when it is
made. A token expires after API_TOKEN_TTL_HOURS and can be revoked at any time.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from knox.models import AuthToken

from users.exceptions import ApiTokenRefused
from users.models import User


@dataclass(frozen=True)
class IssuedToken:
    user: User
    token: str  # the secret, shown once
    expiry: datetime | None  # None: never expires


def _staff_user(email: str) -> User:
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise ApiTokenRefused(f"No account has the e-mail address {email.strip()!r}")
    if not (user.is_staff and user.is_active):
        raise ApiTokenRefused(
            f"{user.email} is not an active staff account: API tokens are for staff"
        )
    return user


@transaction.atomic
def create_api_token(*, email: str) -> IssuedToken:
    user = _staff_user(email)
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
