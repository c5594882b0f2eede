"""Which local account a single sign-on identity signs in to, and what it may change on it.

The identity provider's subject (``sub``) is the identity. An identity already linked to an
account (its subject is the account's ``global_id``) signs in to that account. Otherwise, an
account with the same e-mail address (any case) is linked only when the provider asserts
``email_verified`` and the account is a learner's: staff and superuser accounts are never linked
automatically, nor an account already linked to another subject. With no such account, a new
learner account is created.
"""

import logging
from dataclasses import dataclass

from django.contrib.auth import get_user_model

from config.text import has_nul
from users.exceptions import SsoAccountRefused
from users.models import User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SsoIdentity:
    """What the provider says about the person signing in."""

    subject: str
    email: str
    email_verified: bool
    name: str = ""

    @classmethod
    def from_claims(cls, *, subject: str, claims: dict) -> "SsoIdentity":
        # Providers send a JSON boolean; a few send the string "true".
        verified = claims.get("email_verified")
        return cls(
            subject=subject,
            email=str(claims.get("email") or "").strip(),
            email_verified=verified is True or str(verified).lower() == "true",
            name=str(claims.get("name") or ""),
        )


@dataclass(frozen=True)
class SsoAccount:
    user: User
    is_new: bool


def _refuse(identity: SsoIdentity, message: str, reason: str) -> SsoAccountRefused:
    log.warning("Single sign-on refused for subject %s: %s", identity.subject, reason)
    return SsoAccountRefused(message)


def _refuse_unstorable(identity: SsoIdentity) -> None:
    """A claim the database cannot store (a NUL character) refuses the sign-in, naming it."""
    for what, value in (
        ("subject", identity.subject),
        ("e-mail address", identity.email),
        ("name", identity.name),
    ):
        if has_nul(value):
            raise _refuse(
                identity,
                f"Your organization's sign-in service sent a {what} with a NUL character, which "
                "this site cannot store. Ask your organization's IT support to correct it.",
                f"NUL character in the {what} claim",
            )


def resolve_sso_account(*, identity: SsoIdentity) -> SsoAccount:
    """The account ``identity`` signs in to, created when there is none.

    Raises ``SsoAccountRefused`` when the identity points at an account it may not take over,
    or sends a claim the database cannot store.
    """
    _refuse_unstorable(identity)
    if not identity.email:
        raise _refuse(
            identity,
            "Your organization's sign-in service did not send an e-mail address, which this "
            "site needs. Ask your organization's IT support to share it.",
            "no e-mail address",
        )
    model = get_user_model()
    linked = model.objects.filter(global_id=identity.subject).first()
    if linked is not None:
        return SsoAccount(user=linked, is_new=False)
    existing = model.objects.filter(email__iexact=identity.email).first()
    if existing is None:
        created = model.objects.create_user(
            email=identity.email, global_id=identity.subject, name=identity.name
        )
        return SsoAccount(user=created, is_new=True)
    if existing.is_staff or existing.is_superuser:
        raise _refuse(
            identity,
            f"The e-mail address {identity.email} belongs to a staff account, which is never "
            "linked to single sign-on automatically. Sign in with your password instead.",
            f"account {existing.pk} is a staff account",
        )
    if not identity.email_verified:
        raise _refuse(
            identity,
            f"An account with the e-mail address {identity.email} already exists here, and your "
            "organization's sign-in service has not confirmed that this address is yours. Sign "
            "in with your password, or ask your organization to verify your e-mail address.",
            f"e-mail of account {existing.pk} not verified by the provider",
        )
    if existing.global_id:
        raise _refuse(
            identity,
            f"The account with the e-mail address {identity.email} is already linked to another "
            "single sign-on identity. Contact support to have it moved.",
            f"account {existing.pk} is linked to another subject",
        )
    return SsoAccount(user=existing, is_new=False)


def sync_sso_profile(*, user: User, identity: SsoIdentity) -> None:
    """Keep the account's subject, name and e-mail in line with the provider.

    The e-mail address follows the provider only when it is verified and no other account uses
    it: password resets go to that address. Raises ``SsoAccountRefused`` for a claim the
    database cannot store.
    """
    _refuse_unstorable(identity)
    changed = []
    if user.global_id != identity.subject:
        user.global_id = identity.subject
        changed.append("global_id")
    if identity.name and user.name != identity.name:
        user.name = identity.name
        changed.append("name")
    email = get_user_model().objects.normalize_email(identity.email)
    if (
        email
        and identity.email_verified
        and user.email != email
        and not get_user_model().objects.filter(email__iexact=email).exclude(pk=user.pk).exists()
    ):
        user.email = email
        changed.append("email")
    if changed:
        user.save(update_fields=changed)
