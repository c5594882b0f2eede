"""social-auth pipeline steps for OpenID Connect (Keycloak) sign-in."""

from django.conf import settings
from django.contrib.auth import get_user_model

from b2b.services.sso import attach_from_claim


def _claims(backend, response) -> dict:
    """The validated ID token's claims, completed by the userinfo response."""
    return {**(getattr(backend, "id_token", None) or {}), **(response or {})}


def find_or_create_user(backend, uid, response, user=None, *args, **kwargs):
    """Find the learner by their SSO subject, then by e-mail; create them if new."""
    if user is not None:
        return {"user": user, "is_new": False}
    claims = _claims(backend, response)
    email = (claims.get("email") or "").strip()
    if not email:
        raise ValueError("The identity provider sent no e-mail address")
    model = get_user_model()
    found = (
        model.objects.filter(global_id=uid).first()
        or model.objects.filter(email__iexact=email).first()
    )
    if found is not None:
        return {"user": found, "is_new": False}
    created = model.objects.create_user(email=email, global_id=uid, name=claims.get("name", ""))
    return {"user": created, "is_new": True}


def update_user_from_claims(backend, uid, response, user=None, *args, **kwargs):
    """Keep the subject, e-mail and name in line with the identity provider."""
    if user is None:
        return
    claims = _claims(backend, response)
    changed = []
    for field, value in (
        ("global_id", uid),
        ("email", claims.get("email")),
        ("name", claims.get("name")),
    ):
        if value and getattr(user, field) != value:
            setattr(user, field, value)
            changed.append(field)
    if changed:
        user.save(update_fields=changed)


def attach_sso_contracts(backend, response, user=None, *args, **kwargs):
    if user is None:
        return
    claim = _claims(backend, response).get(settings.SOCIAL_AUTH_OIDC_ORGANIZATION_CLAIM)
    attach_from_claim(user=user, claim=claim)
