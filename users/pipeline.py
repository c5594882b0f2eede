"""social-auth pipeline steps for OpenID Connect (Keycloak) sign-in.

Thin steps: they read the provider's claims and call the account services. A refused sign-in
ends the pipeline with a page saying why (HTTP 403); nobody is signed in.
"""

from django.conf import settings
from django.shortcuts import render

from b2b.services.sso import attach_from_claim
from config.acting import Actor, Channel, acting
from users.exceptions import SsoAccountRefused
from users.services.sso_accounts import SsoIdentity, resolve_sso_account, sync_sso_profile


def _claims(backend, response) -> dict:
    """The validated ID token's claims, completed by the userinfo response."""
    return {**(getattr(backend, "id_token", None) or {}), **(response or {})}


def _identity(backend, uid, response) -> SsoIdentity:
    return SsoIdentity.from_claims(subject=uid, claims=_claims(backend, response))


def _refused(backend, exc: SsoAccountRefused):
    """The page that ends a refused sign-in (HTTP 403)."""
    request = backend.strategy.request
    return render(request, "users/sso_refused.html", {"message": str(exc)}, status=403)


def find_or_create_user(strategy, backend, uid, response, user=None, *args, **kwargs):
    """The account this identity signs in to (see users.services.sso_accounts)."""
    if user is not None:
        return {"user": user, "is_new": False}
    try:
        account = resolve_sso_account(identity=_identity(backend, uid, response))
    except SsoAccountRefused as exc:
        return _refused(backend, exc)
    return {"user": account.user, "is_new": account.is_new}


def update_user_from_claims(backend, uid, response, user=None, *args, **kwargs):
    """Keep the subject, e-mail and name in line with the identity provider."""
    if user is None:
        return None
    try:
        sync_sso_profile(user=user, identity=_identity(backend, uid, response))
    except SsoAccountRefused as exc:
        return _refused(backend, exc)
    return None


def attach_sso_contracts(backend, response, user=None, *args, **kwargs):
    if user is None:
        return
    claim = _claims(backend, response).get(settings.SOCIAL_AUTH_OIDC_ORGANIZATION_CLAIM)
    # Not signed in yet: the learner signing in is who joins (the audit trail's actor).
    with acting(Actor(channel=Channel.SSO, user=user)):
        attach_from_claim(user=user, claim=claim)
